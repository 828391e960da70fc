// The request helpers every typed client method builds on.
import type { SystemInfo, SystemVersion } from "../apitypes/index.ts";
import {
  type ClientResponse,
  type RequestOptions,
  readBody,
  Transport,
  type TransportOptions,
} from "./transport.ts";

/** Options of EngineClient. */
export type ClientOptions = TransportOptions;

/** A query as the transport takes it. */
export type Query = RequestOptions["query"];

/** Encodes an object reference for a path segment. */
export function seg(x: string): string {
  return encodeURIComponent(x);
}

/** HTTP helpers over one transport: JSON calls, body-less calls, streams. */
export class BaseClient {
  /** The underlying HTTP transport (for endpoints without a typed method). */
  readonly transport: Transport;

  constructor(opts: ClientOptions) {
    this.transport = new Transport(opts);
  }

  /** Sends a request and parses a JSON answer. */
  async json<T>(method: string, path: string, opts: RequestOptions = {}): Promise<T> {
    const res = await this.transport.request(method, path, opts);
    const body = await readBody(res);
    if (body.length === 0) return undefined as T;
    return JSON.parse(body.toString("utf8")) as T;
  }

  /** Sends a request whose answer has no useful body; true unless the daemon said 304 (nothing to do). */
  async call(method: string, path: string, opts: RequestOptions = {}): Promise<boolean> {
    const res = await this.transport.request(method, path, opts);
    res.resume();
    return res.statusCode !== 304;
  }

  /** Sends a request and returns the streaming response body. */
  stream(method: string, path: string, opts: RequestOptions = {}): Promise<ClientResponse> {
    return this.transport.request(method, path, opts);
  }

  /** `GET /_ping`: resolves when the daemon answers. */
  async ping(): Promise<void> {
    await this.call("GET", "/_ping");
  }

  /** `GET /version`. */
  version(): Promise<SystemVersion> {
    return this.json("GET", "/version");
  }

  /** `GET /info`. */
  info(): Promise<SystemInfo> {
    return this.json("GET", "/info");
  }

  /** Closes idle pooled connections. */
  close(): void {
    this.transport.close();
  }
}
