// biome-ignore-all lint/suspicious/noTemplateCurlyInString: Compose templates in test files
import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PassThrough } from "node:stream";
import { after, before, describe, it } from "node:test";
import { parse } from "yaml";
import { runCompose } from "../index.ts";

let dir: string;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), "wharf-compose-config-"));
  await writeFile(
    join(dir, "compose.yaml"),
    [
      "services:",
      "  web:",
      "    image: nginx:${TAG:-latest}",
      "    ports: ['8080:80']",
      "    volumes: [data:/data]",
      "    depends_on: [db]",
      "  db:",
      "    image: postgres",
      "  tools:",
      "    image: busybox",
      "    profiles: [debug]",
      "volumes:",
      "  data: {}",
    ].join("\n"),
  );
  await writeFile(
    join(dir, "bad.yaml"),
    "services:\n  web:\n    image: x\n    ports: [{target: 80, nope: 1}]\n",
  );
});

after(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function run(args: string[], env: Record<string, string> = {}) {
  const out = new PassThrough();
  const err = new PassThrough();
  let o = "";
  let e = "";
  out.on("data", (c: Buffer) => {
    o += c;
  });
  err.on("data", (c: Buffer) => {
    e += c;
  });
  const code = await runCompose(args, { out, err, cwd: dir, env });
  return { code, out: o, err: e };
}

describe("compose config", () => {
  it("prints the resolved model as YAML that reads back", async () => {
    const r = await run(["config"], { TAG: "1.27" });
    assert.equal(r.code, 0, r.err);
    const doc = parse(r.out);
    assert.equal(
      doc.name,
      dir
        .split("/")
        .pop()
        ?.toLowerCase()
        .replace(/[^a-z0-9_-]/g, ""),
    );
    assert.deepEqual(Object.keys(doc.services), ["db", "web"]);
    assert.equal(doc.services.web.image, "nginx:1.27");
    assert.deepEqual(doc.services.web.ports, [
      { mode: "ingress", target: 80, published: "8080", protocol: "tcp" },
    ]);
    assert.deepEqual(doc.services.web.depends_on, { db: { condition: "service_started", required: true } });
    assert.deepEqual(doc.services.web.volumes, [
      { type: "volume", source: "data", target: "/data", volume: {} },
    ]);
    assert.equal(doc.networks.default.name.endsWith("_default"), true);
    assert.deepEqual(Object.keys(doc), ["name", "services", "networks", "volumes"]);
  });

  it("lists services, volumes, profiles and hashes", async () => {
    assert.equal((await run(["config", "--services"])).out, "db\nweb\n");
    assert.equal((await run(["--profile", "debug", "config", "--services"])).out, "db\ntools\nweb\n");
    assert.equal((await run(["config", "--volumes"])).out, "data\n");
    assert.equal((await run(["config", "--profiles"])).out, "debug\n");
    assert.match((await run(["config", "--hash", "web"])).out, /^web [0-9a-f]{64}\n$/);
    assert.equal(
      (await run(["-p", "given", "config", "--format", "json"])).out.includes('"name": "given"'),
      true,
    );
    assert.equal((await run(["config", "-q"])).out, "");
  });

  it("exits 1 with docker compose's validation message", async () => {
    const r = await run(["-f", "bad.yaml", "config"]);
    assert.equal(r.code, 1);
    assert.equal(
      r.err,
      `validating ${join(dir, "bad.yaml")}: services.web.ports[0] additional properties 'nope' not allowed\n`,
    );
  });

  it("answers unknown commands and flags as usage errors", async () => {
    assert.match((await run(["frobnicate"])).err, /unknown docker command: "compose frobnicate"/);
    assert.match((await run(["config", "--bogus"])).err, /unknown flag: --bogus/);
    const help = await run(["--help"]);
    assert.equal(help.code, 0);
    assert.match(help.out, /Commands:\n[\s\S]*\n {2}up {10}Create and start containers/);
  });
});
