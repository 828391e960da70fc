// A small HTTP/1.1 client over one socket per request. node:http costs ~40 ms to load, more than the
// rest of the CLI's start-up; the Engine API needs only this much of it.
import type { Socket } from "node:net";
import { Readable } from "node:stream";

/** Header names are lower-cased; repeated headers are joined with ", ". */
export type ResponseHeaders = Record<string, string>;

/** A response: status, headers and the decoded body as a stream. */
export class ClientResponse extends Readable {
  /** HTTP status code. */
  readonly statusCode: number;
  /** Reason phrase of the status line. */
  readonly statusMessage: string;
  /** Response headers, names lower-cased. */
  readonly headers: ResponseHeaders;
  #socket: Socket | undefined;

  constructor(head: ParsedHead, socket: Socket | undefined) {
    super();
    this.statusCode = head.statusCode;
    this.statusMessage = head.statusMessage;
    this.headers = head.headers;
    this.#socket = socket;
  }

  override _read(): void {
    this.#socket?.resume();
  }

  override _destroy(err: Error | null, cb: (err?: Error | null) => void): void {
    // A consumer that stops reading early (logs -f, events) ends the connection with it.
    this.#socket?.destroy();
    this.#socket = undefined;
    cb(err);
  }

  /** Detaches from the socket once the body is complete. */
  release(): Socket | undefined {
    const s = this.#socket;
    this.#socket = undefined;
    return s;
  }
}

/** A parsed status line and header block. */
export interface ParsedHead {
  statusCode: number;
  statusMessage: string;
  headers: ResponseHeaders;
}

const MAX_HEAD = 64 * 1024;
const CRLF2 = Buffer.from("\r\n\r\n");

/** Parses `HTTP/1.1 200 OK\r\nName: value\r\n...` (without the final blank line). */
export function parseHead(text: string): ParsedHead {
  const lines = text.split("\r\n");
  const m = /^HTTP\/1\.[01] (\d{3})(?: (.*))?$/.exec(lines[0] ?? "");
  if (!m) throw new Error(`malformed HTTP response: ${JSON.stringify((lines[0] ?? "").slice(0, 80))}`);
  const headers: ResponseHeaders = {};
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i] ?? "";
    const c = line.indexOf(":");
    if (c <= 0) throw new Error(`malformed HTTP header: ${JSON.stringify(line.slice(0, 80))}`);
    const name = line.slice(0, c).trim().toLowerCase();
    const value = line.slice(c + 1).trim();
    headers[name] = name in headers ? `${headers[name]}, ${value}` : value;
  }
  return { statusCode: Number(m[1]), statusMessage: m[2] ?? "", headers };
}

/** How the body of a response is delimited (RFC 9112 §6.3). */
type Framing = { kind: "none" } | { kind: "length"; left: number } | { kind: "chunked" } | { kind: "close" };

function framing(method: string, head: ParsedHead): Framing {
  const s = head.statusCode;
  if (method === "HEAD" || s === 204 || s === 304 || (s >= 100 && s < 200)) return { kind: "none" };
  const te = head.headers["transfer-encoding"];
  if (te && /(^|,)\s*chunked\s*$/i.test(te)) return { kind: "chunked" };
  const cl = head.headers["content-length"];
  if (cl !== undefined) {
    const n = Number(cl);
    if (!/^\d+$/.test(cl) || !Number.isSafeInteger(n)) throw new Error(`bad Content-Length: ${cl}`);
    return n === 0 ? { kind: "none" } : { kind: "length", left: n };
  }
  return { kind: "close" };
}

/** Incremental decoder of a chunked body; `feed` returns the data bytes and whether the body ended. */
export class ChunkedDecoder {
  #buf: Buffer = Buffer.alloc(0);
  #left = 0;
  #state: "size" | "data" | "crlf" | "trailer" | "done" = "size";

