import type { IncomingMessage } from "node:http";
import type { Duplex, Readable } from "node:stream";
import type {
  ContainerAttachQuery,
  ContainerCreateQuery,
  ContainerCreateRequest,
  ContainerCreateResponse,
  ContainerInspectResponse,
  ContainerListQuery,
  ContainerLogsQuery,
  ContainerRemoveQuery,
  ContainerStopQuery,
  ContainerSummary,
  ContainerTopResponse,
  ContainerWaitResponse,
  EventsQuery,
  HistoryResponseItem,
  IdResponse,
  ImageCreateQuery,
  ImageDeleteQuery,
  ImageDeleteResponseItem,
  ImageInspect,
  ImageListQuery,
  ImageSummary,
  SystemInfo,
  SystemVersion,
  WaitCondition,
} from "../api/types.ts";
import { type RequestOptions, readBody, Transport, type TransportOptions } from "./transport.ts";

/** Options of EngineClient. */
export type ClientOptions = TransportOptions;

type Query = RequestOptions["query"];

function id(x: string): string {
  return encodeURIComponent(x);
}

/** A typed Docker Engine API v1.47 client, used by the CLI and compose. */
export class EngineClient {
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
  stream(method: string, path: string, opts: RequestOptions = {}): Promise<IncomingMessage> {
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

  /** `POST /containers/create`. */
  containerCreate(
    body: ContainerCreateRequest,
    query: ContainerCreateQuery = {},
  ): Promise<ContainerCreateResponse> {
    return this.json("POST", "/containers/create", { json: body, query: query as Query });
  }

  /** `GET /containers/json`. */
  containerList(query: ContainerListQuery = {}): Promise<ContainerSummary[]> {
    return this.json("GET", "/containers/json", { query: query as Query });
  }

  /** `GET /containers/{id}/json`. */
  containerInspect(ref: string, opts: { size?: boolean } = {}): Promise<ContainerInspectResponse> {
    return this.json("GET", `/containers/${id(ref)}/json`, { query: { size: opts.size || undefined } });
  }

  /** `POST /containers/{id}/start`; false when it was already running (304). */
  containerStart(ref: string, opts: { detachKeys?: string } = {}): Promise<boolean> {
    return this.call("POST", `/containers/${id(ref)}/start`, { query: { detachKeys: opts.detachKeys } });
  }

  /** `POST /containers/{id}/stop`; false when it was already stopped (304). */
  containerStop(ref: string, query: ContainerStopQuery = {}): Promise<boolean> {
    return this.call("POST", `/containers/${id(ref)}/stop`, { query: query as Query });
  }

  /** `POST /containers/{id}/restart`. */
  async containerRestart(ref: string, query: ContainerStopQuery = {}): Promise<void> {
    await this.call("POST", `/containers/${id(ref)}/restart`, { query: query as Query });
  }

  /** `POST /containers/{id}/kill`. */
  async containerKill(ref: string, opts: { signal?: string } = {}): Promise<void> {
    await this.call("POST", `/containers/${id(ref)}/kill`, { query: { signal: opts.signal } });
  }

  /** `DELETE /containers/{id}`. */
  async containerRemove(ref: string, query: ContainerRemoveQuery = {}): Promise<void> {
    await this.call("DELETE", `/containers/${id(ref)}`, { query: query as Query });
  }

  /**
   * `POST /containers/{id}/wait`: resolves once the response headers arrive (the daemon flushes them when
   * the wait is registered, as moby does), with a promise of the exit status. A daemon that holds the
   * headers back is given `registerTimeoutMs` (default 1 s) before this resolves anyway.
   */
  async containerWait(
    ref: string,
    opts: { condition?: WaitCondition; registerTimeoutMs?: number } = {},
  ): Promise<{ result: Promise<ContainerWaitResponse> }> {
    const res = this.transport.request("POST", `/containers/${id(ref)}/wait`, {
      query: { condition: opts.condition },
    });
    const result = res.then(
      async (r) => JSON.parse((await readBody(r)).toString("utf8")) as ContainerWaitResponse,
    );
    // Keep an early rejection from being reported as unhandled before the caller awaits `result`.
    result.catch(() => {});
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, opts.registerTimeoutMs ?? 1000);
    });
    try {
      await Promise.race([res, timeout]);
    } finally {
      clearTimeout(timer);
    }
    return { result };
  }

  /** `POST /containers/{id}/attach`, hijacked: a socket carrying stdin out and output in. */
  containerAttach(ref: string, query: ContainerAttachQuery): Promise<Duplex | Readable> {
    return this.transport.hijack("POST", `/containers/${id(ref)}/attach`, { query: query as Query });
  }

  /** `GET /containers/{id}/logs`: raw bytes with a TTY, else multiplexed frames. */
  containerLogs(
    ref: string,
    query: ContainerLogsQuery,
    opts: { signal?: AbortSignal } = {},
  ): Promise<IncomingMessage> {
    return this.stream("GET", `/containers/${id(ref)}/logs`, { query: query as Query, signal: opts.signal });
  }

  /** `POST /containers/{id}/resize`. */
  async containerResize(ref: string, size: { h: number; w: number }): Promise<void> {
    await this.call("POST", `/containers/${id(ref)}/resize`, { query: size });
  }

  /** `GET /containers/{id}/top`. */
  containerTop(ref: string, opts: { psArgs?: string } = {}): Promise<ContainerTopResponse> {
    return this.json("GET", `/containers/${id(ref)}/top`, { query: { ps_args: opts.psArgs } });
  }

  /** `GET /images/json`. */
  imageList(query: ImageListQuery = {}): Promise<ImageSummary[]> {
    return this.json("GET", "/images/json", { query: query as Query });
  }

  /** `GET /images/{name}/json`. */
  imageInspect(ref: string): Promise<ImageInspect> {
    return this.json("GET", `/images/${ref}/json`);
  }

  /** `GET /images/{name}/history`. */
  imageHistory(ref: string): Promise<HistoryResponseItem[]> {
    return this.json("GET", `/images/${ref}/history`);
  }

  /** `POST /images/create`: pull (`fromImage`) or import (`fromSrc`); the body is a JSON-lines progress stream. */
  imageCreate(
    query: ImageCreateQuery,
    opts: { body?: Readable | Buffer; registryAuth?: string } = {},
  ): Promise<IncomingMessage> {
    const headers: Record<string, string> = {};
    if (opts.registryAuth) headers["X-Registry-Auth"] = opts.registryAuth;
    if (opts.body) headers["Content-Type"] = "application/x-tar";
    return this.stream("POST", "/images/create", { query: query as Query, body: opts.body, headers });
  }

  /** `POST /images/{name}/tag`. */
  async imageTag(ref: string, target: { repo: string; tag?: string }): Promise<void> {
    await this.call("POST", `/images/${ref}/tag`, { query: target });
  }

  /** `DELETE /images/{name}`. */
  imageRemove(ref: string, query: ImageDeleteQuery = {}): Promise<ImageDeleteResponseItem[]> {
    return this.json("DELETE", `/images/${ref}`, { query: query as Query });
  }

  /** `GET /events`: a JSON-lines stream of EventMessage. */
  events(query: EventsQuery = {}, opts: { signal?: AbortSignal } = {}): Promise<IncomingMessage> {
    return this.stream("GET", "/events", { query: query as Query, signal: opts.signal });
  }

  /** `POST /containers/{id}/exec` helper return shape, for callers building exec on top. */
  execCreate(ref: string, body: Record<string, unknown>): Promise<IdResponse> {
    return this.json("POST", `/containers/${id(ref)}/exec`, { json: body });
  }

  /** Closes idle pooled connections. */
  close(): void {
    this.transport.close();
  }
}
