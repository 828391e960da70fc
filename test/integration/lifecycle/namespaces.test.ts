/** `--ipc`, `--pid` of `host` and `container:<name>`, with the docker CLI, as dockerd runs them. */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { docker, importBusybox, startDaemon, type TestDaemon } from "../../helpers/daemon.ts";

let d: TestDaemon;

before(async () => {
  d = await startDaemon({ name: "ns-modes" });
  await importBusybox(d);
});

after(async () => {
  await d?.stop();
});

test("--pid and --ipc container:<name> join the other container's namespaces", async () => {
  assert.equal(
    (await docker(d, ["run", "-d", "--name", "owner", "--ipc", "shareable", "busybox", "sleep", "600"])).code,
    0,
  );
  const ps = await docker(d, ["run", "--rm", "--pid", "container:owner", "busybox", "ps", "-o", "pid,args"]);
  assert.equal(ps.code, 0, ps.stderr);
  assert.match(ps.stdout, /^\s*1 sleep 600$/m);
  const inode = async (args: string[]) =>
    (await docker(d, ["run", "--rm", ...args, "busybox", "readlink", "/proc/self/ns/ipc"])).stdout.trim();
  const owner = (await docker(d, ["exec", "owner", "readlink", "/proc/self/ns/ipc"])).stdout.trim();
  assert.equal(await inode(["--ipc", "container:owner"]), owner);
  assert.notEqual(await inode([]), owner);
  const missing = await docker(d, ["run", "--rm", "--ipc", "container:nosuch", "busybox", "true"]);
  assert.notEqual(missing.code, 0);
  assert.match(missing.stderr, /No such container: nosuch/);
});

test("--pid host sees the host's processes", async () => {
  const r = await docker(d, [
    "run",
    "--rm",
    "--pid",
    "host",
    "busybox",
    "sh",
    "-c",
    `test -d /proc/${process.pid} && echo seen`,
  ]);
  assert.equal(r.stdout, "seen\n");
});
