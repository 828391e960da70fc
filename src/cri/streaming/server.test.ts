import assert from "node:assert/strict";
import { once } from "node:events";
import { request } from "node:http";
import { connect, type Socket } from "node:net";
import { type Duplex, Readable } from "node:stream";
import { after, before, describe, it } from "node:test";
import { WebSocket } from "ws";
import { isInvalidParameter, isUnavailable } from "../../errdefs/index.ts";
import type {
  AttachStreamRequest,
  ExecStreamRequest,
  StreamIO,
  StreamRuntime,
  StreamServer,
  TerminalSize,
} from "../stream-runtime.ts";
import { StreamTargetError } from "../stream-runtime.ts";
import { decodeStatus, dialSpdy, forwardPort, runRemoteCommand, type StreamDialError } from "./client.ts";
import { startStreamServer } from "./server.ts";
import { FrameWriter } from "./spdy/frames.ts";
import { RequestCache } from "./tokens.ts";

async function readAll(r: Readable): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of r) parts.push(c as Buffer);
  return Buffer.concat(parts);
}

/** A runtime whose "containers" run a few built-in commands. */
class FakeRuntime implements StreamRuntime {
  aborted: string[] = [];
  resizes: TerminalSize[] = [];

  async exec(req: ExecStreamRequest, io: StreamIO): Promise<{ exitCode: number }> {
    if (req.containerId === "gone") throw new StreamTargetError("container gone is not running");
    io.signal?.addEventListener("abort", () => this.aborted.push(req.cmd.join(" ")));
    const [cmd, ...args] = req.cmd;
    switch (cmd) {
      case "echo":
        io.stdout?.write(`${args.join(" ")}\n`);
        return { exitCode: 0 };
      case "cat": {
        const data = io.stdin ? await readAll(io.stdin) : Buffer.alloc(0);
        await new Promise<void>((resolve) => io.stdout!.write(data, () => resolve()));
        return { exitCode: 0 };
      }
      case "fail":
        io.stderr?.write("oops\n");
        return { exitCode: Number(args[0]) };
      case "resize": {
        for await (const size of io.resize ?? []) {
          this.resizes.push(size);
          io.stdout?.write(`${size.width}x${size.height}\n`);
          if (this.resizes.length === Number(args[0])) break;
        }
        return { exitCode: 0 };
      }
      case "hang":
        await new Promise((resolve) => io.signal?.addEventListener("abort", resolve));
        return { exitCode: 137 };
      default:
        throw new Error(`no such command ${cmd}`);
    }
  }

  async attach(_req: AttachStreamRequest, io: StreamIO): Promise<void> {
    io.stdout?.write("attached\n");
    if (io.stdin) io.stdin.pipe(io.stdout!, { end: false });
    if (io.stdin) await once(io.stdin, "end");
  }

  async portForward(podSandboxId: string, port: number, socket: Duplex): Promise<void> {
    if (port === 81) throw new Error("connection refused");
    // An "echo upper-case" server at every other port, prefixed with the pod and port it reached.
    socket.write(`${podSandboxId}:${port}:`);
    for await (const c of socket) socket.write(String(c).toUpperCase());
    socket.end();
  }
}

const exec = (cmd: string[], o: Partial<ExecStreamRequest> = {}): ExecStreamRequest => ({
  containerId: "c1",
  cmd,
  tty: false,
  stdin: false,
  stdout: true,
  stderr: true,
  ...o,
});

