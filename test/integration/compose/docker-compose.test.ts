/**
 * The real docker-compose 1.29 (Python, docker-py) against the wharf daemon, on the same project as the
 * wharf compose test: a built image, a named volume with env from .env, a service waiting for another to be
 * healthy and reaching it by name; up -d, ps, logs, exec, a change, scale and down -v. Skipped when
 * docker-compose is not installed (`apt-get install docker-compose`).
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
import { writeProject } from "./project.ts";

const DOCKER_COMPOSE = "/usr/bin/docker-compose";
const skip = !existsSync(DOCKER_COMPOSE) && "docker-compose is not installed";
const NAME = "dc129";

let d: TestDaemon;
let dir: string;

/**
 * Runs docker-compose. exec goes through docker-py (COMPOSE_INTERACTIVE_NO_CLI); run goes through the
 * docker CLI as by default, since docker-py's run starts the container before attaching and can miss
 * early output on any engine.
 */
async function dc(args: string[], opts: { cli?: boolean } = {}) {
  const r = await exec(
    DOCKER_COMPOSE,
    ["-p", NAME, "--project-directory", dir, "-f", join(dir, "compose.yaml"), ...args],
    {
      env: { DOCKER_HOST: d.host, ...(opts.cli ? {} : { COMPOSE_INTERACTIVE_NO_CLI: "1" }) },
      timeoutMs: 120_000,
    },
  );
  assert.equal(r.code, 0, `docker-compose ${args.join(" ")}:\n${r.stderr}\n${d.output().slice(-2000)}`);
  return r;
}

interface Listed {
  Id: string;
  Names: string[];
  State: string;
  Labels: Record<string, string>;
}

async function containers(): Promise<Listed[]> {
  const all = await api<Listed[]>(d, "GET", "/containers/json?all=1");
  return all.sort((a, b) => a.Names[0].localeCompare(b.Names[0]));
}

async function logsUntil(re: RegExp): Promise<string> {
  let out = "";
  for (let i = 0; i < 100 && !re.test(out); i++) {
    if (i > 0) await new Promise((r) => setTimeout(r, 50));
    out = (await dc(["logs", "--no-color"])).stdout;
  }
  assert.match(out, re);
  return out;
}

