import { join } from "node:path";
import { InvalidParameterError } from "../errdefs/index.ts";
import { RecordStore } from "../store/index.ts";
import { log } from "../util/index.ts";
import type { AttachedStdio, ContainerServiceOptions } from "./deps.ts";
import { ExecManager, type ExecTarget } from "./exec.ts";
import type { ContainerRecord, ContainerStateDoc } from "./model.ts";
import { ContainerIndex, normalizeName } from "./names.ts";

/** Resolves one wait on a container's exit or removal. */
export type Waiter = (exit: { code: number; error?: string }) => void;

/** One container in memory: its record, its state, and who is waiting on it. */
export class Container {
  record: ContainerRecord;
  state: ContainerStateDoc;
  /** Attach requests that arrived before start; start connects them before the process runs. */
  pendingAttach = new Set<(stdio: AttachedStdio | Error) => void>();
  exitWaiters = new Set<Waiter>();
  removeWaiters = new Set<Waiter>();
  /** Serialises lifecycle operations on this container. */
  lock: Promise<unknown> = Promise.resolve();
  /** Resolves when the current run ends. */
  running?: Promise<void>;
  removing = false;
  removed = false;
  mounted = false;
  /** A pending restart under the container's restart policy. */
  restartTimer?: NodeJS.Timeout;

  constructor(record: ContainerRecord, state: ContainerStateDoc) {
    this.record = record;
    this.state = state;
  }

  get id(): string {
    return this.record.Id;
  }

  /** The name without Docker's leading slash. */
  get shortName(): string {
    return this.record.Name.slice(1);
  }

  /** Runs `fn` after every earlier operation on this container. */
  serial<T>(fn: () => Promise<T>): Promise<T> {
    const next = this.lock.then(fn, fn);
    this.lock = next.catch(() => undefined);
    return next;
  }
}

/**
 * The containers in memory and on disk, and what every part of the service shares: lookup by ID, name
 * or prefix, the record store, the exec sessions, events and state persistence.
 */
export class Registry {
  readonly o: ContainerServiceOptions;
  readonly store: RecordStore<ContainerRecord>;
  readonly index = new ContainerIndex<Container>();
  readonly execs: ExecManager;

  constructor(opts: ContainerServiceOptions) {
    this.o = opts;
    this.execs = new ExecManager({ runtime: opts.runtime, events: opts.events });
    this.store = new RecordStore<ContainerRecord>(opts.root, {
      document: "container.json",
      tmpDir: opts.tmpDir,
    });
  }

  /** The container for an ID, name or unique ID prefix; NotFoundError `No such container: x` otherwise. */
  get(ref: string): Container {
    return this.index.get(ref);
  }

  /** True when a container with that ref exists. */
  exists(ref: string): boolean {
    return this.index.find(ref) !== undefined;
  }

  /** The container's directory under the data root. */
  dir(id: string): string {
    return this.store.dir(id);
  }

  /** The container's merged rootfs mount point. */
  rootfsPath(id: string): string {
    return join(this.store.dir(id), "merged");
  }

  /** Event attributes Docker puts on every container event: labels, image, name. */
  attrs(c: Container, extra: Record<string, string> = {}): Record<string, string> {
    return {
      ...(c.record.Config.Labels ?? {}),
      image: c.record.Config.Image ?? "",
      name: c.shortName,
      ...extra,
    };
  }

  /** Publishes a container event. */
  emit(c: Container, action: string, extra?: Record<string, string>): void {
    this.o.events({
      Type: "container",
      Action: action,
      Actor: { ID: c.id, Attributes: this.attrs(c, extra) },
    });
  }

  /** Persists the container's state document (not after removal). */
  async saveState(c: Container): Promise<void> {
    if (c.removed) return;
    await this.store.putDoc(c.id, "state.json", c.state);
  }

  /** Answers every wait on the container's current run. */
  resolveExitWaiters(c: Container, exit: { code: number; error?: string }): void {
    const waiters = [...c.exitWaiters];
    c.exitWaiters.clear();
    for (const w of waiters) w(exit);
  }

  /** What exec needs to know of a container. */
  execTarget(c: Container): ExecTarget {
    const st = c.state.State;
    return {
      id: c.id,
      name: c.record.Name,
      running: st.Running && !st.Restarting,
      paused: st.Paused,
      rootfs: this.rootfsPath(c.id),
      user: c.record.Config.User ?? "",
      attrs: this.attrs(c),
    };
  }

  /** POST /containers/{id}/rename */
  async rename(ref: string, newName: string): Promise<void> {
    const c = this.get(ref);
    if (!newName) throw new InvalidParameterError("Neither old nor new names may be empty");
    const name = normalizeName(newName);
    const old = c.record.Name;
    if (name === old)
      throw new InvalidParameterError(`Renaming a container with the same name as its current name`);
    this.index.reserveName(name, c.id);
    c.record = { ...c.record, Name: name };
    try {
      await this.store.put(c.id, c.record);
    } catch (e) {
      this.index.releaseName(name);
      c.record = { ...c.record, Name: old };
      throw e;
    }
    this.index.releaseName(old);
    await this.o.network
      .rename(c.id, name)
      .catch((e) => log("warn", "network rename failed", { id: c.id, err: e }));
    this.emit(c, "rename", { oldName: old });
  }
}
