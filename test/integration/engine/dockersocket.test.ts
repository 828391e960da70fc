/**
 * The compatibility socket (issue 14): `--docker-socket PATH` serves the API on a second unix socket (for
 * tools that hard-code /var/run/docker.sock), with the main socket's mode; when another daemon already
 * answers there, wharf leaves it to that one and starts anyway. Tests use a socket path of their own.
 */
import assert from "node:assert/strict";
import { existsSync, statSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { api, DOCKER, exec, startDaemon, type TestDaemon } from "../../helpers/daemon.ts";

let dir: string;
let sock: string;
let first: TestDaemon;
let second: TestDaemon | undefined;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), "wt-dsock-"));
  sock = join(dir, "run/docker.sock");
  first = await startDaemon({ name: "dsock1", args: ["--docker-socket", sock] });
});
after(async () => {
  await second?.stop();
  await first?.stop();
  await rm(dir, { recursive: true, force: true });
});

test("the docker CLI reaches the daemon on the compatibility socket, which has the main socket's mode", async () => {
  const r = await exec(DOCKER, ["-H", `unix://${sock}`, "version", "--format", "{{.Server.Platform.Name}}"]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /wharf/);
  assert.equal(statSync(sock).mode & 0o777, statSync(first.socket).mode & 0o777);
});

test("a second daemon leaves a socket another daemon answers on, and starts anyway", async () => {
  second = await startDaemon({ name: "dsock2", args: ["--docker-socket", sock] });
  await second.waitForOutput(/not serving the docker socket/);
  const viaCompat = await exec("curl", ["-sf", "--unix-socket", sock, "http://docker/info"]);
  const firstInfo = await api<{ ID: string }>(first, "GET", "/info");
  assert.equal(JSON.parse(viaCompat.stdout).ID, firstInfo.ID);
  await second.stop();
  second = undefined;
  assert.ok(existsSync(sock), "the second daemon's stop left the first one's socket alone");
});

test("a stop removes the compatibility socket", async () => {
  await first.stop();
  assert.equal(existsSync(sock), false);
});
