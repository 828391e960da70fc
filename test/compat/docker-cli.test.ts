/**
 * The real docker CLI against a wharf daemon: the engine core's scenarios, with the output, exit codes and
 * error texts docker users see.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { api, docker, importBusybox, startDaemon, type TestDaemon } from "../helpers/daemon.ts";

let d: TestDaemon;

before(async () => {
  d = await startDaemon({ name: "cli" });
  await importBusybox(d);
});
after(async () => {
  await d?.stop();
});

describe("docker CLI against wharf", () => {
  test("version and info", async () => {
    const v = await docker(d, ["version", "--format", "{{.Server.APIVersion}} {{.Server.Os}}"]);
    assert.equal(v.code, 0, v.stderr);
    assert.equal(v.stdout.trim(), "1.47 linux");
    const i = await docker(d, ["info", "--format", "{{.Driver}} {{.OSType}}"]);
    assert.equal(i.code, 0, i.stderr);
    assert.equal(i.stdout.trim(), "overlay2 linux");
  });

  test("run in the foreground: stdout, stderr and exit code", async () => {
    const r = await docker(d, ["run", "--rm", "busybox", "sh", "-c", "echo out; echo err >&2; exit 3"]);
    assert.equal(r.code, 3);
    assert.equal(r.stdout, "out\n");
    assert.equal(r.stderr, "err\n");
  });

  test("run -i pipes stdin, EOF ends it", async () => {
    const r = await docker(d, ["run", "--rm", "-i", "busybox", "sh", "-c", "cat; echo done"], {
      input: "hello\nworld\n",
    });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, "hello\nworld\ndone\n");
  });

  test("env, user, workdir, hostname and pid 1", async () => {
    const r = await docker(d, [
      "run",
      "--rm",
      "-e",
      "FOO=bar",
      "-u",
      "wharf",
      "-w",
      "/work/dir",
      "--hostname",
      "boxy",
      "busybox",
      "sh",
      "-c",
      'echo "$FOO $(id -u):$(id -g) $(pwd) $(hostname) $$"',
    ]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout.trim(), "bar 1000:1000 /work/dir boxy 1");
    const g = await docker(d, ["run", "--rm", "-u", "1000:1001", "busybox", "id"]);
    assert.match(g.stdout, /uid=1000.*gid=1001/);
    const bad = await docker(d, ["run", "--rm", "-u", "nosuchuser", "busybox", "true"]);
    assert.notEqual(bad.code, 0);
    assert.match(bad.stderr, /unable to find user nosuchuser/);
  });

  test("filesystem isolation between containers", async () => {
    const a = await docker(d, [
      "run",
      "--name",
      "iso-a",
      "busybox",
      "sh",
      "-c",
      "echo secret > /tmp/x; cat /tmp/x",
    ]);
    assert.equal(a.stdout, "secret\n");
    const b = await docker(d, ["run", "--rm", "busybox", "sh", "-c", "cat /tmp/x 2>&1 || echo missing"]);
    assert.match(b.stdout, /missing/);
    await docker(d, ["rm", "iso-a"]);
  });

  test("run -d, ps, logs, stop with timeout, wait, rm", async () => {
    const r = await docker(d, [
      "run",
      "-d",
      "--name",
      "bg",
      "busybox",
      "sh",
      "-c",
      "echo one; echo two; sleep 1000",
    ]);
    assert.equal(r.code, 0, r.stderr);
    const id = r.stdout.trim();
    assert.match(id, /^[0-9a-f]{64}$/);
    const ps = await docker(d, ["ps", "--format", "{{.Names}} {{.Status}}"]);
    assert.match(ps.stdout, /^bg Up /m);
    let logs = "";
    for (let i = 0; i < 50 && !logs.includes("two"); i++) {
      logs = (await docker(d, ["logs", "bg"])).stdout;
      if (!logs.includes("two")) await new Promise((res) => setTimeout(res, 100));
    }
    assert.equal(logs, "one\ntwo\n");
    const tail = await docker(d, ["logs", "--tail", "1", "bg"]);
    assert.equal(tail.stdout, "two\n");
    const ts = await docker(d, ["logs", "-t", "bg"]);
    assert.match(ts.stdout, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+Z one$/m);
    // sh as pid 1 ignores SIGTERM: stop must fall back to SIGKILL after the timeout.
    const t0 = Date.now();
    const stop = await docker(d, ["stop", "-t", "1", "bg"]);
    assert.equal(stop.code, 0, stop.stderr);
    assert.ok(Date.now() - t0 >= 900, "stop waited for the timeout");
    const w = await docker(d, ["wait", "bg"]);
    assert.equal(w.stdout.trim(), "137");
    const ps2 = await docker(d, ["ps", "-a", "--filter", "name=bg", "--format", "{{.Status}}"]);
    assert.match(ps2.stdout, /^Exited \(137\) /);
    const rm = await docker(d, ["rm", "bg"]);
    assert.equal(rm.code, 0, rm.stderr);
    assert.equal(rm.stdout.trim(), "bg");
  });

  test("rm of a running container needs -f", async () => {
    await docker(d, ["run", "-d", "--name", "running", "busybox", "sleep", "1000"]);
    const rm = await docker(d, ["rm", "running"]);
    assert.notEqual(rm.code, 0);
    assert.match(
      rm.stderr,
      /You cannot remove a running container [0-9a-f]{64}\. Stop the container before attempting removal or force remove/,
    );
    const rmf = await docker(d, ["rm", "-f", "running"]);
    assert.equal(rmf.code, 0, rmf.stderr);
    const ls = await docker(d, ["ps", "-a", "-q", "--filter", "name=running"]);
    assert.equal(ls.stdout.trim(), "");
  });

  test("name conflicts are Docker's error", async () => {
    await docker(d, ["create", "--name", "dup", "busybox", "true"]);
    const r = await docker(d, ["create", "--name", "dup", "busybox", "true"]);
    assert.notEqual(r.code, 0);
    const run = await docker(d, ["run", "--name", "dup", "busybox", "true"]);
    assert.equal(run.code, 125);
    assert.match(
      r.stderr,
      /Conflict\. The container name "\/dup" is already in use by container "[0-9a-f]{64}"/,
    );
    await docker(d, ["rm", "dup"]);
  });

  test("missing objects give Docker's texts", async () => {
    const rm = await docker(d, ["rm", "nope"]);
    assert.equal(rm.code, 1);
    assert.match(rm.stderr, /Error response from daemon: No such container: nope/);
    const insp = await docker(d, ["inspect", "nope"]);
    assert.equal(insp.code, 1);
    assert.match(insp.stderr, /Error: No such object: nope/);
    const img = await docker(d, ["image", "inspect", "nope:1"]);
    assert.match(img.stderr, /No such image: nope:1/);
    const run = await docker(d, ["run", "--rm", "busybox", "/no/such/binary"]);
    assert.equal(run.code, 127);
  });

  test("inspect of containers and images", async () => {
    const c = await docker(d, ["create", "--name", "insp", "-l", "a=b", "busybox", "echo", "hi"]);
    const id = c.stdout.trim();
    const f = await docker(d, [
      "inspect",
      "-f",
      "{{.Name}} {{.State.Status}} {{.Config.Labels.a}} {{.Path}} {{json .Args}} {{len .NetworkSettings.Ports}}",
      "insp",
    ]);
    assert.equal(f.stdout.trim(), '/insp created b echo ["hi"] 0');
    const j = JSON.parse((await docker(d, ["inspect", id])).stdout);
    assert.equal(j[0].Id, id);
    assert.match(j[0].Created, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+Z$/);
    const img = JSON.parse((await docker(d, ["image", "inspect", "busybox"])).stdout);
    assert.deepEqual(img[0].RepoTags, ["busybox:latest"]);
    assert.deepEqual(img[0].Config.Cmd, ["sh"]);
    await docker(d, ["rm", "insp"]);
  });

  // dockerd 20.10 here records 126 for an exec whose process cannot start, a missing binary too (measured
  // side by side; a container's own missing command is 127).
  test("exec: exit codes, and a missing binary is 126 with the runtime's message, as dockerd", async () => {
    await docker(d, ["run", "-d", "--name", "ex", "busybox", "sleep", "1000"]);
    const ok = await docker(d, ["exec", "ex", "sh", "-c", "echo out; exit 3"]);
    assert.equal(ok.code, 3);
    assert.equal(ok.stdout, "out\n");
    const missing = await docker(d, ["exec", "ex", "/nonexistent"]);
    assert.equal(missing.code, 126);
    assert.match(missing.stdout, /OCI runtime exec failed: .*\/nonexistent.*no such file or directory/);
    await docker(d, ["rm", "-f", "ex"]);
  });

  test("--rm removes the container after it exits", async () => {
    const r = await docker(d, ["run", "--rm", "--name", "gone", "busybox", "true"]);
    assert.equal(r.code, 0, r.stderr);
    const ls = await api<unknown[]>(
      d,
      "GET",
      `/containers/json?all=1&filters=${encodeURIComponent('{"name":["gone"]}')}`,
    );
    assert.equal(ls.length, 0);
  });

  test("import, tag, images, rmi", async () => {
    const t = await docker(d, ["tag", "busybox", "mybox:v1"]);
    assert.equal(t.code, 0, t.stderr);
    const imgs = await docker(d, ["images", "--format", "{{.Repository}}:{{.Tag}}"]);
    assert.match(imgs.stdout, /^mybox:v1$/m);
    const rmi = await docker(d, ["rmi", "mybox:v1"]);
    assert.equal(rmi.code, 0, rmi.stderr);
    assert.match(rmi.stdout, /Untagged: mybox:v1/);
  });
});
