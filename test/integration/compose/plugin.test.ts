/**
 * wharf as the docker CLI's compose plugin (issue 14): the docker CLI finds bin/wharf-compose-plugin as
 * `docker-compose` in a cli-plugins directory, lists it, and `docker compose up/ps/logs/down` runs wharf
 * compose against the daemon the docker CLI names: its -H, DOCKER_HOST, or the docker context in use.
 */
import assert from "node:assert/strict";
import { mkdir, readlink, symlink, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, test } from "node:test";
import {
  api,
  DOCKER,
  dockerOk,
  exec,
  importBusybox,
  ROOT,
  startDaemon,
  type TestDaemon,
} from "../../helpers/daemon.ts";

let d: TestDaemon;
let project: string;
let config: string;

before(async () => {
  d = await startDaemon({ name: "plugin" });
  await importBusybox(d);
  // The docker() helper runs the CLI with DOCKER_CONFIG here: its cli-plugins dir is the user's plugin dir.
  config = join(d.dir, "docker-config");
  await mkdir(join(config, "cli-plugins"), { recursive: true });
  await symlink(join(ROOT, "bin/wharf-compose-plugin"), join(config, "cli-plugins/docker-compose"));
  project = join(d.dir, "proj");
  await mkdir(project);
  await writeFile(
    join(project, "compose.yaml"),
    [
      "services:",
      "  web:",
      "    image: busybox",
      '    command: ["sh", "-c", "echo web-says-hi; exec sleep 300"]',
      "  worker:",
      "    image: busybox",
      '    command: ["sleep", "300"]',
      "",
    ].join("\n"),
  );
});
after(async () => {
  await d?.stop();
});

/** A docker call that must succeed: its stdout. */
const ok = (args: string[]): Promise<string> => dockerOk(d, args, { timeoutMs: 60_000 });

test("the docker CLI lists wharf as its compose plugin, and docker compose version answers", async () => {
  assert.match(await ok(["--help"]), /compose\*\s+Docker Compose \(wharf\)/);
  assert.match(await ok(["compose", "version"]), /^wharf compose version v\d/);
});

test("docker compose up, ps, logs and down run a project on the daemon the CLI names with -H", async () => {
  const f = ["compose", "-f", join(project, "compose.yaml"), "-p", "plug"];
  await ok([...f, "up", "-d"]);
  const listed = await api<{ Labels: Record<string, string>; State: string }[]>(
    d,
    "GET",
    `/containers/json?filters=${encodeURIComponent(JSON.stringify({ label: ["com.docker.compose.project=plug"] }))}`,
  );
  assert.deepEqual(listed.map((c) => c.Labels["com.docker.compose.service"]).sort(), ["web", "worker"]);
  assert.match(await ok([...f, "ps"]), /plug-web-1[\s\S]*plug-worker-1|plug-worker-1[\s\S]*plug-web-1/);
  assert.match(await ok([...f, "logs", "web"]), /web-says-hi/);
  await ok([...f, "down", "-t", "0"]);
  assert.deepEqual(await api(d, "GET", "/containers/json?all=1"), []);
});

test("without -H the plugin follows DOCKER_HOST, then the docker context in use", async () => {
  const env = { DOCKER_CONFIG: config };
  const byEnv = await exec(DOCKER, ["compose", "-p", "none", "ls"], { env: { ...env, DOCKER_HOST: d.host } });
  assert.equal(byEnv.code, 0, byEnv.stderr);
  const made = await exec(DOCKER, ["context", "create", "wharf-test", "--docker", `host=${d.host}`], { env });
  assert.equal(made.code, 0, made.stderr);
  const f = ["compose", "-f", join(project, "compose.yaml"), "-p", "ctx"];
  const up = await exec(DOCKER, ["--context", "wharf-test", ...f, "up", "-d", "worker"], {
    env,
    timeoutMs: 60_000,
  });
  assert.equal(up.code, 0, up.stderr);
  assert.equal((await api<unknown[]>(d, "GET", "/containers/json")).length, 1);
  const used = await exec(DOCKER, ["context", "use", "wharf-test"], { env });
  assert.equal(used.code, 0, used.stderr);
  const down = await exec(DOCKER, [...f, "down", "-t", "0"], { env, timeoutMs: 60_000 });
  assert.equal(down.code, 0, down.stderr);
  assert.deepEqual(await api(d, "GET", "/containers/json?all=1"), []);
});

test("the set-up installs the plugin for every user of the docker CLI", {
  skip: process.getuid?.() !== 0,
}, async () => {
  const target = await readlink("/usr/local/lib/docker/cli-plugins/docker-compose").catch(() => "");
  assert.match(target, /\/bin\/wharf-compose-plugin$/, "scripts/setup.sh links the plugin");
});
