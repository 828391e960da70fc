import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import http from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PassThrough, Readable } from "node:stream";
import { after, before, describe, it } from "node:test";
import { EngineClient } from "./client.ts";
import { ApiError, DaemonConnectionError } from "./errors.ts";
import {
  copyOutput,
  defaultHost,
  demuxFrames,
  encodeFrame,
  jsonLines,
  parseHost,
  resolveHost,
} from "./index.ts";

const dir = mkdtempSync(join(tmpdir(), "wharf-client-"));
const sock = join(dir, "d.sock");
const seen: { method: string; url: string; body: string }[] = [];
let server: http.Server;

before(async () => {
  server = http.createServer((req, res) => {
    let body = "";
    req.on("data", (c) => {
      body += c;
    });
    req.on("end", () => {
      seen.push({ method: req.method ?? "", url: req.url ?? "", body });
      const url = new URL(req.url ?? "/", "http://x");
      if (url.pathname === "/v1.47/version") {
        res.writeHead(200, { "Content-Type": "application/json" });
        res.end(JSON.stringify({ Version: "0.1.0", ApiVersion: "1.47" }));
      } else if (url.pathname === "/v1.47/containers/nope/json") {
        res.writeHead(404, { "Content-Type": "application/json" });
        res.end('{"message":"No such container: nope"}\n');
      } else if (url.pathname === "/v1.47/containers/x/start") {
        res.writeHead(304);
        res.end();
      } else if (url.pathname === "/v1.47/boom") {
        res.writeHead(500);
        res.end("plain failure");
      } else if (url.pathname === "/v1.47/containers/c1/logs") {
        res.writeHead(200, { "Content-Type": "application/vnd.docker.multiplexed-stream" });
        res.end(Buffer.concat([encodeFrame(1, "out\n"), encodeFrame(2, "err\n")]));
      } else if (url.pathname === "/v1.47/containers/c1/wait") {
        res.writeHead(200, { "Content-Type": "application/json" });
        res.flushHeaders();
        setTimeout(() => res.end('{"StatusCode":3,"Error":null}'), 20);
      } else {
        res.writeHead(200, { "Content-Type": "application/json" });
        res.end("[]");
      }
    });
  });
  server.on("upgrade", (req, socket) => {
    seen.push({ method: req.method ?? "", url: req.url ?? "", body: "" });
    socket.write(
      "HTTP/1.1 101 UPGRADED\r\nContent-Type: application/vnd.docker.multiplexed-stream\r\n" +
        "Connection: Upgrade\r\nUpgrade: tcp\r\n\r\n",
    );
    // Early output in the same packet as the headers, to exercise the `head` buffer.
    socket.write(encodeFrame(1, "hello\n"));
    let input = "";
    socket.on("data", (c) => {
      input += c;
    });
    socket.on("end", () => {
      // Stdin was half-closed; output must still flow back.
      socket.write(encodeFrame(1, `got:${input}`));
      socket.end(encodeFrame(2, "bye\n"));
    });
  });
  await new Promise<void>((r) => server.listen(sock, r));
});

after(() => {
  server.close();
  rmSync(dir, { recursive: true, force: true });
});

describe("EngineClient against a fake daemon", () => {
  it("prefixes the API version and parses JSON", async () => {
    const c = new EngineClient({ host: `unix://${sock}` });
    const v = await c.version();
    assert.equal(v.Version, "0.1.0");
    assert.equal(seen.at(-1)?.url, "/v1.47/version");
    c.close();
  });

  it("encodes queries as docker does: booleans 1/0, filters as JSON", async () => {
    const c = new EngineClient({ host: `unix://${sock}` });
    await c.containerList({ all: true, filters: { status: ["exited"] } });
    const u = new URL(seen.at(-1)?.url ?? "", "http://x");
    assert.equal(u.searchParams.get("all"), "1");
    assert.deepEqual(JSON.parse(u.searchParams.get("filters") ?? ""), { status: ["exited"] });
    c.close();
  });

  it("sends JSON bodies", async () => {
    const c = new EngineClient({ host: `unix://${sock}` });
    await c.json("POST", "/containers/create", { json: { Image: "alpine" }, query: { name: "n" } });
    assert.equal(seen.at(-1)?.url, "/v1.47/containers/create?name=n");
    assert.deepEqual(JSON.parse(seen.at(-1)?.body ?? ""), { Image: "alpine" });
    c.close();
  });

  it("turns error bodies into ApiError", async () => {
    const c = new EngineClient({ host: `unix://${sock}` });
    await assert.rejects(c.containerInspect("nope"), (e: unknown) => {
      assert.ok(e instanceof ApiError);
      assert.equal(e.statusCode, 404);
      assert.equal(e.message, "No such container: nope");
      return true;
    });
    await assert.rejects(c.call("GET", "/boom"), { statusCode: 500, message: "plain failure" });
    c.close();
  });

  it("reports 304 as nothing-to-do", async () => {
    const c = new EngineClient({ host: `unix://${sock}` });
    assert.equal(await c.containerStart("x"), false);
    c.close();
  });

  it("says when the daemon is not there", async () => {
    const c = new EngineClient({ host: `unix://${join(dir, "missing.sock")}` });
    await assert.rejects(c.ping(), (e: unknown) => {
      assert.ok(e instanceof DaemonConnectionError);
      assert.match(
        e.message,
        /^Cannot connect to the wharf daemon at unix:\/\/.*missing\.sock\. Is the wharf/,
      );
      return true;
    });
  });

  it("demultiplexes logs", async () => {
    const c = new EngineClient({ host: `unix://${sock}` });
    const res = await c.containerLogs("c1", { stdout: true, stderr: true });
    const out = new PassThrough();
    const err = new PassThrough();
    await copyOutput(res, { stdout: out, stderr: err });
    assert.equal(out.read()?.toString(), "out\n");
    assert.equal(err.read()?.toString(), "err\n");
    c.close();
  });

  it("resolves wait once registered, then the exit status", async () => {
    const c = new EngineClient({ host: `unix://${sock}` });
    const w = await c.containerWait("c1", { condition: "next-exit" });
    assert.match(seen.at(-1)?.url ?? "", /condition=next-exit/);
    assert.deepEqual(await w.result, { StatusCode: 3, Error: null });
    c.close();
  });

  it("hijacks attach on 101, half-closes stdin and keeps reading", async () => {
    const c = new EngineClient({ host: `unix://${sock}` });
    const s = await c.containerAttach("c1", { stream: true, stdin: true, stdout: true, stderr: true });
    assert.match(seen.at(-1)?.url ?? "", /\/v1\.47\/containers\/c1\/attach\?stream=1&stdin=1/);
    assert.ok("write" in s);
    s.write("abc");
    s.end();
    const frames: string[] = [];
    for await (const f of demuxFrames(s)) frames.push(`${f.stream}:${f.data}`);
    assert.deepEqual(frames, ["1:hello\n", "1:got:abc", "2:bye\n"]);
  });
});

