import { chmod, unlink } from "node:fs/promises";
import type { IncomingMessage, Server, ServerResponse } from "node:http";
import { connect, type Socket } from "node:net";
import type { Duplex } from "node:stream";
import { InvalidParameterError, isErrno, TooManyRequestsError } from "../errdefs/index.ts";
import type { PeerCredentials } from "../host/index.ts";
import { log, nodeHttp, nodeHttps, nowNs } from "../util/index.ts";
import { messageFor, statusFor } from "./errors.ts";
import {
  API_VERSION,
  type RequestContext,
  type Router,
  Router as RouterClass,
  type Transport,
} from "./router.ts";

/** What the daemon reports as its product in the Server header. */
export const SERVER_HEADER = `Docker/27.5.1 (linux) wharf/0.1.0`;

const commonHeaders: Record<string, string> = {
  "Api-Version": API_VERSION,
  Server: SERVER_HEADER,
  "Docker-Experimental": "false",
  Ostype: "linux",
};

/** Bounds on what one request may cost the daemon before a handler runs. */
export interface HttpLimits {
  /** Largest request head (request line and headers); more is a 431. Go's net/http default, 1 MiB. */
  maxHeaderSize: number;
  /** Largest JSON body a route reads whole; more is a 400. Streamed bodies (load, import, build) are exempt. */
  maxJsonBody: number;
  /** Time a client has to send a request's head; a slower one (slow-loris) gets a 408 and is closed. */
  headersTimeoutMs: number;
  /** Time a client has to send a JSON body once its head arrived; a slower one is closed. */
  bodyTimeoutMs: number;
  /** Attach/exec (and other hijacked) connections one client may hold at once; one more is a 429. */
  maxHijackedPerClient: number;
}

/** The limits a daemon runs with unless its hidden --api-* flags change them. */
export const DEFAULT_HTTP_LIMITS: HttpLimits = {
  maxHeaderSize: 1024 * 1024,
  maxJsonBody: 64 * 1024 * 1024,
  headersTimeoutMs: 60_000,
  bodyTimeoutMs: 60_000,
  // Far above what compose or a CI runner attaches at once, far below the daemon's file limit.
  maxHijackedPerClient: 2048,
};

function tooLarge(limit: number): InvalidParameterError {
  return new InvalidParameterError(`request body too large: the limit for a JSON body is ${limit} bytes`);
}

/** Reads a JSON request body whole, refusing one over `limit` bytes or slower than `timeoutMs`. */
function readAll(req: IncomingMessage, limits: HttpLimits): Promise<Buffer> {
  const limit = limits.maxJsonBody;
  if (Number(req.headers["content-length"] ?? 0) > limit) return Promise.reject(tooLarge(limit));
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const timer = setTimeout(() => {
      req.socket.destroy();
      reject(new InvalidParameterError("timed out reading the request body"));
    }, limits.bodyTimeoutMs);
    const fail = (e: Error) => {
      clearTimeout(timer);
      req.off("data", onData);
      reject(e);
    };
    const onData = (c: Buffer) => {
      size += c.length;
      if (size > limit) fail(tooLarge(limit));
      else chunks.push(c);
    };
    req.on("data", onData);
    req.on("end", () => {
      clearTimeout(timer);
      resolve(Buffer.concat(chunks));
    });
    req.on("error", fail);
  });
}

function parseJson<T>(buf: Buffer): T | undefined {
  const text = buf.toString("utf8").trim();
  if (!text) return undefined;
  try {
    return JSON.parse(text) as T;
  } catch (e) {
    throw new InvalidParameterError(`invalid JSON: ${(e as Error).message}`);
  }
}

/** Reads exactly `len` bytes of an upgraded request's body from `head` and then the socket. */
async function readUpgradeBody(socket: Duplex, head: Buffer, len: number): Promise<Buffer> {
  let have = head;
  while (have.length < len) {
    const chunk = await new Promise<Buffer | null>((resolve) => {
      const onData = (c: Buffer) => {
        cleanup();
        resolve(c);
      };
      const onEnd = () => {
        cleanup();
        resolve(null);
      };
      const cleanup = () => {
        socket.off("data", onData);
        socket.off("end", onEnd);
        socket.pause();
      };
      socket.on("data", onData);
      socket.on("end", onEnd);
      socket.resume();
    });
    if (!chunk) break;
    have = Buffer.concat([have, chunk]);
  }
  const rest = have.subarray(len);
  if (rest.length) socket.unshift(rest);
  return have.subarray(0, len);
}

