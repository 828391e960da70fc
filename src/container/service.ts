import type { Readable } from "node:stream";
import type { ContainerCreateRequest, ContainerInspectResponse, ContainerSummary } from "../api/types.ts";
import type { PathStat } from "./archive.ts";
import type { FilesystemChange } from "./changes.ts";
import type { Container } from "./container.ts";
import type { AttachedStdio, LogEntry } from "./deps.ts";
import type { ExecCreateRequest, ExecInspect, ExecManager, ExecTarget } from "./exec.ts";
import type { ContainerFiles } from "./files.ts";
import type { ContainerIO } from "./io.ts";
import type { Lifecycle } from "./lifecycle.ts";
import type { Queries } from "./queries.ts";
import type { Registry } from "./registry.ts";
import type { UpdateRequest } from "./resources.ts";
import type { StatsJson } from "./statsjson.ts";
import type { Supervisor } from "./supervise.ts";

/** The parts of the container service, each built with the narrow dependencies it uses (see daemon/). */
export interface ContainerParts {
  registry: Registry;
  create: (
    req: ContainerCreateRequest,
    opts: { name?: string },
  ) => Promise<{ Id: string; Warnings: string[] }>;
  lifecycle: Lifecycle;
  io: ContainerIO;
  files: ContainerFiles;
  supervisor: Supervisor;
  queries: Queries;
  execs: ExecManager;
}

/**
 * The container service the API and daemon use: one entry point over its parts: the registry (lookup,
 * records, events), lifecycle (start/stop/kill/remove, exits, restart policies), I/O (attach, logs, wait),
 * files (cp), queries (list, inspect), supervision (stats, top, pause, update) and exec sessions.
 */
export class ContainerService {
  readonly #r: Registry;
  readonly #create: ContainerParts["create"];
  readonly #life: Lifecycle;
  readonly #io: ContainerIO;
  readonly #files: ContainerFiles;
  readonly #sup: Supervisor;
  readonly #q: Queries;
  readonly #execs: ExecManager;

  constructor(parts: ContainerParts) {
    this.#r = parts.registry;
    this.#create = parts.create;
    this.#life = parts.lifecycle;
    this.#io = parts.io;
    this.#files = parts.files;
    this.#sup = parts.supervisor;
    this.#q = parts.queries;
    this.#execs = parts.execs;
  }

