import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { after, before, describe, it } from "node:test";
import { ChunkedDecoder, parseHead } from "./http1.ts";
import { ApiError, DaemonConnectionError, readBody, Transport } from "./index.ts";

const dir = mkdtempSync(join(tmpdir(), "wharf-http1-"));
const sock = join(dir, "d.sock");

/** What the fake server received: the head text and the decoded body. */
interface Seen {
  head: string;
  body: Buffer;
}

type Handler = (seen: Seen, c: net.Socket) => void;
let handler: Handler = () => {};
let server: net.Server;

/** Reads one request (Content-Length or chunked body) off the raw socket, then calls the handler. */
function serve(c: net.Socket): void {
  let buf: Buffer = Buffer.alloc(0);
  let head: string | undefined;
  let dec: ChunkedDecoder | undefined;
  let left = 0;
  const body: Buffer[] = [];
  let done = false;
  const complete = (): void => {
    done = true;
    handler({ head: head ?? "", body: Buffer.concat(body) }, c);
  };
  c.on("data", (d: Buffer) => {
    if (done) return;
    if (head === undefined) {
      buf = Buffer.concat([buf, d]);
      const end = buf.indexOf("\r\n\r\n");
      if (end < 0) return;
      head = buf.subarray(0, end).toString("latin1");
      d = buf.subarray(end + 4);
      if (/transfer-encoding: chunked/i.test(head)) dec = new ChunkedDecoder();
      else left = Number(/content-length: (\d+)/i.exec(head)?.[1] ?? 0);
      if (!dec && left === 0) return complete();
    }
    if (dec) {
      const r = dec.feed(d);
      body.push(...r.data.map((x) => Buffer.from(x)));
      if (r.done) complete();
    } else {
      body.push(d.subarray(0, left));
      left -= Math.min(left, d.length);
      if (left === 0) complete();
    }
  });
  c.on("error", () => undefined);
}

before(async () => {
  server = net.createServer(serve);
  await new Promise<void>((r) => server.listen(sock, r));
});

after(() => {
  server.close();
  rmSync(dir, { recursive: true, force: true });
});

const transport = (): Transport => new Transport({ host: `unix://${sock}` });

