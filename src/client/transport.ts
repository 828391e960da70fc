import http from "node:http";
import https from "node:https";
import type { Duplex, Readable } from "node:stream";
import { ApiError, DaemonConnectionError } from "./errors.ts";
import { type HostAddress, parseHost } from "./host.ts";

/** TLS material for `tcp://` hosts (PEM contents, not paths). */
export interface TlsOptions {
  ca?: string | Buffer;
  cert?: string | Buffer;
  key?: string | Buffer;
  /** Verify the daemon's certificate against `ca` (docker's `--tlsverify`). */
  verify?: boolean;
}

/** A query value; arrays repeat the key, booleans become 1/0, objects are JSON-encoded (filters). */
export type QueryValue = string | number | boolean | string[] | object | undefined | null;

/** Options of one request. */
export interface RequestOptions {
  query?: Record<string, QueryValue>;
  /** JSON-encoded as the request body. */
  json?: unknown;
  /** Sent as-is (a tar stream for import, ...). */
  body?: Readable | Buffer | string;
  headers?: Record<string, string>;
  signal?: AbortSignal;
}

/** What a transport needs to know about the daemon. */
export interface TransportOptions {
  host: string;
  /** API version for the `/vX.Y` path prefix; empty for unversioned paths. */
  apiVersion?: string;
  tls?: TlsOptions;
}

/** Builds `?a=1&b=x` from query values, in Docker's encodings. */
export function encodeQuery(query: Record<string, QueryValue> | undefined): string {
  if (!query) return "";
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) {
    if (v === undefined || v === null) continue;
    if (Array.isArray(v)) for (const x of v) p.append(k, String(x));
    else if (typeof v === "boolean") p.append(k, v ? "1" : "0");
    else if (typeof v === "object") p.append(k, JSON.stringify(v));
    else p.append(k, String(v));
  }
  const s = p.toString();
  return s ? `?${s}` : "";
}

/** HTTP/1.1 to the daemon over a unix socket or TCP(+TLS), with a keep-alive pool. */
export class Transport {
  readonly address: HostAddress;
  readonly apiVersion: string;
  readonly #tls: TlsOptions | undefined;
  readonly #agent: http.Agent;

  constructor(opts: TransportOptions) {
    this.address = parseHost(opts.host);
    this.apiVersion = opts.apiVersion ?? "1.47";
    this.#tls = opts.tls;
    // Pooled sockets are unref'd by node while idle, so they never hold the process open.
    this.#agent = this.#tls ? new https.Agent({ keepAlive: true }) : new http.Agent({ keepAlive: true });
  }

  /** The versioned path, e.g. `/v1.47/containers/json?all=1`. */
  url(path: string, query?: Record<string, QueryValue>): string {
    const prefix = this.apiVersion ? `/v${this.apiVersion}` : "";
    return `${prefix}${path}${encodeQuery(query)}`;
  }

  #requestOptions(method: string, path: string, opts: RequestOptions): https.RequestOptions {
    const headers: Record<string, string> = { "User-Agent": "wharf-cli", ...opts.headers };
    if (opts.json !== undefined) headers["Content-Type"] = "application/json";
    const o: https.RequestOptions = {
      method,
      path: this.url(path, opts.query),
      headers,
      signal: opts.signal,
    };
    const a = this.address;
    if (a.kind === "unix") {
      o.socketPath = a.socketPath;
      headers.Host = "api.moby.localhost";
    } else {
      o.host = a.host;
      o.port = a.port;
    }
    if (this.#tls) {
      o.ca = this.#tls.ca;
      o.cert = this.#tls.cert;
      o.key = this.#tls.key;
      o.rejectUnauthorized = this.#tls.verify ?? false;
    }
    return o;
  }

  #send(req: http.ClientRequest, opts: RequestOptions): void {
    if (opts.json !== undefined) {
      req.end(JSON.stringify(opts.json));
    } else if (opts.body === undefined || typeof opts.body === "string" || Buffer.isBuffer(opts.body)) {
      req.end(opts.body);
    } else {
      opts.body.on("error", (err) => req.destroy(err));
      opts.body.pipe(req);
    }
  }

  #mod(): typeof http | typeof https {
    return this.#tls ? https : http;
  }

  /** Sends a request and resolves with the response once it is 2xx (or 304); other statuses reject as ApiError. */
  request(method: string, path: string, opts: RequestOptions = {}): Promise<http.IncomingMessage> {
    return new Promise((resolve, reject) => {
      const ro = this.#requestOptions(method, path, opts);
      ro.agent = this.#agent;
      const req = this.#mod().request(ro, (res) => {
        const status = res.statusCode ?? 0;
        if ((status >= 200 && status < 300) || status === 304) resolve(res);
        else errorFromResponse(res).then(reject, reject);
      });
      req.on("error", (err) => reject(this.#wrapError(err)));
      this.#send(req, opts);
    });
  }

  /**
   * Opens a hijacked connection (attach, exec start): asks for `Upgrade: tcp` and, on `101`, hands back
   * the raw socket: write stdin to it, read output from it, `end()` it to half-close stdin.
   * A daemon that answers 200 without upgrading gives an output-only stream.
   */
  hijack(method: string, path: string, opts: RequestOptions = {}): Promise<Duplex | Readable> {
    return new Promise((resolve, reject) => {
      const ro = this.#requestOptions(method, path, opts);
      ro.agent = false;
      ro.headers = { ...ro.headers, Connection: "Upgrade", Upgrade: "tcp" };
      const req = this.#mod().request(ro);
      req.on("upgrade", (_res, socket, head) => {
        socket.setNoDelay?.(true);
        if (head.length > 0) socket.unshift(head);
        resolve(socket);
      });
      req.on("response", (res) => {
        const status = res.statusCode ?? 0;
        if (status >= 200 && status < 300) resolve(res);
        else errorFromResponse(res).then(reject, reject);
      });
      req.on("error", (err) => reject(this.#wrapError(err)));
      this.#send(req, opts);
    });
  }

  #wrapError(err: Error): Error {
    const code = (err as NodeJS.ErrnoException).code;
    if (
      code &&
      ["ENOENT", "ECONNREFUSED", "EACCES", "ENOTSOCK", "EHOSTUNREACH", "ETIMEDOUT"].includes(code)
    ) {
      return new DaemonConnectionError(this.address.url, err);
    }
    return err;
  }

  /** Closes pooled idle connections. */
  close(): void {
    this.#agent.destroy();
  }
}

/** Reads a whole response body. */
export async function readBody(res: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of res) chunks.push(typeof c === "string" ? Buffer.from(c) : (c as Buffer));
  return Buffer.concat(chunks);
}

/** Turns an error response into an ApiError, taking `message` from a JSON body when there is one. */
export async function errorFromResponse(res: http.IncomingMessage): Promise<ApiError> {
  const status = res.statusCode ?? 0;
  let text = "";
  try {
    text = (await readBody(res)).toString("utf8").trim();
  } catch {
    // The status alone still says what happened.
  }
  let message = text;
  if (text.startsWith("{")) {
    try {
      const parsed = JSON.parse(text) as { message?: unknown };
      if (typeof parsed.message === "string") message = parsed.message;
    } catch {
      // Not JSON after all: keep the text.
    }
  }
  if (!message) message = `${status} ${res.statusMessage ?? ""}`.trim();
  if (status === 404 && !message) message = "page not found";
  return new ApiError(status, message);
}