  /** Decodes what can be decoded from `input`; leftover bytes past the body are in `rest`. */
  feed(input: Buffer): { data: Buffer[]; done: boolean; rest: Buffer } {
    const out: Buffer[] = [];
    let buf = this.#buf.length ? Buffer.concat([this.#buf, input]) : input;
    for (;;) {
      if (this.#state === "data") {
        if (buf.length === 0) break;
        const n = Math.min(this.#left, buf.length);
        out.push(buf.subarray(0, n));
        buf = buf.subarray(n);
        this.#left -= n;
        if (this.#left === 0) this.#state = "crlf";
        continue;
      }
      if (this.#state === "done") break;
      const nl = buf.indexOf("\r\n");
      if (nl < 0) {
        if (buf.length > 4096) throw new Error("malformed chunked encoding: line too long");
        break;
      }
      const line = buf.subarray(0, nl).toString("latin1");
      buf = buf.subarray(nl + 2);
      if (this.#state === "crlf") {
        if (line !== "") throw new Error("malformed chunked encoding: missing CRLF after chunk");
        this.#state = "size";
      } else if (this.#state === "size") {
        const hex = (line.split(";")[0] ?? "").trim();
        if (!/^[0-9a-fA-F]+$/.test(hex)) throw new Error(`malformed chunk size: ${JSON.stringify(hex)}`);
        this.#left = Number.parseInt(hex, 16);
        this.#state = this.#left === 0 ? "trailer" : "data";
      } else if (line === "") {
        this.#state = "done";
      }
    }
    const done = this.#state === "done";
    this.#buf = done ? Buffer.alloc(0) : Buffer.from(buf);
    return { data: out, done, rest: done ? buf : Buffer.alloc(0) };
  }
}

/** What `exchange` needs: the socket (connected or connecting), the request head, and the body. */
export interface Exchange {
  socket: Socket;
  method: string;
  /** Request line and headers, ending in the blank line. */
  head: string;
  body?: Buffer | Readable;
  /** Hand back the raw socket on `101 Switching Protocols`. */
  upgrade?: boolean;
  signal?: AbortSignal;
}

/** The outcome of an exchange: a response, or a raw socket after a 101. */
export type ExchangeResult = { kind: "response"; res: ClientResponse } | { kind: "upgrade"; socket: Socket };

/**
 * Writes the request and parses the answer. Resolves once the head has arrived; the body streams
 * through the response. Rejects on socket errors before that, which the caller maps.
 */
export function exchange(x: Exchange): Promise<ExchangeResult> {
  const { socket, method } = x;
  return new Promise((resolve, reject) => {
    let res: ClientResponse | undefined;
    let settled = false;
    let headBuf: Buffer = Buffer.alloc(0);
    let frame: Framing = { kind: "none" };
    let chunked: ChunkedDecoder | undefined;

    const fail = (err: Error): void => {
      cleanup();
      socket.destroy();
      if (!settled) {
        settled = true;
        reject(err);
      } else res?.destroy(err);
    };
    const onAbort = (): void => {
      const e = new Error("The operation was aborted");
      e.name = "AbortError";
      (e as NodeJS.ErrnoException).code = "ABORT_ERR";
      fail(e);
    };
    const finish = (): void => {
      cleanup();
      res?.release();
      socket.destroy();
      res?.push(null);
    };
    const push = (b: Buffer): void => {
      if (b.length && res && !res.push(b)) socket.pause();
    };
    const onBody = (b: Buffer): void => {
      if (frame.kind === "close") push(b);
      else if (frame.kind === "length") {
        const n = Math.min(frame.left, b.length);
        push(b.subarray(0, n));
        frame.left -= n;
        if (frame.left === 0) finish();
      } else if (frame.kind === "chunked" && chunked) {
        const r = chunked.feed(b);
        for (const d of r.data) push(d);
        if (r.done) finish();
      }
    };
    const onData = (chunk: Buffer): void => {
      try {
        if (res) {
          onBody(chunk);
          return;
        }
        headBuf = headBuf.length ? Buffer.concat([headBuf, chunk]) : chunk;
        const end = headBuf.indexOf(CRLF2);
        if (end < 0) {
          if (headBuf.length > MAX_HEAD) throw new Error("HTTP response head too large");
          return;
        }
        const head = parseHead(headBuf.subarray(0, end).toString("latin1"));
        const rest = headBuf.subarray(end + 4);
        if (head.statusCode === 100) {
          headBuf = Buffer.alloc(0);
          if (rest.length) onData(rest);
          return;
        }
        if (head.statusCode === 101 && x.upgrade) {
          cleanup();
          // Back to the initial state, as node:http does after an upgrade, so whoever reads next
          // (pipe, for await, on("data")) starts the flow; the bytes already read come first.
          socket.pause();
          (socket as { readableFlowing: boolean | null }).readableFlowing = null;
          if (rest.length) socket.unshift(rest);
          settled = true;
          resolve({ kind: "upgrade", socket });
          return;
        }
        frame = framing(method, head);
        if (frame.kind === "chunked") chunked = new ChunkedDecoder();
        res = new ClientResponse(head, socket);
        settled = true;
        resolve({ kind: "response", res });
        if (frame.kind === "none") finish();
        else if (rest.length) onBody(rest);
      } catch (err) {
        fail(err as Error);
      }
    };
    const onEnd = (): void => {
      if (res && frame.kind === "close") finish();
      else fail(new Error(res ? "unexpected EOF in HTTP response body" : "socket hang up"));
    };
    const onError = (err: Error): void => fail(err);
    const cleanup = (): void => {
      socket.off("data", onData);
      socket.off("end", onEnd);
      socket.off("error", onError);
      x.signal?.removeEventListener("abort", onAbort);
    };

    if (x.signal?.aborted) return onAbort();
    x.signal?.addEventListener("abort", onAbort, { once: true });
    socket.on("data", onData);
    socket.on("end", onEnd);
    socket.on("error", onError);
    writeRequest(socket, x.head, x.body, fail);
  });
}

function writeRequest(
  socket: Socket,
  head: string,
  body: Buffer | Readable | undefined,
  fail: (err: Error) => void,
): void {
  if (body === undefined || Buffer.isBuffer(body)) {
    socket.write(body?.length ? Buffer.concat([Buffer.from(head, "latin1"), body]) : head);
    return;
  }
  socket.write(head);
  // Chunked framing, with the socket's backpressure passed on to the body.
  body.on("data", (c: Buffer | string) => {
    const b = typeof c === "string" ? Buffer.from(c) : c;
    if (b.length === 0) return;
    socket.write(`${b.length.toString(16)}\r\n`);
    socket.write(b);
    if (!socket.write("\r\n")) {
      body.pause();
      socket.once("drain", () => body.resume());
    }
  });
  body.once("end", () => socket.write("0\r\n\r\n"));
  body.once("error", (err) => fail(err));
  // A daemon may answer (an error, say) before it read the whole body; stop sending then.
  socket.once("close", () => body.destroy());
}