function makeContext(
  t: Transport,
  match: { version: string; path: string; params: Record<string, string>; query: URLSearchParams },
  upgradeBody: Buffer | undefined,
  conn: {
    hijacked: WeakSet<object>;
    openedAt: WeakMap<object, bigint>;
    limits: HttpLimits;
    /** Counts a hijacked connection against its client until it closes; throws past the limit. */
    claimHijack(sock: Duplex): void;
  },
): RequestContext {
  const { hijacked } = conn;
  const sock = t.kind === "http" ? t.req.socket : t.socket;
  const { req } = t;
  const closed = new Promise<void>((resolve) => {
    const s = t.kind === "http" ? t.req.socket : t.socket;
    // Off the socket again when the response ends: keep-alive clients (docker-py) send many requests on one.
    const done = () => {
      s.off("close", done);
      resolve();
    };
    s.once("close", done);
    if (t.kind === "http") t.res.once("close", done);
  });
  const requireHttp = (): ServerResponse => {
    if (t.kind !== "http") throw new InvalidParameterError("this endpoint does not support upgrade");
    return t.res;
  };
  const sendJsonBytes = (status: number, data: Buffer): void => {
    const res = requireHttp();
    res.writeHead(status, {
      ...commonHeaders,
      "Content-Type": "application/json",
      "Content-Length": data.length,
    });
    res.end(data);
  };
  return {
    method: req.method ?? "GET",
    path: match.path,
    params: match.params,
    query: match.query,
    version: match.version,
    headers: req.headers,
    connectedAtNs: conn.openedAt.get(sock) ?? nowNs(),
    closed,
    async jsonBody<T>() {
      if (upgradeBody) return parseJson<T>(upgradeBody);
      if (t.kind === "upgrade") return undefined;
      return parseJson<T>(await readAll(req, conn.limits));
    },
    bodyStream() {
      return req;
    },
    sendJson(status, body) {
      // Encoded once: a string body was measured for its length and then encoded again by the socket write.
      sendJsonBytes(status, Buffer.from(`${JSON.stringify(body)}\n`));
    },
    sendJsonBytes,
    sendStatus(status, headers = {}) {
      const res = requireHttp();
      res.writeHead(status, { ...commonHeaders, ...headers });
      res.end();
    },
    sendText(status, body, headers = {}) {
      const res = requireHttp();
      res.writeHead(status, {
        ...commonHeaders,
        "Content-Type": "text/plain; charset=utf-8",
        "Content-Length": Buffer.byteLength(body),
        ...headers,
      });
      res.end(t.req.method === "HEAD" ? undefined : body);
    },
    startStream(contentType, headers = {}) {
      const res = requireHttp();
      res.writeHead(200, { ...commonHeaders, "Content-Type": contentType, ...headers });
      res.flushHeaders();
      return res;
    },
    hijack(contentType, opts = {}) {
      conn.claimHijack(t.kind === "http" ? t.req.socket : t.socket);
      if (opts.upgrade) {
        if (t.kind !== "upgrade")
          throw new InvalidParameterError(`this endpoint needs Upgrade: ${opts.upgrade}`);
        t.socket.write(
          `HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: ${opts.upgrade}\r\n` +
            `Api-Version: ${API_VERSION}\r\nServer: ${SERVER_HEADER}\r\n\r\n`,
        );
        if (!upgradeBody && t.head.length) t.socket.unshift(t.head);
        return t.socket;
      }
      if (t.kind === "upgrade") {
        t.socket.write(
          `HTTP/1.1 101 UPGRADED\r\nContent-Type: ${contentType}\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n` +
            `Api-Version: ${API_VERSION}\r\nServer: ${SERVER_HEADER}\r\n\r\n`,
        );
        if (!upgradeBody && t.head.length) t.socket.unshift(t.head);
        return t.socket;
      }
      // Without Upgrade (testcontainers' exec) Docker still hijacks: a raw 200 then the stream until EOF.
      const sock = t.req.socket;
      hijacked.add(sock);
      sock.write(
        `HTTP/1.1 200 OK\r\nContent-Type: ${contentType}\r\nApi-Version: ${API_VERSION}\r\nServer: ${SERVER_HEADER}\r\n\r\n`,
      );
      return sock;
    },
  };
}

