/**
 * gRPC over HTTP/2 on a hijacked socket: length-prefixed messages, status in trailers. The daemon is the server
 * on `/grpc` (BuildKit's Control and LLBBridge) and the client on `/session` (the CLI's attachables).
 */
import http2 from "node:http2";
import type { Duplex } from "node:stream";

/** gRPC status codes wharf answers with. */
export const Code = {
  OK: 0,
  CANCELLED: 1,
  UNKNOWN: 2,
  INVALID_ARGUMENT: 3,
  NOT_FOUND: 5,
  UNIMPLEMENTED: 12,
  INTERNAL: 13,
  UNAVAILABLE: 14,
} as const;

/** An error with a gRPC status, sent to the peer as grpc-status/grpc-message. */
export class GrpcError extends Error {
  readonly code: number;

  constructor(code: number, message: string) {
    super(message);
    this.code = code;
  }
}

/** Larger windows than HTTP/2's 64 KiB default: a build context streams through here. */
const SETTINGS: http2.Settings = { initialWindowSize: 4 << 20, maxFrameSize: 1 << 20 };

/** Splits a byte stream into gRPC messages (1 byte compressed flag, 4 bytes big-endian length, payload). */
export async function* readMessages(stream: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
  let buf: Buffer = Buffer.alloc(0);
  for await (const chunk of stream) {
    buf = buf.length ? Buffer.concat([buf, chunk]) : chunk;
    while (buf.length >= 5) {
      const len = buf.readUInt32BE(1);
      if (buf.length < 5 + len) break;
      if (buf[0] !== 0) throw new GrpcError(Code.UNIMPLEMENTED, "compressed gRPC messages are not supported");
      yield buf.subarray(5, 5 + len);
      buf = buf.subarray(5 + len);
    }
  }
  if (buf.length) throw new GrpcError(Code.INTERNAL, "truncated gRPC message");
}

/** Frames one message. */
export function frame(msg: Buffer): Buffer {
  const head = Buffer.alloc(5);
  head.writeUInt32BE(msg.length, 1);
  return Buffer.concat([head, msg]);
}

/** A call as a server handler sees it. */
export interface ServerCall {
  readonly method: string;
  readonly headers: http2.IncomingHttpHeaders;
  /** The request messages. */
  messages(): AsyncGenerator<Buffer>;
  /** Sends one response message, waiting when the peer reads slowly. */
  send(msg: Buffer): Promise<void>;
  /** Aborted when the client cancels the call (RST_STREAM) or the connection goes. */
  readonly signal: AbortSignal;
}

/** Handles one method; resolving ends the call with OK, a GrpcError with its status. */
export type MethodHandler = (call: ServerCall) => Promise<void>;

/** One request message in, one response message out. */
export function unary(fn: (req: Buffer, call: ServerCall) => Promise<Buffer>): MethodHandler {
  return async (call) => {
    let req: Buffer = Buffer.alloc(0);
    for await (const m of call.messages()) req = m;
    await call.send(await fn(req, call));
  };
}

function write(stream: Duplex, data: Buffer): Promise<void> {
  return new Promise((resolve, reject) => {
    if (stream.destroyed) {
      reject(new GrpcError(Code.CANCELLED, "stream closed"));
      return;
    }
    if (stream.write(data)) resolve();
    else {
      const done = () => {
        stream.off("drain", done);
        stream.off("close", done);
        if (stream.destroyed) reject(new GrpcError(Code.CANCELLED, "stream closed"));
        else resolve();
      };
      stream.on("drain", done);
      stream.on("close", done);
    }
  });
}

function encodeMessage(m: string): string {
  return encodeURIComponent(m).replace(/%20/g, " ");
}

/** Serves gRPC methods (keyed by `/package.Service/Method`) on upgraded sockets. */
export class GrpcServer {
  readonly #server: http2.Http2Server;
  readonly #methods = new Map<string, MethodHandler>();