describe("demuxFrames", () => {
  it("handles frames split at every byte", async () => {
    const all = Buffer.concat([encodeFrame(1, "a"), encodeFrame(2, "bc"), encodeFrame(1, "")]);
    const chunks = [...all].map((b) => Buffer.from([b]));
    const got: string[] = [];
    for await (const f of demuxFrames(Readable.from(chunks))) got.push(`${f.stream}${f.data}`);
    assert.deepEqual(got, ["1a", "2bc", "1"]);
  });

  it("rejects a truncated stream and surfaces system errors", async () => {
    const trunc = encodeFrame(1, "abcdef").subarray(0, 10);
    await assert.rejects(async () => {
      for await (const _ of demuxFrames(Readable.from([trunc]))) {
        // drain
      }
    }, /unexpected EOF/);
    const sys = Buffer.concat([
      encodeFrame(1, "x"),
      Buffer.from([3, 0, 0, 0, 0, 0, 0, 4]),
      Buffer.from("oops"),
    ]);
    await assert.rejects(async () => {
      for await (const _ of demuxFrames(Readable.from([sys]))) {
        // drain
      }
    }, /oops/);
  });
});

describe("jsonLines", () => {
  it("parses lines split across chunks", async () => {
    const src = Readable.from([
      Buffer.from('{"status":"a"}\r\n{"sta'),
      Buffer.from('tus":"b"}\n'),
      Buffer.from('{"x":1}'),
    ]);
    const got: unknown[] = [];
    for await (const o of jsonLines(src)) got.push(o);
    assert.deepEqual(got, [{ status: "a" }, { status: "b" }, { x: 1 }]);
  });
});

describe("hosts", () => {
  it("parses unix and tcp forms", () => {
    assert.deepEqual(parseHost("unix:///run/x.sock"), {
      kind: "unix",
      socketPath: "/run/x.sock",
      url: "unix:///run/x.sock",
    });
    assert.deepEqual(parseHost("tcp://127.0.0.1:2375"), {
      kind: "tcp",
      host: "127.0.0.1",
      port: 2375,
      url: "tcp://127.0.0.1:2375",
    });
    assert.equal(
      parseHost("tcp://[::1]:99").kind === "tcp" && parseHost("tcp://[::1]:99").url,
      "tcp://[::1]:99",
    );
    assert.throws(() => parseHost("tcp://h:99999"));
  });

  it("prefers -H, then WHARF_HOST, never DOCKER_HOST", () => {
    assert.equal(resolveHost("unix:///a", { WHARF_HOST: "unix:///b" }), "unix:///a");
    assert.equal(resolveHost(undefined, { WHARF_HOST: "unix:///b" }), "unix:///b");
    assert.equal(resolveHost(undefined, { DOCKER_HOST: "unix:///c" }), "unix:///run/wharf/wharf.sock");
  });

  it("defaults a user other than root to their rootless daemon's socket when it exists", () => {
    const env = { XDG_RUNTIME_DIR: "/run/user/1000/" };
    const there = (p: string) => p === "/run/user/1000/wharf.sock";
    assert.equal(defaultHost(env, { uid: 1000, exists: there }), "unix:///run/user/1000/wharf.sock");
    assert.equal(defaultHost(env, { uid: 1000, exists: () => false }), "unix:///run/wharf/wharf.sock");
    assert.equal(defaultHost(env, { uid: 0, exists: there }), "unix:///run/wharf/wharf.sock");
    assert.equal(defaultHost({}, { uid: 1000, exists: () => true }), "unix:///run/wharf/wharf.sock");
  });
});