function sendError(t: Transport, err: unknown): void {
  const status = statusFor(err);
  const message = messageFor(err);
  if (status >= 500) log("error", "request failed", { method: t.req.method, url: t.req.url, err: message });
  else log("debug", "request refused", { method: t.req.method, url: t.req.url, status, err: message });
  const body = status === 304 ? "" : `${JSON.stringify({ message })}\n`;
  if (t.kind === "http") {
    const { res } = t;
    if (res.headersSent) {
      res.destroy();
      return;
    }
    res.writeHead(status, {
      ...commonHeaders,
      "Content-Type": "application/json",
      "Content-Length": Buffer.byteLength(body),
      // A refused body still on the wire (too large, too slow) is not drained: the connection ends.
      ...(t.req.complete ? {} : { Connection: "close" }),
    });
    res.end(body);
  } else {
    t.socket.end(
      `HTTP/1.1 ${status} Error\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n` +
        `Api-Version: ${API_VERSION}\r\n\r\n${body}`,
    );
  }
}

/** Serves the router over HTTP, including Docker's `Upgrade: tcp` hijack for attach and exec. */
export class ApiServer {
  readonly #router: Router;
  readonly #servers: Server[] = [];
  readonly #hijacked = new WeakSet<object>();
  readonly #openedAt = new WeakMap<object, bigint>();
  /** Upgraded (attach, exec) sockets: node:http stops tracking them, so close() cuts them itself. */
  readonly #upgraded = new Set<Duplex>();

  readonly #limits: HttpLimits;
  readonly #peer: (socket: Socket) => PeerCredentials | undefined;
  /** Hijacked connections open now, per client. */
  readonly #hijacks = new Map<string, number>();

  constructor(
    router: Router,
    limits: Partial<HttpLimits> = {},
    opts: { peerCredentials?: (socket: Socket) => PeerCredentials | undefined } = {},
  ) {
    this.#router = router;
    this.#limits = { ...DEFAULT_HTTP_LIMITS, ...limits };
    this.#peer = opts.peerCredentials ?? (() => undefined);
  }