  constructor() {
    this.#server = http2.createServer({ settings: SETTINGS });
    this.#server.on("session", (s) => {
      s.on("error", () => s.destroy());
      s.setLocalWindowSize?.(16 << 20);
    });
    this.#server.on("stream", (stream, headers) => void this.#handle(stream, headers));
  }

  /** Registers methods. */
  add(methods: Record<string, MethodHandler>): void {
    for (const [k, v] of Object.entries(methods)) this.#methods.set(k, v);
  }

  /** Speaks HTTP/2 on a socket the API answered `101` on. */
  serve(socket: Duplex): void {
    // The session is made while the connection is handed over. A socket taken over from the HTTP/1 server
    // does not end its HTTP/2 session when the peer goes, so a client killed mid-build would leave its calls
    // (and the build) running: its end or close ends the session, which aborts every call on it.
    const onSession = (session: http2.ServerHttp2Session) => {
      const gone = () => session.destroy();
      socket.once("end", gone);
      socket.once("close", gone);
    };
    this.#server.once("session", onSession);
    this.#server.emit("connection", socket);
    this.#server.off("session", onSession);
  }

  async #handle(stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders): Promise<void> {
    stream.on("error", () => undefined);
    const method = String(headers[":path"] ?? "");
    const handler = this.#methods.get(method);
    const abort = new AbortController();
    stream.once("close", () => abort.abort());
    let started = false;
    const start = () => {
      if (started || stream.destroyed) return;
      started = true;
      stream.respond({ ":status": 200, "content-type": "application/grpc" }, { waitForTrailers: true });
    };
    const finish = (code: number, message: string) => {
      if (stream.destroyed || stream.closed) return;
      const trailers = {
        "grpc-status": String(code),
        ...(message ? { "grpc-message": encodeMessage(message) } : {}),
      };
      if (!started) {
        // Trailers-only: the status rides in the headers of an empty response.
        stream.respond(
          { ":status": 200, "content-type": "application/grpc", ...trailers },
          { endStream: true },
        );
        return;
      }
      stream.once("wantTrailers", () => stream.sendTrailers(trailers));
      stream.end();
    };
    if (!handler) {
      stream.resume();
      finish(Code.UNIMPLEMENTED, `unknown method ${method}`);
      return;
    }
    const call: ServerCall = {
      method,
      headers,
      messages: () => readMessages(stream),
      send: async (msg) => {
        start();
        await write(stream, frame(msg));
      },
      signal: abort.signal,
    };
    try {
      await handler(call);
      finish(Code.OK, "");
    } catch (e) {
      const code = e instanceof GrpcError ? e.code : Code.UNKNOWN;
      finish(code, e instanceof Error ? e.message : String(e));
    }
  }
}

/** A call as the client side sees it. */
export interface ClientCall {
  send(msg: Buffer): Promise<void>;
  /** Ends the request side. */
  end(): void;
  messages(): AsyncGenerator<Buffer>;
  /** Resolves with the call's status once its trailers arrive (rejects with GrpcError when not OK). */
  readonly done: Promise<void>;
  /** Resets the stream. */
  cancel(): void;
}

/** A gRPC client over one upgraded socket (the CLI's session). */
export class GrpcClient {
  readonly #session: http2.ClientHttp2Session;
  /** Resolves when the connection is gone. */
  readonly closed: Promise<void>;

  constructor(socket: Duplex) {
    this.#session = http2.connect("http://session", { createConnection: () => socket, settings: SETTINGS });
    this.#session.on("error", () => this.#session.destroy());
    this.#session.on("connect", () => this.#session.setLocalWindowSize?.(16 << 20));
    this.closed = new Promise((resolve) => this.#session.once("close", () => resolve()));
  }

  /** Starts a call; `metadata` values that are lists go as repeated headers, as grpc-go reads them. */
  call(method: string, metadata: Record<string, string | string[]> = {}): ClientCall {
    const req = this.#session.request({
      ":method": "POST",
      ":path": method,
      "content-type": "application/grpc",
      te: "trailers",
      ...metadata,
    });
    req.on("error", () => undefined);
    let status: { code: number; message: string } | undefined;
    const take = (h: http2.IncomingHttpHeaders) => {
      if (h["grpc-status"] === undefined) return;
      status = {
        code: Number(h["grpc-status"]),
        message: decodeURIComponent(String(h["grpc-message"] ?? "")),
      };
    };
    req.on("response", take);
    req.on("trailers", take);
    const done = new Promise<void>((resolve, reject) => {
      req.once("close", () => {
        if (!status) reject(new GrpcError(Code.UNAVAILABLE, `${method}: stream closed without status`));
        else if (status.code !== Code.OK) reject(new GrpcError(status.code, status.message));
        else resolve();
      });
    });
    done.catch(() => undefined);
    return {
      send: (msg) => write(req, frame(msg)),
      end: () => req.end(),
      messages: () => readMessages(req),
      done,
      cancel: () => req.close(http2.constants.NGHTTP2_CANCEL),
    };
  }

  /** One request, one response. */
  async unary(
    method: string,
    msg: Buffer,
    metadata: Record<string, string | string[]> = {},
  ): Promise<Buffer> {
    const c = this.call(method, metadata);
    await c.send(msg);
    c.end();
    let out: Buffer | undefined;
    for await (const m of c.messages()) out = m;
    await c.done;
    return out ?? Buffer.alloc(0);
  }

  /** Closes the connection. */
  close(): void {
    this.#session.destroy();
  }
}
