/**
 * Exec, attach and port-forward through the CRI: the URLs Exec/Attach/PortForward answer, driven as
 * client-go drives them (SPDY, remotecommand v4 and portforward.k8s.io), against real pod containers.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import type { Readable } from "node:stream";
import { after, before, test } from "node:test";
import { dialSpdy, forwardPort, runRemoteCommand } from "../../../src/cri/streaming/index.ts";
import { type CriTestDaemon, startCriDaemon } from "../../helpers/cri.ts";
import { importBusybox } from "../../helpers/daemon.ts";

let t: CriTestDaemon;
let podSandboxId = "";
let sleeper = "";
let echoer = "";

async function readAll(r: Readable): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of r) parts.push(c as Buffer);
  return Buffer.concat(parts);
}

before(async () => {
  t = await startCriDaemon({ name: "cri-streams" });
  await importBusybox(t.d);
  const config = {
    metadata: { name: "streams", uid: "uid-streams", namespace: "default", attempt: 0 },
    hostname: "streams",
    logDirectory: join(t.logDir, "streams"),
    linux: {},
  };
  ({ podSandboxId } = await t.cri.runtime<{ podSandboxId: string }>("RunPodSandbox", { config }));
  const create = async (name: string, args: string[], extra: Record<string, unknown> = {}) => {
    const { containerId } = await t.cri.runtime<{ containerId: string }>("CreateContainer", {
      podSandboxId,
      sandboxConfig: config,
      config: { metadata: { name }, image: { image: "busybox" }, args, logPath: `${name}.log`, ...extra },
    });
    await t.cri.runtime("StartContainer", { containerId });
    return containerId;
  };
  // httpd answers on the pod's loopback only: port-forward must connect inside the pod's namespace.
  sleeper = await create("web", ["httpd", "-f", "-p", "127.0.0.1:8080", "-h", "/etc"]);
  echoer = await create("cat", ["cat"], { stdin: true });
});

after(async () => {
  await t?.stop();
});

test("Exec: output, stderr, and the exit code in the v4 status", async () => {
  const { url } = await t.cri.runtime<{ url: string }>("Exec", {
    containerId: sleeper,
    cmd: ["sh", "-c", "echo out; echo err >&2; exit 7"],
    stdout: true,
    stderr: true,
  });
  const r = await runRemoteCommand(url, { stdout: true, stderr: true });
  assert.equal(r.stdout.toString(), "out\n");
  assert.equal(r.stderr.toString(), "err\n");
  assert.equal(r.exitCode, 7);
});

test("Exec with stdin and a TTY", async () => {
  const { url } = await t.cri.runtime<{ url: string }>("Exec", {
    containerId: sleeper,
    cmd: ["sh", "-c", "read x; echo got:$x; tty"],
    stdin: true,
    stdout: true,
    tty: true,
  });
  const r = await runRemoteCommand(url, {
    stdin: "abc\n",
    stdout: true,
    tty: true,
    resize: [{ width: 80, height: 24 }],
  });
  assert.match(r.stdout.toString(), /got:abc/);
  assert.match(r.stdout.toString(), /\/dev\/pts\/\d+/);
  assert.equal(r.exitCode, 0);
});

test("Attach: stdin reaches the container's main process, its output comes back", async () => {
  const { url } = await t.cri.runtime<{ url: string }>("Attach", {
    containerId: echoer,
    stdin: true,
    stdout: true,
    stderr: true,
  });
  const { session } = await dialSpdy(url, ["v4.channel.k8s.io"]);
  const h = (type: string) => new Map([["streamtype", [type]]]);
  const error = session.openStream(h("error"));
  const stdin = session.openStream(h("stdin"));
  const stdout = session.openStream(h("stdout"));
  const stderr = session.openStream(h("stderr"));
  await Promise.all([error, stdin, stdout, stderr].map((s) => s.replyReceived()));
  stdin.write("ping\n");
  const got = await new Promise<string>((resolve) => {
    let acc = "";
    stdout.on("data", (b: Buffer) => {
      acc += b.toString();
      if (acc.includes("ping\n")) resolve(acc);
    });
  });
  assert.equal(got, "ping\n");
  session.close();
});

test("PortForward reaches a port bound to the pod's loopback", async () => {
  const { url } = await t.cri.runtime<{ url: string }>("PortForward", { podSandboxId, port: [8080] });
  const { session } = await dialSpdy(url, ["portforward.k8s.io"]);
  const conn = await forwardPort(session, 8080, 0);
  conn.data.end("GET /hostname HTTP/1.0\r\n\r\n");
  const body = (await readAll(conn.data)).toString();
  assert.match(body, /^HTTP\/1\.[01] 200/);
  assert.match(body, /\r\n\r\nstreams\n$/);
  assert.equal(await conn.error, "");
  session.close();
});

test("PortForward: concurrent connections over one session each get the whole reply", async () => {
  // Browsers and kubectl users open several at once; each reply must arrive whole even when the helper
  // that reaches the pod exits before its output is copied.
  const { url } = await t.cri.runtime<{ url: string }>("PortForward", { podSandboxId });
  const { session } = await dialSpdy(url, ["portforward.k8s.io"]);
  for (let round = 0; round < 3; round++) {
    const bodies = await Promise.all(
      [0, 1, 2, 3, 4].map(async (i) => {
        const conn = await forwardPort(session, 8080, round * 5 + i);
        conn.data.end("GET /hostname HTTP/1.0\r\n\r\n");
        return (await readAll(conn.data)).toString();
      }),
    );
    for (const body of bodies) assert.match(body, /\r\n\r\nstreams\n$/);
  }
  session.close();
});

test("Exec of an unknown container is NOT_FOUND before any URL is handed out", async () => {
  await assert.rejects(
    t.cri.runtime("Exec", { containerId: "nosuch", cmd: ["true"], stdout: true }),
    (e: { code: number }) => e.code === 5,
  );
});