  /** Who a connection belongs to: the user behind a unix socket, the address behind a TCP one. */
  #clientOf(sock: Duplex): string {
    const s = sock as Socket;
    if (s.remoteAddress) return `tcp:${s.remoteAddress}`;
    const cred = this.#peer(s);
    return cred ? `uid:${cred.uid}` : "unix";
  }

  #claimHijack(sock: Duplex): void {
    const client = this.#clientOf(sock);
    const n = this.#hijacks.get(client) ?? 0;
    const limit = this.#limits.maxHijackedPerClient;
    if (n >= limit)
      throw new TooManyRequestsError(
        `too many attach and exec connections open from this client: the limit is ${limit}; close some first`,
      );
    this.#hijacks.set(client, n + 1);
    sock.once("close", () => {
      const left = (this.#hijacks.get(client) ?? 1) - 1;
      if (left > 0) this.#hijacks.set(client, left);
      else this.#hijacks.delete(client);
    });
  }

  /** node:http options carrying the limits (header size, how often timeouts are checked). */
  #httpOptions(): { keepAlive: true; maxHeaderSize: number; connectionsCheckingInterval: number } {
    const { maxHeaderSize, headersTimeoutMs } = this.#limits;
    const interval = Math.max(50, Math.min(30_000, Math.floor(headersTimeoutMs / 4)));
    return { keepAlive: true, maxHeaderSize, connectionsCheckingInterval: interval };
  }

  async #dispatch(t: Transport): Promise<void> {
    try {
      const url = new URL(t.req.url ?? "/", "http://docker");
      const { version, path } = RouterClass.splitVersion(url.pathname);
      const { route, params } = this.#router.match(t.req.method ?? "GET", path, version);
      let upgradeBody: Buffer | undefined;
      if (t.kind === "upgrade") {
        const len = Number(t.req.headers["content-length"] ?? 0);
        if (len > this.#limits.maxJsonBody) throw tooLarge(this.#limits.maxJsonBody);
        if (len > 0) upgradeBody = await readUpgradeBody(t.socket, t.head, len);
      }
      const ctx = makeContext(t, { version, path, params, query: url.searchParams }, upgradeBody, {
        hijacked: this.#hijacked,
        openedAt: this.#openedAt,
        limits: this.#limits,
        claimHijack: (sock) => this.#claimHijack(sock),
      });
      await route.handler(ctx);
    } catch (err) {
      sendError(t, err);
    }
  }

  /** Wires a node:http or node:https (`tls`) server to the router. */
  #wire(server: Server, tls = false): Server {
    // Only the head is timed by node:http: a whole-request timeout would cut image load/import/build
    // uploads, and hijacked attach/exec, logs -f and events answer long after their head arrived.
    server.requestTimeout = 0;
    server.headersTimeout = this.#limits.headersTimeoutMs;
    // dockerd never closes an idle keep-alive connection; Node's 5 s default did, and a pooled client
    // (docker-compose through docker-py) that reused one at that moment got "Connection reset by peer".
    server.keepAliveTimeout = 0;
    server.on("request", (req: IncomingMessage, res: ServerResponse) => {
      void this.#dispatch({ kind: "http", req, res });
    });
    server.on("upgrade", (req: IncomingMessage, socket: Duplex, head: Buffer) => {
      // node:http drops its own error listener on upgrade: a client resetting the connection before a
      // handler listens (attach waiting for start, a refused request) would otherwise end the daemon.
      socket.on("error", () => socket.destroy());
      this.#upgraded.add(socket);
      socket.once("close", () => this.#upgraded.delete(socket));
      void this.#dispatch({ kind: "upgrade", req, socket, head });
    });
    server.on(tls ? "secureConnection" : "connection", (s: object) => this.#openedAt.set(s, nowNs()));
    server.on("clientError", (err: Error, socket: Duplex) => {
      // Bytes after a hijack without Upgrade are stdin, not a malformed next request.
      if (this.#hijacked.has(socket)) return;
      const code = (err as Error & { code?: string }).code;
      const status =
        code === "HPE_HEADER_OVERFLOW"
          ? "431 Request Header Fields Too Large"
          : code === "ERR_HTTP_REQUEST_TIMEOUT"
            ? "408 Request Timeout"
            : "400 Bad Request";
      if (socket.writable) socket.end(`HTTP/1.1 ${status}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
      else socket.destroy(err);
    });
    this.#servers.push(server);
    return server;
  }

  /** Listens on a unix socket, replacing a stale socket file but refusing one another daemon serves. */
  async listenUnix(path: string, mode = 0o660): Promise<void> {
    await removeStaleSocket(path);
    const server = this.#wire(nodeHttp().createServer(this.#httpOptions()));
    await listen(server, { path });
    await chmod(path, mode);
  }

  /**
   * Listens on TCP; with `tls`, HTTPS whose clients must present a certificate signed by `ca` when
   * `verify` is set (Docker's --tlsverify), as remote access to the engine is root on the host.
   */
  async listenTcp(opts: {
    host: string;
    port: number;
    tls?: { cert: Buffer; key: Buffer; ca?: Buffer; verify: boolean };
  }): Promise<void> {
    const server = opts.tls
      ? nodeHttps().createServer({
          ...this.#httpOptions(),
          cert: opts.tls.cert,
          key: opts.tls.key,
          ca: opts.tls.ca,
          requestCert: opts.tls.verify,
          rejectUnauthorized: opts.tls.verify,
        })
      : nodeHttp().createServer(this.#httpOptions());
    this.#wire(server, !!opts.tls);
    await listen(server, { host: opts.host, port: opts.port });
  }

  /**
   * Stops accepting connections. Idle ones close at once; streams still open (logs -f, events, attach) get a
   * moment to finish and are then cut, so a graceful stop never waits on a client that follows forever.
   */
  async close(opts: { graceMs?: number } = {}): Promise<void> {
    const grace = opts.graceMs ?? 1000;
    const timer = setTimeout(() => {
      for (const s of this.#servers) s.closeAllConnections();
      for (const sock of this.#upgraded) sock.destroy();
    }, grace);
    await Promise.all(
      this.#servers.map(
        (s) =>
          new Promise<void>((resolve) => {
            s.close(() => resolve());
            s.closeIdleConnections();
          }),
      ),
    );
    clearTimeout(timer);
    for (const sock of this.#upgraded) sock.destroy();
  }
}

function listen(server: Server, at: { path: string } | { host: string; port: number }): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(at, () => {
      server.off("error", reject);
      resolve();
    });
  });
}

async function removeStaleSocket(path: string): Promise<void> {
  const inUse = await new Promise<boolean>((resolve) => {
    const c = connect(path);
    c.once("connect", () => {
      c.destroy();
      resolve(true);
    });
    c.once("error", () => resolve(false));
  });
  if (inUse) throw new Error(`socket ${path} is in use by another daemon`);
  try {
    await unlink(path);
  } catch (e) {
    if (!isErrno(e, "ENOENT")) throw e;
  }
}
