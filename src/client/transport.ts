import { connect, isIP, type Socket } from "node:net";
import type { Duplex, Readable } from "node:stream";
import { ApiError, DaemonConnectionError } from "./errors.ts";
import { type HostAddress, parseHost } from "./host.ts";
import { type ClientResponse, type ExchangeResult, exchange } from "./http1.ts";

export { ClientResponse, type ResponseHeaders } from "./http1.ts";

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

/** HTTP/1.1 to the daemon over a unix socket or TCP(+TLS), one connection per request. */
export class Transport {
  readonly address: HostAddress;
  readonly apiVersion: string;
  readonly #tls: TlsOptions | undefined;

  constructor(opts: TransportOptions) {
    this.address = parseHost(opts.host);
    this.apiVersion = opts.apiVersion ?? "1.47";
    this.#tls = opts.tls;
  }

  /** The versioned path, e.g. `/v1.47/containers/json?all=1`. */
  url(path: string, query?: Record<string, QueryValue>): string {
    const prefix = this.apiVersion ? `/v${this.apiVersion}` : "";
    return `${prefix}${path}${encodeQuery(query)}`;
  }

  /** Sends a request and resolves with the response once it is 2xx (or 304); other statuses reject as ApiError. */
  async request(method: string, path: string, opts: RequestOptions = {}): Promise<ClientResponse> {
    const r = await this.#exchange(method, path, opts, false);
    if (r.kind === "upgrade") throw new Error("unexpected protocol upgrade");
    const status = r.res.statusCode;
    if ((status >= 200 && status < 300) || status === 304) return r.res;
    throw await errorFromResponse(r.res);
  }

  /**
   * Opens a hijacked connection (attach, exec start): asks for `Upgrade: tcp` and, on `101`, hands back
   * the raw socket: write stdin to it, read output from it, `end()` it to half-close stdin.
   * A daemon that answers 200 without upgrading gives an output-only stream.
   */
  async hijack(method: string, path: string, opts: RequestOptions = {}): Promise<Duplex | Readable> {
    const headers = { ...opts.headers, Connection: "Upgrade", Upgrade: "tcp" };
    const r = await this.#exchange(method, path, { ...opts, headers }, true);
    if (r.kind === "upgrade") {
      r.socket.setNoDelay?.(true);
      return r.socket;
    }
    const status = r.res.statusCode;
    if (status >= 200 && status < 300) return r.res;
    throw await errorFromResponse(r.res);
  }

  async #exchange(
    method: string,
    path: string,
    opts: RequestOptions,
    upgrade: boolean,
  ): Promise<ExchangeResult> {
    const headers: Record<string, string> = { "User-Agent": "wharf-cli", ...opts.headers };
    if (opts.json !== undefined) headers["Content-Type"] = "application/json";
    const a = this.address;
    headers.Host = a.kind === "unix" ? "api.moby.localhost" : hostHeader(a.host, a.port);
    let body: Buffer | Readable | undefined;
    if (opts.json !== undefined) body = Buffer.from(JSON.stringify(opts.json));
    else if (typeof opts.body === "string") body = Buffer.from(opts.body);
    else body = opts.body;
    const has = (n: string): boolean => Object.keys(headers).some((k) => k.toLowerCase() === n);
    if (Buffer.isBuffer(body)) headers["Content-Length"] = String(body.length);
    else if (body) {
      if (!has("content-length")) headers["Transfer-Encoding"] = "chunked";
    } else if (method !== "GET" && method !== "HEAD") headers["Content-Length"] = "0";
    if (!upgrade && !has("connection")) headers.Connection = "close";
    let head = `${method} ${this.url(path, opts.query)} HTTP/1.1\r\n`;
    for (const [k, v] of Object.entries(headers)) head += `${k}: ${v}\r\n`;
    head += "\r\n";
    const socket = await this.#connect();
    try {
      return await exchange({ socket, method, head, body, upgrade, signal: opts.signal });
    } catch (err) {
      throw this.#wrapError(err as Error);
    }
  }

  async #connect(): Promise<Socket> {
    const a = this.address;
    if (a.kind === "unix") return connect({ path: a.socketPath });
    const t = this.#tls;
    if (!t) return connect({ host: a.host, port: a.port });
    // Loaded only here: node:tls costs more at start-up than the rest of the client.
    const tls = await import("node:tls");
    return tls.connect({
      host: a.host,
      port: a.port,
      servername: isIP(a.host) ? undefined : a.host,
      ca: t.ca,
      cert: t.cert,
      key: t.key,
      rejectUnauthorized: t.verify ?? false,
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

  /** Nothing pooled to close; kept so callers need not know. */
  close(): void {}
}

function hostHeader(host: string, port: number): string {
  return `${host.includes(":") ? `[${host}]` : host}:${port}`;
}

/** Reads a whole response body. */
export async function readBody(res: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of res) chunks.push(typeof c === "string" ? Buffer.from(c) : (c as Buffer));
  return Buffer.concat(chunks);
}

/** Turns an error response into an ApiError, taking `message` from a JSON body when there is one. */
export async function errorFromResponse(res: ClientResponse): Promise<ApiError> {
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
