/**
 * What docker-py (Debian's python3-docker) relies on, run through docker-py itself against a test daemon:
 * each test is a short Python script whose printed JSON the test checks.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { docker, exec, importBusybox, startDaemon, type TestDaemon } from "../../helpers/daemon.ts";

let d: TestDaemon;

before(async () => {
  d = await startDaemon({ name: "dockerpy" });
  await importBusybox(d);
});
after(async () => {
  await d?.stop();
});

/** Runs `body` with `c = docker.DockerClient(...)` and `api = c.api` bound; returns what it printed as JSON. */
async function py<T>(body: string): Promise<T> {
  const script = [
    "import docker, json, sys, base64",
    `c = docker.DockerClient(base_url=${JSON.stringify(d.host)}, timeout=60)`,
    "api = c.api",
    body,
  ].join("\n");
  const r = await exec("python3", ["-c", script], { timeoutMs: 90_000 });
  assert.equal(r.code, 0, `python failed:\n${r.stderr}\ndaemon:\n${d.output().slice(-2000)}`);
  const last = r.stdout.trim().split("\n").at(-1) ?? "null";
  return JSON.parse(last) as T;
}

describe("docker-py: log driver", () => {
  test("containers.run returns the output, LogConfig reports json-file", async () => {
    const out = await py<{ out: string; type: string; driver: string }>(`
out = c.containers.run("busybox", "echo hi", name="pyrun")
cont = c.containers.get("pyrun")
print(json.dumps({"out": out.decode(), "type": cont.attrs["HostConfig"]["LogConfig"]["Type"], "driver": c.info()["LoggingDriver"]}))
cont.remove()`);
    assert.deepEqual(out, { out: "hi\n", type: "json-file", driver: "json-file" });
    const info = await docker(d, ["info", "--format", "{{.LoggingDriver}}"]);
    assert.equal(info.stdout.trim(), "json-file");
  });

  test("max-file without max-size is accepted, an empty Type is the default driver", async () => {
    const out = await py<{ a: unknown; b: unknown }>(`
a = api.create_container("busybox", "true", host_config=api.create_host_config(log_config={"Type": "json-file", "Config": {"max-file": "3"}}))
b = api.create_container("busybox", "true", host_config=api.create_host_config(log_config={"Type": "", "Config": {}}))
ra = api.inspect_container(a["Id"])["HostConfig"]["LogConfig"]
rb = api.inspect_container(b["Id"])["HostConfig"]["LogConfig"]
api.remove_container(a["Id"]); api.remove_container(b["Id"])
print(json.dumps({"a": ra, "b": rb}))`);
    assert.deepEqual(out.a, { Type: "json-file", Config: { "max-file": "3" } });
    assert.deepEqual(out.b, { Type: "json-file", Config: {} });
  });

  test("max-size 0 is refused with Docker's text", async () => {
    const r = await docker(d, ["create", "--log-opt", "max-size=0", "busybox"]);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /max-size must be a positive number/);
  });
});

/** The payloads of a multiplexed stream (8-byte headers: stream, 3 zero bytes, big-endian length). */
function frames(body: string): string[] {
  const b = Buffer.from(body, "latin1");
  const out: string[] = [];
  for (let i = 0; i + 8 <= b.length; ) {
    const n = b.readUInt32BE(i + 4);
    out.push(b.subarray(i + 8, i + 8 + n).toString());
    i += 8 + n;
  }
  return out;
}

