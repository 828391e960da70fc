/**
 * Exec, attach and port-forward through the CRI: the URLs Exec/Attach/PortForward answer, driven as
 * client-go drives them (SPDY, remotecommand v4 and portforward.k8s.io), and over WebSocket as newer clients
 * do (v5.channel.k8s.io exec, v4.channel.k8s.io port-forward), against real pod containers.
 */
import assert from "node:assert/strict";
import { once } from "node:events";
import { join } from "node:path";
import type { Readable } from "node:stream";
import { after, before, test } from "node:test";
import { WebSocket } from "ws";
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

/** Opens a streaming URL as a WebSocket with these subprotocols, collecting every message. */
function wsOpen(url: string, protocols: string[]) {
  const ws = new WebSocket(url.replace(/^http/, "ws"), protocols);
  const messages: Buffer[] = [];
  ws.on("message", (m: Buffer) => messages.push(Buffer.from(m)));
  const channel = (n: number) => Buffer.concat(messages.filter((m) => m[0] === n).map((m) => m.subarray(1)));
  /** Resolves once `cond` holds after some message; fails if the socket closes or 20 s pass first. */
  const until = (cond: () => boolean) =>
    new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => done(new Error("timed out waiting on the WebSocket")), 20_000);
      const check = () => cond() && done();
      const closed = () => done(new Error("the WebSocket closed first"));
      const done = (e?: Error) => {
        clearTimeout(timer);
        ws.off("message", check).off("close", closed);
        e ? reject(e) : resolve();
      };
      ws.on("message", check).on("close", closed);
      check();
    });
  return { ws, messages, channel, until, opened: once(ws, "open"), closed: once(ws, "close") };
}

test("Exec over WebSocket v5: stdin half-closed by CLOSE, stdout, stderr and the exit code", async () => {
  const { url } = await t.cri.runtime<{ url: string }>("Exec", {
    containerId: sleeper,
    cmd: ["sh", "-c", "cat; echo err >&2; exit 4"],
    stdin: true,
    stdout: true,
    stderr: true,
  });
  const { ws, channel, opened, closed } = wsOpen(url, ["v5.channel.k8s.io", "v4.channel.k8s.io"]);
  await opened;
  assert.equal(ws.protocol, "v5.channel.k8s.io");
  ws.send(Buffer.from([0, ...Buffer.from("over ws\n")]));
  ws.send(Buffer.from([255, 0]));
  await closed;
  assert.equal(channel(1).toString(), "over ws\n");
  assert.equal(channel(2).toString(), "err\n");
  const status = JSON.parse(channel(3).toString()) as {
    status: string;
    reason: string;
    details: { causes: { reason: string; message: string }[] };
  };
  assert.equal(status.status, "Failure");
  assert.equal(status.reason, "NonZeroExitCode");
  assert.deepEqual(status.details.causes, [{ reason: "ExitCode", message: "4" }]);
});

test("Exec over WebSocket with a TTY takes resize messages on channel 4", async () => {
  const { url } = await t.cri.runtime<{ url: string }>("Exec", {
    containerId: sleeper,
    // The resize and stdin channels are not ordered (nor are they in kubelet): wait for the size to land.
    cmd: [
      "sh",
      "-c",
      "i=0; until stty size | grep -q '37 91'; do i=$((i+1)); [ $i -gt 400 ] && exit 9; usleep 50000; done; read x; stty size",
    ],
    stdin: true,
    stdout: true,
    tty: true,
  });
  const { ws, channel, opened, closed } = wsOpen(url, ["v4.channel.k8s.io"]);
  await opened;
  ws.send(Buffer.from([4, ...Buffer.from(JSON.stringify({ Width: 91, Height: 37 }))]));
  ws.send(Buffer.from([0, ...Buffer.from("go\r")]));
  await closed;
  assert.match(channel(1).toString(), /37 91/);
  assert.deepEqual(JSON.parse(channel(3).toString()), { metadata: {}, status: "Success" });
});

test("PortForward over WebSocket: the port from the query, data and error channels opened with it", async () => {
  const { url } = await t.cri.runtime<{ url: string }>("PortForward", { podSandboxId });
  const { ws, channel, messages, until, opened, closed } = wsOpen(`${url}?port=8080`, ["v4.channel.k8s.io"]);
  await opened;
  await until(() => messages.filter((m) => m.length === 3).length >= 2);
  ws.send(Buffer.from([0, ...Buffer.from("GET /hostname HTTP/1.0\r\n\r\n")]));
  await until(() => /\r\n\r\nstreams\n$/.test(channel(0).subarray(2).toString()));
  ws.close();
  await closed;
  assert.deepEqual(channel(0).subarray(0, 2), Buffer.from([0x90, 0x1f]));
  assert.deepEqual(channel(1), Buffer.from([0x90, 0x1f]));
  assert.match(channel(0).subarray(2).toString(), /^HTTP\/1\.[01] 200/);
});

test("Exec of an unknown container is NOT_FOUND before any URL is handed out", async () => {
  await assert.rejects(
    t.cri.runtime("Exec", { containerId: "nosuch", cmd: ["true"], stdout: true }),
    (e: { code: number }) => e.code === 5,
  );
});
