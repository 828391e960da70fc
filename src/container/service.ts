import type { Readable } from "node:stream";
import type { ContainerCreateRequest, ContainerInspectResponse, ContainerSummary } from "../api/types.ts";
import type { PathStat } from "./archive.ts";
import type { FilesystemChange } from "./changes.ts";
import { createContainer } from "./create.ts";
import type { AttachedStdio, ContainerServiceOptions, LogEntry } from "./deps.ts";
import type { ExecCreateRequest, ExecInspect } from "./exec.ts";
import { ContainerFiles } from "./files.ts";
import { HealthMonitor } from "./health.ts";
import { ContainerIO } from "./io.ts";
import { Lifecycle } from "./lifecycle.ts";
import { LogRotator } from "./logrotate.ts";
import { countContainers, imageUse, inspectContainer, listContainers } from "./queries.ts";
import { Registry } from "./registry.ts";
import type { UpdateRequest } from "./resources.ts";
import type { StatsJson } from "./statsjson.ts";
import { Storage } from "./storage.ts";
import { Supervisor } from "./supervise.ts";

/**
 * The container service the API and daemon use: a facade over the registry (lookup, records, events),
 * lifecycle (start/stop/kill/remove, exits, restart policies), I/O (attach, logs, wait), files (cp) and
 * queries (list, inspect), supervision (stats, top, pause, update) and healthchecks.
 */
export class ContainerService {
  readonly #r: Registry;
  readonly #storage: Storage;
  readonly #life: Lifecycle;
  readonly #io: ContainerIO;
  readonly #files: ContainerFiles;
  readonly #sup: Supervisor;

  constructor(opts: ContainerServiceOptions) {
    this.#r = new Registry(opts);
    this.#storage = new Storage(this.#r);
    const deps = { registry: this.#r, storage: this.#storage };
    const logs = new LogRotator(this.#r);
    this.#life = new Lifecycle({ ...deps, health: new HealthMonitor(this.#r), logs });
    this.#io = new ContainerIO({ registry: this.#r, logs });
    this.#files = new ContainerFiles(deps);
    this.#sup = new Supervisor(this.#r, { limits: opts.hostLimits });
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
    return imageUse(this.#r, imageId);
  }

  /** POST /containers/create */
  create(req: ContainerCreateRequest, opts: { name?: string }): Promise<{ Id: string; Warnings: string[] }> {
    return createContainer(
      { registry: this.#r, storage: this.#storage, limits: this.#r.o.hostLimits },
      req,
      opts,
    );
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
    return this.#r.execs.create(this.#r.execTarget(this.#r.get(ref)), req);
  }

  /** POST /exec/{id}/start */
  execStart(
    execId: string,
    opts: { detach: boolean; tty?: boolean; consoleSize?: [number, number] | null },
  ): Promise<{ stdio?: AttachedStdio; exit: Promise<number> }> {
    const c = this.#r.get(this.#r.execs.containerOf(execId));
    return this.#r.execs.start(this.#r.execTarget(c), execId, opts);
  }

  /** Framing of an exec's stream. */
  execStreamInfo(execId: string, opts: { tty?: boolean }): { tty: boolean; stdin: boolean } {
    return this.#r.execs.streamInfo(execId, opts);
  }

  /** GET /exec/{id}/json */
  execInspect(execId: string): ExecInspect {
    return this.#r.execs.inspect(execId);
  }

  /** POST /exec/{id}/resize */
  execResize(execId: string, size: { height: number; width: number }): Promise<void> {
    return this.#r.execs.resize(execId, size);
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
    return inspectContainer(this.#r, ref);
  }

  /** GET /containers/json */
  list(opts: { all?: boolean; limit?: number; filters?: Record<string, string[]> }): ContainerSummary[] {
    return listContainers(this.#r, opts);
  }

  /** Number of containers by state, for /info. */
  counts(): { total: number; running: number; paused: number; stopped: number } {
    return countContainers(this.#r);
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