describe("http1 transport against a raw fake server", () => {
  it("reads a Content-Length body, split across writes, and sends a JSON body with its length", async () => {
    let seen: Seen | undefined;
    handler = (s, c) => {
      seen = s;
      c.write("HTTP/1.1 201 Created\r\nContent-Type: application/json\r\nX-A: 1\r\nX-A: 2\r\n");
      c.write('Content-Length: 11\r\n\r\n{"Id":');
      setTimeout(() => c.end('"x1"}'), 5);
    };
    const res = await transport().request("POST", "/containers/create", {
      json: { Image: "b" },
      query: { name: "n" },
    });
    assert.equal(res.statusCode, 201);
    assert.equal(res.statusMessage, "Created");
    assert.equal(res.headers["content-type"], "application/json");
    assert.equal(res.headers["x-a"], "1, 2");
    assert.equal((await readBody(res)).toString(), '{"Id":"x1"}');
    assert.match(seen?.head ?? "", /^POST \/v1\.47\/containers\/create\?name=n HTTP\/1\.1\r\n/);
    assert.match(seen?.head ?? "", /\r\nHost: api\.moby\.localhost/);
    assert.match(seen?.head ?? "", /\r\nContent-Length: 13/);
    assert.equal(seen?.body.toString(), '{"Image":"b"}');
  });

  it("decodes a chunked body with extensions and trailers, fed a byte at a time", async () => {
    handler = (_s, c) => {
      const raw =
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;ext=1\r\nhello\r\n7\r\n, world\r\n0\r\nX-T: y\r\n\r\n";
      let i = 0;
      const next = (): void => {
        if (i < raw.length) c.write(raw[i++], next);
        // The connection stays open: the body's end comes from the framing, not from a close.
      };
      next();
    };
    const res = await transport().request("GET", "/events");
    assert.equal((await readBody(res)).toString(), "hello, world");
  });

  it("reads a body without length until the connection closes", async () => {
    handler = (_s, c) => {
      c.write("HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\npart1 ");
      setTimeout(() => c.end("part2"), 5);
    };
    const res = await transport().request("GET", "/x");
    assert.equal((await readBody(res)).toString(), "part1 part2");
  });

  it("ends bodies at once for HEAD, 204 and 304", async () => {
    handler = (_s, c) => c.write("HTTP/1.1 304 Not Modified\r\nContent-Length: 5\r\n\r\n");
    const res = await transport().request("POST", "/containers/x/start");
    assert.equal(res.statusCode, 304);
    assert.equal((await readBody(res)).length, 0);
    handler = (_s, c) =>
      c.write("HTTP/1.1 200 OK\r\nContent-Length: 99\r\nX-Docker-Container-Path-Stat: e30=\r\n\r\n");
    const head = await transport().request("HEAD", "/containers/x/archive");
    assert.equal(head.headers["x-docker-container-path-stat"], "e30=");
    assert.equal((await readBody(head)).length, 0);
  });

  it("streams a request body with chunked framing, larger than the socket buffers", async () => {
    let seen: Seen | undefined;
    handler = (s, c) => {
      seen = s;
      c.end("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
    };
    const part = Buffer.alloc(256 * 1024, "a");
    const body = Readable.from([part, Buffer.from("b"), part, "tail"]);
    const res = await transport().request("POST", "/images/load", { body });
    assert.equal((await readBody(res)).toString(), "ok");
    assert.match(seen?.head ?? "", /\r\nTransfer-Encoding: chunked/);
    assert.equal(seen?.body.length, 2 * part.length + 5);
    assert.equal(seen?.body.subarray(part.length, part.length + 1).toString(), "b");
    assert.equal(seen?.body.subarray(-4).toString(), "tail");
  });

  it("hands over the socket on 101 with the bytes that came with the head, and keeps it two-way", async () => {
    let seen: Seen | undefined;
    handler = (s, c) => {
      seen = s;
      c.write("HTTP/1.1 101 UPGRADED\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\nearly;");
      let input = "";
      c.on("data", (d) => {
        input += d;
      });
      c.on("end", () => c.end(`got:${input}`));
    };
    const s = await transport().hijack("POST", "/exec/e1/start", { json: { Detach: false } });
    assert.match(seen?.head ?? "", /\r\nConnection: Upgrade\r\nUpgrade: tcp/);
    assert.equal(seen?.body.toString(), '{"Detach":false}');
    assert.ok("write" in s);
    s.end("stdin");
    assert.equal((await readBody(s)).toString(), "early;got:stdin");
  });

  it("gives a readable response when the daemon answers 200 instead of upgrading", async () => {
    handler = (_s, c) =>
      c.end("HTTP/1.1 200 OK\r\nContent-Type: application/vnd.docker.raw-stream\r\n\r\nout");
    const s = await transport().hijack("POST", "/containers/c/attach");
    assert.equal((await readBody(s)).toString(), "out");
  });

  it("turns error answers into ApiError, from JSON or plain bodies", async () => {
    handler = (_s, c) =>
      c.end('HTTP/1.1 404 Not Found\r\nContent-Length: 37\r\n\r\n{"message":"No such container: nope"}');
    await assert.rejects(transport().request("GET", "/containers/nope/json"), (err: unknown) => {
      assert.ok(err instanceof ApiError);
      assert.equal(err.statusCode, 404);
      assert.equal(err.message, "No such container: nope");
      return true;
    });
    handler = (_s, c) =>
      c.end("HTTP/1.1 409 Conflict\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nbusy\r\n0\r\n\r\n");
    await assert.rejects(transport().hijack("POST", "/containers/c/attach"), {
      name: "ApiError",
      message: "busy",
    });
    handler = (_s, c) => c.end("HTTP/1.1 500 Internal Server Error\r\n\r\n");
    await assert.rejects(transport().request("GET", "/x"), { message: "500 Internal Server Error" });
  });

  it("reports a missing daemon, a hang-up, a truncated body, a malformed answer and an abort", async () => {
    const gone = new Transport({ host: `unix://${join(dir, "none.sock")}` });
    await assert.rejects(gone.request("GET", "/_ping"), (err: unknown) => {
      assert.ok(err instanceof DaemonConnectionError);
      assert.match(err.message, /^Cannot connect to the wharf daemon at unix:\/\/.*none\.sock\./);
      return true;
    });
    handler = (_s, c) => c.end();
    await assert.rejects(transport().request("GET", "/x"), { message: "socket hang up" });
    handler = (_s, c) => c.end("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort");
    const res = await transport().request("GET", "/x");
    await assert.rejects(readBody(res), { message: "unexpected EOF in HTTP response body" });
    handler = (_s, c) => c.end("SSH-2.0-OpenSSH\r\n\r\n");
    await assert.rejects(transport().request("GET", "/x"), /malformed HTTP response/);
    handler = (_s, c) => c.write("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n");
    const ac = new AbortController();
    const events = await transport().request("GET", "/events", { signal: ac.signal });
    const first = await new Promise<Buffer>((r) => events.once("data", r));
    assert.equal(first.toString(), "abc");
    ac.abort();
    await assert.rejects(readBody(events), { name: "AbortError" });
  });

  it("stops reading when the consumer destroys the body", async () => {
    let closed: Promise<void> = Promise.resolve();
    handler = (_s, c) => {
      closed = new Promise((r) => c.on("close", () => r()));
      c.write("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nhi\r\n");
    };
    const res = await transport().request("GET", "/containers/c/logs");
    for await (const _ of res) break;
    await closed;
  });
});

describe("http1 parsing", () => {
  it("parses heads and rejects malformed ones", () => {
    assert.deepEqual(parseHead("HTTP/1.1 200 OK\r\nA: b\r\nC:d"), {
      statusCode: 200,
      statusMessage: "OK",
      headers: { a: "b", c: "d" },
    });
    assert.equal(parseHead("HTTP/1.1 204").statusMessage, "");
    assert.throws(() => parseHead("HTTP/1.1 200 OK\r\nno colon"), /malformed HTTP header/);
  });

  it("rejects bad chunk sizes and missing CRLFs", () => {
    assert.throws(() => new ChunkedDecoder().feed(Buffer.from("zz\r\n")), /malformed chunk size/);
    assert.throws(() => new ChunkedDecoder().feed(Buffer.from("1\r\naX\r\n")), /missing CRLF/);
    const d = new ChunkedDecoder();
    const r = d.feed(Buffer.from("1\r\na\r\n0\r\n\r\nNEXT"));
    assert.equal(Buffer.concat(r.data).toString(), "a");
    assert.ok(r.done);
    assert.equal(r.rest.toString(), "NEXT");
  });
});