describe("streaming server", () => {
  const runtime = new FakeRuntime();
  const errors: Error[] = [];
  let server: StreamServer;
  before(async () => {
    server = await startStreamServer(runtime, {
      address: "127.0.0.1:0",
      streamCreationTimeoutMs: 300,
      onError: (e) => errors.push(e),
    });
  });
  after(() => server.close());

  describe("URLs", () => {
    it("are kubelet's paths with single-use tokens", async () => {
      const { url } = server.getExec(exec(["echo", "hi"]));
      assert.match(url, /^http:\/\/127\.0\.0\.1:\d+\/exec\/[A-Za-z0-9_-]{11}$/);
      assert.match(
        server.getAttach({ containerId: "c1", tty: false, stdin: true, stdout: true, stderr: false }).url,
        /\/attach\//,
      );
      assert.match(server.getPortForward({ podSandboxId: "p1", ports: [80] }).url, /\/portforward\//);
      const first = await runRemoteCommand(url, { stdout: true, stderr: true });
      assert.equal(first.stdout.toString(), "hi\n");
      await assert.rejects(runRemoteCommand(url, { stdout: true }), (e: StreamDialError) => e.status === 404);
    });

    it("refuse requests kubelet refuses", () => {
      const bad = [
        () => server.getExec(exec(["x"], { containerId: "" })),
        () => server.getExec(exec(["x"], { tty: true, stderr: true })),
        () => server.getExec(exec(["x"], { stdout: false, stderr: false })),
        () => server.getAttach({ containerId: "c", tty: false, stdin: false, stdout: false, stderr: false }),
        () => server.getPortForward({ podSandboxId: "", ports: [] }),
      ];
      for (const f of bad) assert.throws(f, (e: unknown) => isInvalidParameter(e));
    });

    it("expire after their TTL and are bounded in number", () => {
      let now = 0;
      const cache = new RequestCache<string>({ now: () => now, max: 2 });
      const a = cache.insert("a");
      now = 59_999;
      assert.equal(cache.consume(a), "a");
      assert.equal(cache.consume(a), undefined);
      const b = cache.insert("b");
      now += 60_000;
      assert.equal(cache.consume(b), undefined);
      cache.insert("c");
      cache.insert("d");
      assert.throws(
        () => cache.insert("e"),
        (e: unknown) => isUnavailable(e),
      );
      now += 60_000;
      cache.insert("f");
    });

    it("answer 404 to unknown tokens and 400 to requests that do not upgrade", async () => {
      const base = new URL(server.getExec(exec(["echo"])).url);
      const get = (path: string) =>
        new Promise<number>((resolve, reject) => {
          request(new URL(path, base), (res) => {
            res.resume();
            resolve(res.statusCode ?? 0);
          })
            .on("error", reject)
            .end();
        });
      assert.equal(await get("/exec/nosuchtoken"), 404);
      assert.equal(await get("/other"), 404);
      assert.equal(await get(base.pathname), 400);
      assert.equal(await get(base.pathname), 404);
      await assert.rejects(
        dialSpdy(new URL("/attach/nosuch", base).href, ["v4.channel.k8s.io"]),
        (e: StreamDialError) => e.status === 404,
      );
      // A token minted for exec does not open an attach.
      const execUrl = new URL(server.getExec(exec(["echo"])).url);
      const asAttach = new URL(execUrl.pathname.replace("/exec/", "/attach/"), execUrl).href;
      await assert.rejects(
        dialSpdy(asAttach, ["v4.channel.k8s.io"]),
        (e: StreamDialError) => e.status === 404,
      );
    });

    it("answer 403 naming the accepted versions when no protocol matches", async () => {
      const { url } = server.getExec(exec(["echo"]));
      await assert.rejects(dialSpdy(url, ["v9.channel.k8s.io"]), (e: StreamDialError) => {
        assert.equal(e.status, 403);
        assert.match(String(e.headers["x-accepted-stream-protocol-versions"]), /v4\.channel\.k8s\.io/);
        return true;
      });
    });
  });

  describe("exec over SPDY", () => {
    it("returns output and a v4 Success status", async () => {
      const r = await runRemoteCommand(server.getExec(exec(["echo", "hello", "world"])).url, {
        stdout: true,
        stderr: true,
      });
      assert.equal(r.protocol, "v5.channel.k8s.io");
      assert.equal(r.stdout.toString(), "hello world\n");
      assert.deepEqual(r.status, { metadata: {}, status: "Success" });
      assert.equal(r.exitCode, 0);
    });

    it("reports a non-zero exit code as kubelet does (NonZeroExitCode, cause ExitCode)", async () => {
      const r = await runRemoteCommand(server.getExec(exec(["fail", "3"])).url, {
        stdout: true,
        stderr: true,
        protocols: ["v4.channel.k8s.io"],
      });
      assert.equal(r.protocol, "v4.channel.k8s.io");
      assert.equal(r.stderr.toString(), "oops\n");
      assert.equal(r.exitCode, 3);
      assert.deepEqual(r.status, {
        metadata: {},
        status: "Failure",
        message: "command terminated with non-zero exit code: error executing command [fail 3], exit code 3",
        reason: "NonZeroExitCode",
        details: { causes: [{ reason: "ExitCode", message: "3" }] },
      });
    });

    it("reports a runtime failure as an InternalError status", async () => {
      const r = await runRemoteCommand(server.getExec(exec(["echo"], { containerId: "gone" })).url, {
        stdout: true,
        stderr: true,
      });
      assert.equal(r.exitCode, -1);
      assert.equal(typeof r.status, "object");
      const s = r.status as { reason?: string; message?: string; code?: number };
      assert.equal(s.reason, "InternalError");
      assert.equal(s.code, 500);
      assert.match(s.message ?? "", /error executing command in container: container gone is not running/);
    });

    it("speaks v3, v2 and v1 with a text error stream", async () => {
      for (const p of ["v3.channel.k8s.io", "v2.channel.k8s.io", "channel.k8s.io"]) {
        const ok = await runRemoteCommand(server.getExec(exec(["echo", "x"])).url, {
          stdout: true,
          stderr: true,
          protocols: [p],
        });
        assert.equal(ok.protocol, p);
        assert.equal(ok.status, "");
        assert.equal(ok.stdout.toString(), "x\n");
        const bad = await runRemoteCommand(server.getExec(exec(["fail", "2"])).url, {
          stdout: true,
          stderr: true,
          protocols: [p],
        });
        assert.match(String(bad.status), /exit code 2$/);
      }
    });

    it("carries stdin to its end, a megabyte of it, in order", async () => {
      const input = Buffer.alloc(1024 * 1024);
      for (let i = 0; i < input.length; i++) input[i] = (i * 7) & 0xff;
      const r = await runRemoteCommand(server.getExec(exec(["cat"], { stdin: true, stderr: false })).url, {
        stdin: Readable.from([input.subarray(0, 100_000), input.subarray(100_000)]),
        stdout: true,
      });
      assert.equal(r.exitCode, 0);
      assert.ok(r.stdout.equals(input));
      // A peer that keeps SPDY/3.1 windows gets them back: per stream and for the session.
      const updates = r.frames.filter((f) => f.type === "window_update");
      assert.ok(updates.some((f) => f.streamId === 0));
      assert.ok(updates.some((f) => f.streamId !== 0));
      const total = updates.filter((f) => f.streamId === 0).reduce((n, f) => n + f.delta, 0);
      assert.ok(total > input.length - 64 * 1024);
    });

    it("delivers terminal resizes with a TTY", async () => {
      const url = server.getExec(exec(["resize", "2"], { tty: true, stdin: true, stderr: false })).url;
      const r = await runRemoteCommand(url, {
        tty: true,
        stdin: new Readable({ read() {} }),
        stdout: true,
        resize: [
          { width: 80, height: 24 },
          { width: 132, height: 50 },
        ],
      });
      assert.equal(r.stdout.toString(), "80x24\n132x50\n");
      assert.equal(r.exitCode, 0);
    });

    it("aborts the runtime's signal when the client goes away", async () => {
      const { session } = await dialSpdy(server.getExec(exec(["hang"], { stderr: false })).url, [
        "v4.channel.k8s.io",
      ]);
      const s1 = session.openStream(new Map([["streamtype", ["error"]]]));
      const s2 = session.openStream(new Map([["streamtype", ["stdout"]]]));
      await Promise.all([s1.replyReceived(), s2.replyReceived()]);
      const before = runtime.aborted.length;
      session.destroy();
      while (runtime.aborted.length === before) await new Promise((r) => setTimeout(r, 10));
      assert.equal(runtime.aborted.at(-1), "hang");
    });

    it("closes the connection when the client does not open its streams in time", async () => {
      const { session } = await dialSpdy(server.getExec(exec(["echo"])).url, ["v4.channel.k8s.io"]);
      session.openStream(new Map([["streamtype", ["error"]]]));
      await session.closed;
    });

    it("refuses streams of unknown type and duplicates", async () => {
      const { session } = await dialSpdy(server.getExec(exec(["echo", "dup"], { stderr: false })).url, [
        "v4.channel.k8s.io",
      ]);
      const weird = session.openStream(new Map([["streamtype", ["bogus"]]]));
      await assert.rejects(weird.replyReceived());
      const err = session.openStream(new Map([["streamtype", ["error"]]]));
      const dup = session.openStream(new Map([["streamtype", ["error"]]]));
      await assert.rejects(dup.replyReceived());
      const out = session.openStream(new Map([["streamtype", ["stdout"]]]));
      const [stdout, status] = await Promise.all([readAll(out), readAll(err)]);
      assert.equal(stdout.toString(), "dup\n");
      assert.equal(decodeStatus(status, 4).exitCode, 0);
      await session.close();
    });
  });

  describe("attach over SPDY", () => {
    it("joins stdin and stdout until stdin ends", async () => {
      const url = server.getAttach({
        containerId: "c1",
        tty: false,
        stdin: true,
        stdout: true,
        stderr: false,
      }).url;
      const r = await runRemoteCommand(url, { stdin: "typed\n", stdout: true });
      assert.equal(r.stdout.toString(), "attached\ntyped\n");
      assert.equal(r.exitCode, 0);
    });
  });

  describe("port-forward over SPDY", () => {
    it("forwards concurrent connections by requestID and reports failures on the error stream", async () => {
      const { session, protocol } = await dialSpdy(
        server.getPortForward({ podSandboxId: "pod1", ports: [] }).url,
        ["portforward.k8s.io"],
      );
      assert.equal(protocol, "portforward.k8s.io");
      const [a, b] = await Promise.all([forwardPort(session, 8080, 0), forwardPort(session, 9090, 1)]);
      a.data.end("hello");
      b.data.end("world");
      assert.equal((await readAll(a.data)).toString(), "pod1:8080:HELLO");
      assert.equal((await readAll(b.data)).toString(), "pod1:9090:WORLD");
      assert.equal(await a.error, "");
      const refused = await forwardPort(session, 81, 2);
      assert.equal((await readAll(refused.data)).toString(), "");
      assert.match(await refused.error, /error forwarding port 81 to pod pod1, uid : connection refused/);
      // A stream without a valid port header is reset; the session goes on.
      const bad = session.openStream(
        new Map([
          ["streamtype", ["data"]],
          ["port", ["http"]],
          ["requestid", ["9"]],
        ]),
      );
      await assert.rejects(bad.replyReceived());
      const again = await forwardPort(session, 1, 3);
      again.data.end("x");
      assert.equal((await readAll(again.data)).toString(), "pod1:1:X");
      await session.close();
    });
  });

  describe("WebSocket", () => {
    const wsOpen = (url: string, protocols: string[]) => {
      const ws = new WebSocket(url.replace(/^http/, "ws"), protocols);
      const messages: Buffer[] = [];
      ws.on("message", (m: Buffer) => messages.push(Buffer.from(m)));
      return { ws, messages, opened: once(ws, "open"), closed: once(ws, "close") };
    };

    it("runs exec on v5 channels: stdin half-closed by CLOSE, status on channel 3", async () => {
      const { ws, messages, opened, closed } = wsOpen(
        server.getExec(exec(["cat"], { stdin: true, stderr: false })).url,
        ["v5.channel.k8s.io"],
      );
      await opened;
      assert.equal(ws.protocol, "v5.channel.k8s.io");
      ws.send(Buffer.from([0, ...Buffer.from("abc")]));
      ws.send(Buffer.from([255, 0]));
      await closed;
      assert.deepEqual(messages[0], Buffer.from([1]));
      const stdout = Buffer.concat(messages.filter((m) => m[0] === 1).map((m) => m.subarray(1)));
      assert.equal(stdout.toString(), "abc");
      const status = messages.find((m) => m[0] === 3);
      assert.deepEqual(JSON.parse(status!.subarray(1).toString()), { metadata: {}, status: "Success" });
    });

    it("runs exec on v4 base64 channels with the exit code", async () => {
      const { ws, messages, opened, closed } = wsOpen(server.getExec(exec(["fail", "5"])).url, [
        "v4.base64.channel.k8s.io",
      ]);
      await opened;
      assert.equal(ws.protocol, "v4.base64.channel.k8s.io");
      await closed;
      const texts = messages.map((m) => m.toString());
      assert.ok(texts.includes(`2${Buffer.from("oops\n").toString("base64")}`));
      const status = texts.find((t) => t.startsWith("3"))!;
      assert.equal(decodeStatus(Buffer.from(status.slice(1), "base64"), 4).exitCode, 5);
    });

    it("refuses protocols it does not speak", async () => {
      const { ws, opened, closed } = wsOpen(server.getExec(exec(["echo"])).url, ["v9.channel.k8s.io"]);
      opened.catch(() => {});
      closed.catch(() => {});
      const [err] = (await once(ws, "error")) as [Error];
      assert.match(err.message, /403/);
    });

    it("forwards ports on data and error channel pairs, each opened with the port", async () => {
      const { ws, messages, opened, closed } = wsOpen(
        server.getPortForward({ podSandboxId: "pod2", ports: [80, 81] }).url,
        ["v4.channel.k8s.io"],
      );
      await opened;
      ws.send(Buffer.from([0, ...Buffer.from("ping")]));
      while (!Buffer.concat(messages.filter((m) => m[0] === 0).map((m) => m.subarray(1))).includes("PING")) {
        await once(ws, "message");
      }
      ws.close();
      await closed;
      const ch = (n: number) => Buffer.concat(messages.filter((m) => m[0] === n).map((m) => m.subarray(1)));
      assert.deepEqual(ch(0).subarray(0, 2), Buffer.from([80, 0]));
      assert.equal(ch(0).subarray(2).toString(), "pod2:80:PING");
      assert.deepEqual(ch(2).subarray(0, 2), Buffer.from([81, 0]));
      assert.match(ch(3).subarray(2).toString(), /error forwarding port 81 to pod pod2/);
    });
  });

  describe("malformed SPDY", () => {
    /** A raw upgraded socket to a fresh exec URL. */
    const rawUpgrade = async (): Promise<{ sock: Socket; closed: Promise<Buffer> }> => {
      const u = new URL(server.getExec(exec(["echo"])).url);
      const sock = connect(Number(u.port), u.hostname);
      await once(sock, "connect");
      sock.write(
        `POST ${u.pathname} HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: SPDY/3.1\r\n` +
          "X-Stream-Protocol-Version: v4.channel.k8s.io\r\nContent-Length: 0\r\n\r\n",
      );
      const chunks: Buffer[] = [];
      sock.on("data", (c: Buffer) => chunks.push(c));
      sock.on("error", () => {});
      const closed = once(sock, "close").then(() => Buffer.concat(chunks));
      return { sock, closed };
    };
    /** The GOAWAY status in what the server sent back, if any. */
    const goAwayStatus = (bytes: Buffer): number | undefined => {
      const at = bytes.indexOf("\r\n\r\n");
      const frames = bytes.subarray(at + 4);
      for (let i = 0; i + 8 <= frames.length; ) {
        const len = frames.readUInt32BE(i + 4) & 0xffffff;
        if (frames.readUInt16BE(i) === 0x8003 && frames.readUInt16BE(i + 2) === 7)
          return frames.readUInt32BE(i + 12);
        i += 8 + len;
      }
      return undefined;
    };
    const cases: [string, Buffer][] = [
      ["garbage", Buffer.from("\xff\xfe this is not a SPDY frame at all", "latin1")],
      ["an oversize header block", Buffer.from([0x80, 3, 0, 1, 0, 0xff, 0xff, 0xff])],
      ["SPDY/2", Buffer.from([0x80, 2, 0, 6, 0, 0, 0, 4, 0, 0, 0, 1])],
      [
        "a compression bomb",
        new FrameWriter().encode({
          type: "syn_stream",
          streamId: 1,
          associatedTo: 0,
          priority: 0,
          fin: false,
          unidirectional: false,
          headers: new Map([["x", ["a".repeat(1_000_000)]]]),
        }),
      ],
      [
        "a SYN_STREAM with an even id",
        new FrameWriter().encode({
          type: "syn_stream",
          streamId: 2,
          associatedTo: 0,
          priority: 0,
          fin: false,
          unidirectional: false,
          headers: new Map([["streamtype", ["error"]]]),
        }),
      ],
      [
        "a corrupt header block",
        Buffer.from([0x80, 3, 0, 1, 0, 0, 0, 14, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0x78, 0xf9, 1, 2]),
      ],
    ];
    for (const [name, bytes] of cases) {
      it(`answers ${name} with GOAWAY(PROTOCOL_ERROR) and goes on serving`, async () => {
        const { sock, closed } = await rawUpgrade();
        sock.write(bytes);
        const got = await closed;
        assert.match(got.toString("latin1"), /^HTTP\/1\.1 101 /);
        assert.equal(goAwayStatus(got), 1);
        const r = await runRemoteCommand(server.getExec(exec(["echo", "still"])).url, {
          stdout: true,
          stderr: true,
        });
        assert.equal(r.stdout.toString(), "still\n");
      });
    }

    it("ignores data for streams it does not know, and pings back", async () => {
      const { session } = await dialSpdy(server.getExec(exec(["echo", "ok"], { stderr: false })).url, [
        "v4.channel.k8s.io",
      ]);
      await session.ping();
      session._send({ type: "data", streamId: 99, fin: false, data: Buffer.from("stray") });
      session._send({ type: "rst_stream", streamId: 77, status: 5 });
      session._send({ type: "window_update", streamId: 0, delta: 1 << 20 });
      session._send({ type: "settings", entries: [{ flags: 0, id: 7, value: 1 << 20 }] });
      const err = session.openStream(new Map([["streamtype", ["error"]]]));
      const out = session.openStream(new Map([["streamtype", ["stdout"]]]));
      const [stdout] = await Promise.all([readAll(out), readAll(err)]);
      assert.equal(stdout.toString(), "ok\n");
      await session.close();
    });
  });

  describe("lifetime", () => {
    it("drops a connection idle for longer than the idle timeout", async () => {
      const quick = await startStreamServer(runtime, { address: "127.0.0.1:0", idleTimeoutMs: 100 });
      try {
        const { session } = await dialSpdy(quick.getExec(exec(["hang"])).url, ["v4.channel.k8s.io"]);
        const started = Date.now();
        await session.closed;
        assert.ok(Date.now() - started >= 90);
      } finally {
        await quick.close();
      }
    });

    it("ends open sessions when it closes", async () => {
      const own = await startStreamServer(runtime, { address: "127.0.0.1:0" });
      const { session } = await dialSpdy(own.getExec(exec(["hang"], { stderr: false })).url, [
        "v4.channel.k8s.io",
      ]);
      const streams = ["error", "stdout"].map((t) => session.openStream(new Map([["streamtype", [t]]])));
      await Promise.all(streams.map((s) => s.replyReceived()));
      await own.close();
      await session.closed;
    });

    it("listens where told and refuses a bad address", async () => {
      await assert.rejects(startStreamServer(runtime, { address: "nonsense" }), (e: unknown) =>
        isInvalidParameter(e),
      );
      await assert.rejects(startStreamServer(runtime, { address: "127.0.0.1:99999" }), (e: unknown) =>
        isInvalidParameter(e),
      );
      const v6 = await startStreamServer(runtime, { address: "[::1]:0" });
      try {
        const r = await runRemoteCommand(v6.getExec(exec(["echo", "six"])).url, {
          stdout: true,
          stderr: true,
        });
        assert.match(v6.getExec(exec(["echo"])).url, /^http:\/\/\[::1\]:\d+\/exec\//);
        assert.equal(r.stdout.toString(), "six\n");
      } finally {
        await v6.close();
      }
    });
  });

  after(() => {
    // Every failure above was a session's own, reported and contained: none escaped as a crash.
    for (const e of errors) assert.ok(e instanceof Error);
  });
});