describe("testcontainers' log wait request", () => {
  test("logs?follow=1&tail=-1&since=<seconds.fraction> gives every line", async () => {
    const since = (Date.now() / 1000 - 60).toFixed(3);
    const run = await docker(d, ["run", "-d", "busybox", "sh", "-c", "echo one; echo two; echo ready"]);
    assert.equal(run.code, 0, run.stderr);
    const id = run.stdout.trim();
    await docker(d, ["wait", id]);
    const q = `follow=1&stdout=1&stderr=1&tail=-1&since=${since}`;
    const r = await exec("curl", [
      "-sS",
      "-f",
      "--max-time",
      "20",
      "--unix-socket",
      d.socket,
      `http://x/containers/${id}/logs?${q}`,
    ]);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(frames(r.stdout), ["one\n", "two\n", "ready\n"]);
    const odd = await exec("curl", [
      "-sS",
      "-f",
      "--unix-socket",
      d.socket,
      `http://x/containers/${id}/logs?stdout=1&tail=x`,
    ]);
    assert.equal(odd.code, 0, "a tail that is not a number is all lines, as with dockerd");
    await docker(d, ["rm", id]);
  });
});

describe("docker-py: exec", () => {
  test("the terminal comes from exec create; a detached start answers an empty body", async () => {
    const out = await py<{ tty: string; plain: string; detached: string; code: number }>(`
cont = c.containers.run("busybox", "sleep 300", detach=True)
e = api.exec_create(cont.id, ["sh", "-c", "echo a; tty"], tty=True)
tty = api.exec_start(e["Id"])
p = api.exec_create(cont.id, ["sh", "-c", "echo a; tty"])
plain = api.exec_start(p["Id"])
x = api.exec_create(cont.id, ["sh", "-c", "exit 3"])
detached = api.exec_start(x["Id"], detach=True)
import time
for _ in range(200):
    i = api.exec_inspect(x["Id"])
    if not i["Running"] and i["ExitCode"] is not None: break
    time.sleep(0.05)
cont.remove(force=True)
print(json.dumps({"tty": tty.decode(), "plain": plain.decode(), "detached": detached if isinstance(detached, str) else detached.decode(), "code": i["ExitCode"]}))`);
    assert.equal(out.tty, "a\r\n/dev/pts/0\r\n");
    assert.equal(out.plain, "a\nnot a tty\n");
    assert.equal(out.detached, "");
    assert.equal(out.code, 3);
  });
});

describe("docker-py: detach keys on hijacked stdin", () => {
  test("Ctrl-P Ctrl-Q, detachKeys on attach and DetachKeys of an exec end the session; the container runs on", async () => {
    const out = await py<{ attach: boolean; custom: boolean; exec: boolean; running: string }>(`
def ends(sock, data):
    sock.settimeout(20)
    sock.sendall(data)
    try:
        while sock.recv(4096): pass
        return True
    except Exception:
        return False
cont = c.containers.run("busybox", "sh", tty=True, stdin_open=True, detach=True)
s1 = api.attach_socket(cont.id, params={"stdin": 1, "stdout": 1, "stream": 1})
r1 = ends(s1._sock, b"echo hi\\n\\x10\\x11")
s2 = api.attach_socket(cont.id, params={"stdin": 1, "stdout": 1, "stream": 1, "detachKeys": "ctrl-a,x"})
r2 = ends(s2._sock, b"\\x01x")
e = api.exec_create(cont.id, "sh", stdin=True, tty=True, detach_keys="ctrl-x")
s3 = api.exec_start(e["Id"], tty=True, socket=True)
r3 = ends(s3._sock, b"\\x18")
cont.reload()
st = cont.status
cont.remove(force=True)
print(json.dumps({"attach": r1, "custom": r2, "exec": r3, "running": st}))`);
    assert.deepEqual(out, { attach: true, custom: true, exec: true, running: "running" });
  });

  test("bad detach keys are refused as dockerd refuses them", async () => {
    const r = await docker(d, ["run", "-d", "-t", "-i", "busybox", "sh"]);
    assert.equal(r.code, 0, r.stderr);
    const id = r.stdout.trim();
    const bad = await exec("curl", [
      "-sS",
      "-X",
      "POST",
      "--unix-socket",
      d.socket,
      `http://x/containers/${id}/attach?stdin=1&stream=1&detachKeys=ctrl-pp`,
    ]);
    assert.match(bad.stdout, /Invalid detach keys \(ctrl-pp\) provided/);
    await docker(d, ["rm", "-f", id]);
  });
});
