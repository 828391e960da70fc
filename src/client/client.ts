// The typed Engine API client: container and exec endpoints here, the rest inherited from ResourceClient.
import type { Duplex, Readable } from "node:stream";
import type {
  ContainerAttachQuery,
  ContainerCreateQuery,
  ContainerCreateRequest,
  ContainerCreateResponse,
  ContainerInspectResponse,
  ContainerListQuery,
  ContainerLogsQuery,
  ContainerPruneResponse,
  ContainerRemoveQuery,
  ContainerStopQuery,
  ContainerSummary,
  ContainerTopResponse,
  ContainerUpdateRequest,
  ContainerWaitResponse,
  ExecCreateRequest,
  ExecInspect,
  FilesystemChange,
  FiltersParam,
  IdResponse,
  PathStat,
  WaitCondition,
} from "../apitypes/index.ts";
import { seg as id, type Query } from "./base.ts";
import { ResourceClient } from "./resources.ts";
import { type ClientResponse, readBody } from "./transport.ts";

export type { ClientOptions } from "./base.ts";

/** Decodes the `X-Docker-Container-Path-Stat` header (base64 JSON); undefined when absent or malformed. */
export function decodePathStat(header: string | string[] | undefined): PathStat | undefined {
  const h = Array.isArray(header) ? header[0] : header;
  if (!h) return undefined;
  try {
    return JSON.parse(Buffer.from(h, "base64").toString("utf8")) as PathStat;
  } catch {
    return undefined;
  }
}

/** A typed Docker Engine API v1.47 client, used by the CLI and compose. */
export class EngineClient extends ResourceClient {
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
    opts: { condition?: WaitCondition; registerTimeoutMs?: number; signal?: AbortSignal } = {},
  ): Promise<{ result: Promise<ContainerWaitResponse> }> {
    const res = this.transport.request("POST", `/containers/${id(ref)}/wait`, {
      query: { condition: opts.condition },
      signal: opts.signal,
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
  ): Promise<ClientResponse> {
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

  /** `GET /containers/{id}/stats`: JSON frames, one per second while `stream`, else a single one. */
  containerStats(
    ref: string,
    opts: { stream: boolean; oneShot?: boolean; signal?: AbortSignal },
  ): Promise<ClientResponse> {
    return this.stream("GET", `/containers/${id(ref)}/stats`, {
      query: { stream: opts.stream, "one-shot": opts.oneShot || undefined },
      signal: opts.signal,
    });
  }

  /** `POST /containers/{id}/pause`. */
  async containerPause(ref: string): Promise<void> {
    await this.call("POST", `/containers/${id(ref)}/pause`);
  }

  /** `POST /containers/{id}/unpause`. */
  async containerUnpause(ref: string): Promise<void> {
    await this.call("POST", `/containers/${id(ref)}/unpause`);
  }

  /** `POST /containers/{id}/update`. */
  containerUpdate(ref: string, body: ContainerUpdateRequest): Promise<{ Warnings: string[] | null }> {
    return this.json("POST", `/containers/${id(ref)}/update`, { json: body });
  }

  /** `POST /containers/{id}/rename`. */
  async containerRename(ref: string, name: string): Promise<void> {
    await this.call("POST", `/containers/${id(ref)}/rename`, { query: { name } });
  }

  /** `GET /containers/{id}/changes`. */
  async containerChanges(ref: string): Promise<FilesystemChange[]> {
    return (await this.json<FilesystemChange[] | null>("GET", `/containers/${id(ref)}/changes`)) ?? [];
  }

  /** `GET /containers/{id}/export`: a tar of the container's filesystem. */
  containerExport(ref: string): Promise<ClientResponse> {
    return this.stream("GET", `/containers/${id(ref)}/export`);
  }

  /** `POST /containers/prune`. */
  containerPrune(filters?: FiltersParam): Promise<ContainerPruneResponse> {
    return this.json("POST", "/containers/prune", { query: { filters } });
  }

  /** `HEAD /containers/{id}/archive?path=`: what is at a path inside the container. */
  async containerStatPath(ref: string, path: string): Promise<PathStat> {
    const res = await this.transport.request("HEAD", `/containers/${id(ref)}/archive`, { query: { path } });
    res.resume();
    const st = decodePathStat(res.headers["x-docker-container-path-stat"]);
    if (!st) throw new Error("unable to decode container path stat header");
    return st;
  }

  /** `GET /containers/{id}/archive?path=`: a tar of the path, and its stat from the header. */
  async containerArchiveGet(ref: string, path: string): Promise<{ body: ClientResponse; stat?: PathStat }> {
    const body = await this.stream("GET", `/containers/${id(ref)}/archive`, { query: { path } });
    return { body, stat: decodePathStat(body.headers["x-docker-container-path-stat"]) };
  }

  /** `PUT /containers/{id}/archive?path=`: extracts a tar into a directory of the container. */
  async containerArchivePut(
    ref: string,
    path: string,
    tar: Readable | Buffer,
    opts: { noOverwriteDirNonDir?: boolean; copyUIDGID?: boolean } = {},
  ): Promise<void> {
    await this.call("PUT", `/containers/${id(ref)}/archive`, {
      query: {
        path,
        noOverwriteDirNonDir: opts.noOverwriteDirNonDir ?? true,
        copyUIDGID: opts.copyUIDGID || undefined,
      },
      body: tar,
      headers: { "Content-Type": "application/x-tar" },
    });
  }

  /** `POST /containers/{id}/exec`. */
  execCreate(ref: string, body: ExecCreateRequest | Record<string, unknown>): Promise<IdResponse> {
    return this.json("POST", `/containers/${id(ref)}/exec`, { json: body });
  }

  /** `POST /exec/{id}/start`, hijacked (unless detached): a socket carrying stdin out and output in. */
  execStart(
    execId: string,
    body: { Detach?: boolean; Tty?: boolean; ConsoleSize?: [number, number] | null },
  ) {
    return this.transport.hijack("POST", `/exec/${id(execId)}/start`, { json: body });
  }

  /** `POST /exec/{id}/start` with `Detach: true`: starts the process in the background. */
  async execStartDetached(execId: string, body: { Tty?: boolean; ConsoleSize?: [number, number] | null }) {
    await this.call("POST", `/exec/${id(execId)}/start`, { json: { ...body, Detach: true } });
  }

  /** `GET /exec/{id}/json`. */
  execInspect(execId: string): Promise<ExecInspect> {
    return this.json("GET", `/exec/${id(execId)}/json`);
  }

  /** `POST /exec/{id}/resize`. */
  async execResize(execId: string, size: { h: number; w: number }): Promise<void> {
    await this.call("POST", `/exec/${id(execId)}/resize`, { query: size });
  }
}
