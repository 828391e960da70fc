/** wharf's image distribution commands against a real daemon and wharf's registry, compared with docker's. */
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { bcryptHash } from "../../../src/registry/index.ts";
import {
  DOCKER,
  docker,
  exec,
  importBusybox,
  startDaemon,
  type TestDaemon,
  WHARF,
  wharf,
} from "../../helpers/daemon.ts";
import { startWharfRegistry, type TestRegistry } from "../distribution/registries.ts";
import { same } from "./same.ts";

let d: TestDaemon;
let reg: TestRegistry;
let secured: TestRegistry;
let work: string;

before(async () => {
  d = await startDaemon({ name: "cliimg" });
  await importBusybox(d);
  work = await mkdtemp(join(tmpdir(), "wcli-img-"));
  reg = await startWharfRegistry();
  await writeFile(join(work, "htpasswd"), `alice:${bcryptHash("s3cret", 5)}\n`);
  secured = await startWharfRegistry(["--htpasswd", join(work, "htpasswd")]);
});
after(async () => {
  await d?.stop();
  await reg?.stop();
  await secured?.stop();
  if (work) await rm(work, { recursive: true, force: true });
});

/** wharf with its own config directory (credentials). */
function wharfCfg(args: string[], input?: string) {
  return exec(WHARF, args, { env: { WHARF_HOST: d.host, WHARF_CONFIG: join(work, "wharf-config") }, input });
}

describe("image commands", { skip: !existsSync(DOCKER) }, () => {
  test("push, then pull prints what docker prints", async () => {
    const ref = `${reg.host}/bb:v1`;
    assert.equal((await wharf(d, ["tag", "busybox", ref])).code, 0);
    const p = await wharf(d, ["push", ref]);
    assert.equal(p.code, 0, p.stderr);
    assert.match(p.stdout, new RegExp(`^The push refers to repository \\[${reg.host}/bb\\]\n`));
    assert.match(p.stdout, /^[0-9a-f]{12}: Pushed$/m);
    assert.match(p.stdout, /^v1: digest: sha256:[0-9a-f]{64} size: \d+\n$/m);
    await same(d, ["push", "-q", ref]);
    const pulls: string[] = [];
    for (const tool of [wharf, docker]) {
      assert.equal((await wharf(d, ["rmi", ref])).code, 0);
      const r = await tool(d, ["pull", ref]);
      assert.equal(r.code, 0, r.stderr);
      pulls.push(r.stdout);
    }
    assert.equal(pulls[0], pulls[1]);
    assert.match(pulls[0], new RegExp(`Status: .*\n${reg.host}/bb:v1\n$`));
    await wharf(d, ["tag", "busybox", `${reg.host}/bb:latest`]);
    await wharf(d, ["push", "-q", `${reg.host}/bb:latest`]);
    await same(d, ["pull", `${reg.host}/bb`]);
    await same(d, ["pull", "-q", `${reg.host}/bb:v1`]);
    await same(d, ["pull", `${reg.host}/nope:v1`]);
  });

  test("login stores credentials that push and pull send; logout removes them", async () => {
    const ref = `${secured.host}/private:v1`;
    await wharf(d, ["tag", "busybox", ref]);
    const denied = await wharfCfg(["push", ref]);
    assert.notEqual(denied.code, 0);
    const bad = await wharfCfg(["login", "-u", "alice", "--password-stdin", secured.host], "wrong\n");
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /^Error response from daemon: /);
    const ok = await wharfCfg(["login", "-u", "alice", "--password-stdin", secured.host], "s3cret\n");
    assert.equal(ok.code, 0, ok.stderr);
    assert.equal(ok.stdout, "Login Succeeded\n");
    const k = await docker(d, ["login", "-u", "alice", "--password-stdin", secured.host], {
      input: "s3cret\n",
    });
    assert.equal(ok.stdout, k.stdout);
    const cfg = JSON.parse(await readFile(join(work, "wharf-config", "config.json"), "utf8"));
    assert.equal(cfg.auths[secured.host].auth, Buffer.from("alice:s3cret").toString("base64"));
    const pushed = await wharfCfg(["push", ref]);
    assert.equal(pushed.code, 0, pushed.stderr);
    await wharf(d, ["rmi", ref]);
    const pulled = await wharfCfg(["pull", "-q", ref]);
    assert.equal(pulled.code, 0, pulled.stderr);
    assert.equal(pulled.stdout, `${ref}\n`);
    const out = await wharfCfg(["logout", secured.host]);
    assert.equal(out.stdout, `Removing login credentials for ${secured.host}\n`);
    assert.equal((await wharfCfg(["logout", secured.host])).stdout, `Not logged in to ${secured.host}\n`);
    const noUser = await wharfCfg(["login", "--password-stdin", secured.host], "x\n");
    assert.equal(noUser.stderr, "Must provide --username with --password-stdin\n");
    assert.equal(noUser.code, 1);
  });

  test("save -o, load -i and load from stdin", async () => {
    const tar = join(work, "bb.tar");
    const s = await wharf(d, ["save", "-o", tar, "busybox"]);
    assert.equal(s.code, 0, s.stderr);
    const t = await exec("tar", ["tf", tar]);
    assert.match(t.stdout, /^manifest\.json$/m);
    await same(d, ["load", "-i", tar]);
    await same(d, ["load", "-q", "-i", tar]);
    await same(d, ["load", "-i", join(work, "nope.tar")]);
    const piped = await exec("sh", ["-c", `${WHARF} load < ${tar}`], { env: { WHARF_HOST: d.host } });
    assert.equal(piped.stdout, "Loaded image: busybox:latest\n");
    await same(d, ["save", "nope:latest"], { map: (s) => s.replace(/^\0.*/s, "") });
  });

  test("history and image prune", async () => {
    await same(d, ["history", "busybox"], {
      map: (s) =>
        // Ages differ between two runs a second apart, and so do the column widths they set.
        s
          .replace(
            /\d+ (seconds?|minutes?|hours?|days?) ago|About an? \w+ ago|Less than a second ago/g,
            "AGO",
          )
          .replace(/ {2,}/g, "  "),
    });
    await same(d, [
      "history",
      "--no-trunc",
      "-H=false",
      "--format",
      "{{.ID}}|{{.CreatedBy}}|{{.Size}}",
      "busybox",
    ]);
    await same(d, ["history", "-q", "busybox"]);
    await same(d, ["history", "nope"]);
    await same(d, ["image", "prune", "-f"]);
    await same(d, ["image", "prune"], { input: "n\n" });
  });
});