describe("docker-compose 1.29 against wharf", { skip, concurrency: false }, () => {
  before(async () => {
    d = await startDaemon({ name: "dc129" });
    await importBusybox(d);
    dir = await mkdtemp(join(tmpdir(), "wharf-dc129-"));
    await writeProject(dir);
  });

  after(async () => {
    await d?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("up -d builds, waits for db to be healthy and starts everything", async () => {
    const up = await dc(["up", "-d"]);
    assert.match(up.stderr, new RegExp(`Creating network "${NAME}_default"`));
    assert.match(up.stderr, new RegExp(`Creating volume "${NAME}_data"`));
    const img = await api<{ Config: { Labels: Record<string, string> } }>(
      d,
      "GET",
      `/images/${NAME}_app/json`,
    );
    assert.equal(img.Config.Labels["shop.built"], "yes");
    assert.deepEqual(
      (await containers()).map((c) => `${c.Names[0]}:${c.State}`),
      [`/${NAME}_app_1:running`, `/${NAME}_db_1:running`, `/${NAME}_init_1:exited`, `/${NAME}_web_1:running`],
    );
    const db = await api<{ State: { Health: { Status: string } } }>(
      d,
      "GET",
      `/containers/${NAME}_db_1/json`,
    );
    assert.equal(db.State.Health.Status, "healthy");
  });

  it("ps, logs, exec, labels, network and volume names", async () => {
    const ps = await dc(["ps"]);
    assert.match(ps.stdout, new RegExp(`${NAME}_db_1 .* Up \\(healthy\\)`));
    assert.match(ps.stdout, new RegExp(`${NAME}_web_1 .* Up`));
    assert.match(ps.stdout, new RegExp(`${NAME}_init_1 .* Exit 0`));
    const logs = await logsUntil(/web_1 +\| web got seeded/);
    assert.match(logs, /web_1 +\| hello from web world/);
    assert.match(logs, /app_1 +\| vanilla/);
    assert.equal((await dc(["exec", "-T", "db", "sh", "-c", "echo $DB_MODE"])).stdout, "primary\n");
    assert.equal((await dc(["exec", "-T", "app", "cat", "/version"])).stdout, "v1\n");
    assert.equal(
      (await dc(["exec", "-T", "app", "ls", "-A", "/ctx"])).stdout,
      ".dockerignore\ndocker\nversion\n",
    );
    assert.match((await dc(["exec", "-T", "web", "nslookup", "db"])).stdout, /Name:\s+db/);
    const web = await api<{
      Config: { Labels: Record<string, string> };
      NetworkSettings: { Networks: Record<string, { Aliases?: string[] }> };
      Mounts: { Name?: string }[];
    }>(d, "GET", `/containers/${NAME}_web_1/json`);
    assert.equal(web.Config.Labels["com.docker.compose.project"], NAME);
    assert.equal(web.Config.Labels["com.docker.compose.service"], "web");
    assert.deepEqual(Object.keys(web.NetworkSettings.Networks), [`${NAME}_default`]);
    assert.ok(web.NetworkSettings.Networks[`${NAME}_default`].Aliases?.includes("web"));
    const db = await api<{ Mounts: { Name?: string; Destination: string }[] }>(
      d,
      "GET",
      `/containers/${NAME}_db_1/json`,
    );
    assert.deepEqual(
      db.Mounts.map((m) => `${m.Name}:${m.Destination}`),
      [`${NAME}_data:/data`],
    );
    // wharf compose sees the same project through the labels docker-compose set.
    const out = new PassThrough();
    let text = "";
    out.on("data", (c: Buffer) => {
      text += c;
    });
    const code = await runCompose(["-p", NAME, "ps", "-a", "--services"], {
      out,
      err: new PassThrough(),
      cwd: dir,
      env: { WHARF_HOST: d.host },
    });
    assert.equal(code, 0);
    assert.equal(text, "app\ndb\ninit\nweb\n");
  });

  it("a changed service alone is recreated; scale adds containers", async () => {
    const before = await containers();
    await writeFile(join(dir, ".env"), "GREETING=again\nDB_MODE=primary\n");
    const up = await dc(["up", "-d"]);
    assert.match(up.stderr, new RegExp(`Recreating ${NAME}_web_1`));
    const after = await containers();
    const id = (cs: Listed[], n: string) => cs.find((c) => c.Names[0] === n)?.Id;
    assert.notEqual(id(after, `/${NAME}_web_1`), id(before, `/${NAME}_web_1`));
    for (const n of ["app", "db", "init"]) {
      assert.equal(id(after, `/${NAME}_${n}_1`), id(before, `/${NAME}_${n}_1`), n);
    }
    assert.equal((await dc(["exec", "-T", "web", "sh", "-c", "echo $GREETING"])).stdout, "again\n");
    // A changed build context rebuilds through POST /build and recreates app alone.
    await writeFile(join(dir, "app/version"), "v2\n");
    const build = await dc(["up", "-d", "--build"]);
    assert.match(build.stderr, new RegExp(`Recreating ${NAME}_app_1`));
    assert.doesNotMatch(build.stderr, /Recreating .*_(db|web)_1/);
    assert.equal((await dc(["exec", "-T", "app", "cat", "/version"])).stdout, "v2\n");
    await dc(["up", "-d", "--scale", "web=2"]);
    assert.equal((await containers()).find((c) => c.Names[0] === `/${NAME}_web_2`)?.State, "running");
  });

  it("run --rm, stop and start", async () => {
    const run = await dc(["run", "--rm", "-T", "web", "sh", "-c", "nc db 5432"], { cli: true });
    assert.equal(run.stdout, "seeded\n", run.stderr);
    await dc(["stop", "-t", "1", "web"]);
    assert.equal((await containers()).find((c) => c.Names[0] === `/${NAME}_web_1`)?.State, "exited");
    await dc(["start", "web"]);
    assert.equal((await containers()).find((c) => c.Names[0] === `/${NAME}_web_1`)?.State, "running");
    assert.equal(
      (await containers()).some((c) => c.Labels["com.docker.compose.oneoff"] === "True"),
      false,
    );
  });

  it("down -v leaves nothing behind", async () => {
    await dc(["down", "-v", "-t", "1"]);
    assert.deepEqual(await containers(), []);
    const nets = await api<{ Name: string }[]>(d, "GET", "/networks");
    assert.equal(
      nets.some((n) => n.Name.startsWith(`${NAME}_`)),
      false,
    );
    const vols = await api<{ Volumes: { Name: string }[] | null }>(d, "GET", "/volumes");
    assert.deepEqual(vols.Volumes ?? [], []);
  });
});