  #execTarget(c: Container): ExecTarget {
    return {
      id: c.id,
      name: c.record.Name,
      running: c.state.live,
      paused: c.state.paused,
      rootfs: this.#r.rootfsPath(c.id),
      user: c.record.Config.User ?? "",
      attrs: this.#r.attrs(c),
    };
  }

  /** Loads every container, drops half-created ones, and reconnects to those whose conmon still runs. */
  init(): Promise<void> {
    return this.#life.init();
  }

  /** True when a container with that ref exists. */
  exists(ref: string): boolean {
    return this.#r.exists(ref);
  }

  /** The ID of a container ref. */
  resolveId(ref: string): string {
    return this.#r.get(ref).id;
  }

  /** Whether some container uses this image, and whether one of those runs (for rmi's conflict rules). */
  imageUse(imageId: string): { running: boolean; containerId: string } | undefined {
    return this.#q.imageUse(imageId);
  }

  /** POST /containers/create */
  create(req: ContainerCreateRequest, opts: { name?: string }): Promise<{ Id: string; Warnings: string[] }> {
    return this.#create(req, opts);
  }

  /** POST /containers/{id}/start */
  start(ref: string): Promise<void> {
    return this.#life.start(ref);
  }

  /** POST /containers/{id}/stop: the stop signal, then SIGKILL after the timeout (seconds; -1 waits forever). */
  stop(ref: string, opts: { timeout?: number; signal?: string }): Promise<void> {
    return this.#life.stop(ref, opts);
  }

  /** POST /containers/{id}/kill */
  kill(ref: string, signal?: string): Promise<void> {
    return this.#life.kill(ref, signal);
  }

  /** POST /containers/{id}/restart */
  restart(ref: string, opts: { timeout?: number; signal?: string }): Promise<void> {
    return this.#life.restart(ref, opts);
  }

  /** DELETE /containers/{id} */
  remove(ref: string, opts: { force?: boolean; volumes?: boolean }): Promise<void> {
    return this.#life.remove(ref, opts);
  }

  /** POST /containers/{id}/wait */
  wait(
    ref: string,
    opts: { condition?: string; requestedAtNs?: bigint },
  ): { ready: Promise<{ StatusCode: number; Error: { Message: string } | null }> } {
    return this.#io.wait(ref, opts);
  }

  /** POST /containers/{id}/attach */
  attach(ref: string): { tty: boolean; openStdin: boolean; stdio: Promise<AttachedStdio>; cancel(): void } {
    return this.#io.attach(ref);
  }

  /** POST /containers/{id}/exec */
  execCreate(ref: string, req: ExecCreateRequest): { Id: string } {
    return this.#execs.create(this.#execTarget(this.#r.get(ref)), req);
  }

  /** POST /exec/{id}/start */
  execStart(
    execId: string,
    opts: { detach: boolean; tty?: boolean; consoleSize?: [number, number] | null },
  ): Promise<{ stdio?: AttachedStdio; exit: Promise<number> }> {
    const c = this.#r.get(this.#execs.containerOf(execId));
    return this.#execs.start(this.#execTarget(c), execId, opts);
  }

  /** Framing of an exec's stream. */
  execStreamInfo(execId: string, opts: { tty?: boolean }): { tty: boolean; stdin: boolean } {
    return this.#execs.streamInfo(execId, opts);
  }

  /** GET /exec/{id}/json */
  execInspect(execId: string): ExecInspect {
    return this.#execs.inspect(execId);
  }

  /** POST /exec/{id}/resize */
  execResize(execId: string, size: { height: number; width: number }): Promise<void> {
    return this.#execs.resize(execId, size);
  }

  /** HEAD /containers/{id}/archive */
  archiveStat(ref: string, path: string): Promise<PathStat> {
    return this.#files.archiveStat(ref, path);
  }

  /** GET /containers/{id}/archive */
  archiveGet(ref: string, path: string): Promise<{ stat: PathStat; tar: Readable }> {
    return this.#files.archiveGet(ref, path);
  }

  /** PUT /containers/{id}/archive */
  archivePut(
    ref: string,
    path: string,
    body: Readable,
    opts: { copyUidGid: boolean; noOverwriteDirNonDir: boolean },
  ): Promise<void> {
    return this.#files.archivePut(ref, path, body, opts);
  }

  /** POST /containers/{id}/rename */
  rename(ref: string, newName: string): Promise<void> {
    return this.#r.rename(ref, newName);
  }

  /** POST /containers/prune: stopped containers, filtered by `until` and `label`. */
  prune(filters: Record<string, string[]>): Promise<{ ContainersDeleted: string[]; SpaceReclaimed: number }> {
    return this.#life.prune(filters);
  }

  /** POST /containers/{id}/resize */
  resize(ref: string, size: { height: number; width: number }): Promise<void> {
    return this.#io.resize(ref, size);
  }

  /** GET /containers/{id}/logs: entries from the log file, following until the container stops when asked. */
  logs(
    ref: string,
    opts: { since?: bigint; until?: bigint; tail?: number; follow?: boolean },
  ): { tty: boolean; entries: AsyncIterable<LogEntry> } {
    return this.#io.logs(ref, opts);
  }

  /** GET /containers/{id}/json */
  inspect(ref: string): ContainerInspectResponse {
    return this.#q.inspect(ref);
  }

  /** GET /containers/json */
  list(opts: { all?: boolean; limit?: number; filters?: Record<string, string[]> }): ContainerSummary[] {
    return this.#q.list(opts);
  }

  /** Number of containers by state, for /info. */
  counts(): { total: number; running: number; paused: number; stopped: number } {
    return this.#q.counts();
  }

  /** GET /containers/{id}/stats */
  stats(
    ref: string,
    opts: { stream: boolean; oneShot?: boolean; signal?: AbortSignal },
  ): AsyncGenerator<StatsJson> {
    return this.#sup.stats(ref, opts);
  }

  /** GET /containers/{id}/top */
  top(ref: string, psArgs?: string): Promise<{ Titles: string[]; Processes: string[][] }> {
    return this.#sup.top(ref, psArgs);
  }

  /** POST /containers/{id}/pause */
  pause(ref: string): Promise<void> {
    return this.#sup.pause(ref);
  }

  /** POST /containers/{id}/unpause */
  unpause(ref: string): Promise<void> {
    return this.#sup.unpause(ref);
  }

  /** POST /containers/{id}/update */
  update(ref: string, req: UpdateRequest): Promise<{ Warnings: string[] }> {
    return this.#sup.update(ref, req);
  }

  /** GET /containers/{id}/changes */
  changes(ref: string): Promise<FilesystemChange[]> {
    return this.#files.changes(ref);
  }

  /** GET /containers/{id}/export */
  export(ref: string): Promise<Readable> {
    return this.#files.export(ref);
  }
}
