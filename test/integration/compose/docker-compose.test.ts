// biome-ignore-all lint/suspicious/noTemplateCurlyInString: Compose templates in test files
/**
 * The real docker-compose 1.29 (Python, docker-py) against the wharf daemon: a project with a volume,
 * env from .env and depends_on through up -d, ps, logs, exec and down -v. Skipped when it is not installed
 * (`apt-get install docker-compose`).
 */
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PassThrough } from "node:stream";
import { after, before, describe, it } from "node:test";
import { runCompose } from "../../../src/compose/index.ts";
import { api, exec, importBusybox, startDaemon, type TestDaemon } from "../../helpers/daemon.ts";

const DOCKER_COMPOSE = "/usr/bin/docker-compose";
const skip = !existsSync(DOCKER_COMPOSE) && "docker-compose is not installed";

let d: TestDaemon;
let dir: string;

function dc(args: string[]) {
  return exec(
    DOCKER_COMPOSE,
    ["-p", "dc129", "--project-directory", dir, "-f", join(dir, "compose.yaml"), ...args],
    {
      env: { DOCKER_HOST: d.host, COMPOSE_INTERACTIVE_NO_CLI: "1" },
      timeoutMs: 120_000,
    },
  );
}

describe("docker-compose 1.29 against wharf", { skip, concurrency: false }, () => {
  before(async () => {
    d = await startDaemon({ name: "dc129" });
    await importBusybox(d);
    dir = await mkdtemp(join(tmpdir(), "wharf-dc129-"));
    await writeFile(
      join(dir, "compose.yaml"),
      [
        "version: '3.8'",
        "services:",
        "  db:",
        "    image: busybox",
        '    command: ["sh", "-c", "echo db up; exec sleep 1000"]',
        "    volumes: [data:/data]",
        "    environment:",
        "      MODE: ${MODE}",
        "  web:",
        "    image: busybox",
        '    command: ["sh", "-c", "echo web up; exec sleep 1000"]',
        "    depends_on: [db]",
        "volumes:",
        "  data: {}",
      ].join("\n"),
    );
    await writeFile(join(dir, ".env"), "MODE=from-dotenv\n");
  });

  after(async () => {
    await d?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("up -d, ps, logs, exec and down -v work", async () => {
    const name = "dc129";
    const up = await dc(["up", "-d"]);
    assert.equal(up.code, 0, up.stderr + d.output().slice(-2000));
    assert.match(up.stderr, new RegExp(`Creating network "${name}_default"`));
    const ps = await dc(["ps"]);
    assert.equal(ps.code, 0, ps.stderr);
    assert.match(ps.stdout, new RegExp(`${name}_db_1 .* Up`));
    assert.match(ps.stdout, new RegExp(`${name}_web_1 .* Up`));
    let logs = "";
    for (let i = 0; i < 50 && !logs.includes("web up"); i++) {
      logs = (await dc(["logs", "--no-color"])).stdout;
      if (!logs.includes("web up")) await new Promise((r) => setTimeout(r, 100));
    }
    assert.match(logs, /web_1 +\| web up/);
    const ex = await dc(["exec", "-T", "db", "sh", "-c", "echo $MODE"]);
    assert.equal(ex.stdout, "from-dotenv\n", ex.stderr);
    // wharf compose sees the same project through the labels docker-compose set.
    const out = new PassThrough();
    let text = "";
    out.on("data", (c: Buffer) => {
      text += c;
    });
    const code = await runCompose(["-p", name, "ps", "--services"], {
      out,
      err: new PassThrough(),
      cwd: dir,
      env: { WHARF_HOST: d.host },
    });
    assert.equal(code, 0);
    assert.equal(text, "db\nweb\n");
    const down = await dc(["down", "-v"]);
    assert.equal(down.code, 0, down.stderr);
    const left = await api<{ Names: string[] }[]>(d, "GET", "/containers/json?all=1");
    assert.deepEqual(left, []);
    const vols = await api<{ Volumes: { Name: string }[] | null }>(d, "GET", "/volumes");
    assert.equal(
      (vols.Volumes ?? []).some((v) => v.Name === `${name}_data`),
      false,
    );
  });
});
