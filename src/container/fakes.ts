import { mkdir, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PassThrough } from "node:stream";
import type { EventInput } from "../apitypes/index.ts";
import type { OciSpec } from "../oci/index.ts";
import type { AttachStreams, ExitStatus } from "../runtime/index.ts";
import type { Container } from "./container.ts";
import { createContainer } from "./create.ts";
import type { LifecycleRuntime, NetworkViews, RunNetwork, VolumeBackend } from "./deps.ts";
import { ExecManager } from "./exec.ts";
import { HealthMonitor } from "./health.ts";
import { ContainerIO } from "./io.ts";
import { Lifecycle } from "./lifecycle.ts";
import { LogRotator } from "./logrotate.ts";
import { Queries } from "./queries.ts";
import { Registry } from "./registry.ts";
import { Storage } from "./storage.ts";
import { Supervisor } from "./supervise.ts";

/** A deferred value: its promise and how to settle it. */
function deferred<T>(): { promise: Promise<T>; resolve: (v: T) => void } {
  let resolve!: (v: T) => void;
  const promise = new Promise<T>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

/**
 * A runtime without processes, for unit tests of the container core: a "process" runs from `start` until a
 * signal that ends it (or `exit()`), and `alive` survives a simulated daemon restart when the test reuses it.
 */
export class FakeRuntime implements LifecycleRuntime {
  readonly calls: string[] = [];
  readonly alive = new Set<string>();
  /** Exit files left by runs that ended while no daemon watched. */
  readonly exitFiles = new Map<string, ExitStatus>();
  /** Signals the fake process ignores (it keeps running), by container ID. */
  readonly ignores = new Map<string, Set<string>>();
  /** Called as `create` begins; `create` goes on when it resolves: to act while a start is under way. */
  onCreate?: () => Promise<void>;
  readonly #exits = new Map<string, { promise: Promise<ExitStatus>; resolve: (v: ExitStatus) => void }>();
  #pid = 1000;

  #exitOf(id: string) {
    let d = this.#exits.get(id);
    if (!d) {
      d = deferred<ExitStatus>();
      this.#exits.set(id, d);
    }
    return d;
  }

  async create(id: string, opts?: { spec: unknown }): Promise<{ pid: number; conmonPid: number }> {
    // As conmon's create: it goes on once the spec is made, and fails when making it fails.
    await opts?.spec;
    this.calls.push(`create ${id}`);
    await this.onCreate?.();
    this.#exits.set(id, deferred<ExitStatus>());
    this.exitFiles.delete(id);
    return { pid: ++this.#pid, conmonPid: ++this.#pid };
  }

  async start(id: string): Promise<void> {
    this.calls.push(`start ${id}`);
    this.alive.add(id);
  }

  /** Ends the container's process with an exit code, as if it returned on its own. */
  exit(id: string, code: number, opts: { oomKilled?: boolean } = {}): void {
    if (!this.alive.delete(id)) return;
    const info = { exitCode: code, exitedAt: new Date().toISOString(), oomKilled: !!opts.oomKilled };
    this.exitFiles.set(id, info);
    this.#exitOf(id).resolve(info);
  }

  async kill(id: string, signal: number | string): Promise<void> {
    this.calls.push(`kill ${id} ${signal}`);
    if (!this.alive.has(id)) throw new Error(`container ${id} is not running`);
    const sig = String(signal);
    if (this.ignores.get(id)?.has(sig)) return;
    const n = sig === "SIGKILL" || sig === "9" ? 9 : sig === "SIGTERM" || sig === "15" ? 15 : 0;
    // The process dies a moment after the signal, as a real one does: never inside the kill call.
    if (n) setImmediate(() => this.exit(id, 128 + n));
  }

  /** The runtime as the next daemon finds it: the same live containers and exit files, no one waiting. */
  survivor(): FakeRuntime {
    const next = new FakeRuntime();
    for (const id of this.alive) next.alive.add(id);
    for (const [id, x] of this.exitFiles) next.exitFiles.set(id, x);
    return next;
  }

  /** A process that ended while no daemon ran: conmon wrote its exit file. */
  diedWhileDown(id: string, code: number): void {
    this.alive.delete(id);
    this.exitFiles.set(id, { exitCode: code, exitedAt: new Date().toISOString(), oomKilled: false });
  }

  async delete(id: string, opts: { force?: boolean; keepExit?: boolean } = {}): Promise<void> {
    if (opts.keepExit) return;
    this.calls.push(`delete ${id}`);
    this.exitFiles.delete(id);
  }

  waitExit(id: string): Promise<ExitStatus> {
    const file = this.exitFiles.get(id);
    if (file && !this.alive.has(id)) return Promise.resolve(file);
    return this.#exitOf(id).promise;
  }

  async attach(): Promise<AttachStreams> {
    return { stdout: new PassThrough(), stderr: new PassThrough(), stdin: new PassThrough(), close() {} };
  }

  async isAlive(id: string): Promise<boolean> {
    return this.alive.has(id);
  }

  async unpause(id: string): Promise<void> {
    this.calls.push(`unpause ${id}`);
  }

  async pause(id: string): Promise<void> {
    this.calls.push(`pause ${id}`);
  }

  async resize(): Promise<void> {}
  async reopenLog(): Promise<void> {}
  async stats(): Promise<undefined> {
    return undefined;
  }
  async top(): Promise<{ titles: string[]; processes: string[][] }> {
    return { titles: [], processes: [] };
  }
  async update(): Promise<void> {}
  async exec(): Promise<never> {
    throw new Error("the fake runtime runs no exec sessions");
  }
}

/** A network that records what the lifecycle asks of it. */
export class FakeNetwork implements RunNetwork {
  readonly calls: string[] = [];
  async setup(id: string): Promise<{ ip: string }> {
    this.calls.push(`setup ${id}`);
    return { ip: "10.0.0.2" };
  }
  async teardown(id: string): Promise<void> {
    this.calls.push(`teardown ${id}`);
  }
  async restore(id: string): Promise<void> {
    this.calls.push(`restore ${id}`);
  }
  async forget(id: string): Promise<void> {
    this.calls.push(`forget ${id}`);
  }
  async rename(id: string, name: string): Promise<void> {
    this.calls.push(`rename ${id} ${name}`);
  }
  async unlink(id: string, alias: string): Promise<void> {
    this.calls.push(`unlink ${id} ${alias}`);
  }
  async createContainer(c: {
    id: string;
    hostname: string;
  }): Promise<{ hostname: string; warnings: string[] }> {
    return { hostname: c.hostname || c.id.slice(0, 12), warnings: [] };
  }
  settings(): { Networks: Record<string, never>; Ports: Record<string, never> } {
    return { Networks: {}, Ports: {} };
  }
  /** What `summary` shows per container (nothing by default) and the version it reports for all of them. */
  readonly summaries = new Map<string, ReturnType<NetworkViews["summary"]>>();
  version = 0;
  summary(id: string): ReturnType<NetworkViews["summary"]> {
    return this.summaries.get(id) ?? { ports: [], networks: {} };
  }
  summaryVersion(): number {
    return this.version;
  }
}

const noVolumes: VolumeBackend = {
  create: () => Promise.reject(new Error("no volumes in the fake")),
  createAnonymous: () => Promise.reject(new Error("no volumes in the fake")),
  isAnonymous: () => false,
  has: () => false,
  use: () => undefined,
  release: () => undefined,
  mountpoint: () => Promise.reject(new Error("no volumes in the fake")),
  unmount: () => undefined,
  remove: () => Promise.resolve(),
};

/** The container core over fakes, on a temporary data root; `restart()` simulates a daemon restart. */
export class FakeEngine {
  readonly root: string;
  runtime: FakeRuntime;
  readonly network = new FakeNetwork();
  readonly events: EventInput[] = [];
  readonly #eventWaiters = new Set<(e: EventInput) => void>();
  readonly mounts = new Set<string>();
  registry!: Registry;
  lifecycle!: Lifecycle;
  io!: ContainerIO;
  supervisor!: Supervisor;
  queries!: Queries;
  storage!: Storage;

  private constructor(root: string, runtime: FakeRuntime) {
    this.root = root;
    this.runtime = runtime;
    this.#wire();
  }

  /** A fresh engine on a new temporary root. */
  static async create(): Promise<FakeEngine> {
    const root = await mkdtemp(join(tmpdir(), "wharf-ctr-"));
    await mkdir(join(root, "tmp"));
    const e = new FakeEngine(root, new FakeRuntime());
    await e.lifecycle.init();
    return e;
  }

  #wire(): void {
    const events = (e: EventInput) => {
      this.events.push(e);
      for (const w of [...this.#eventWaiters]) w(e);
    };
    const runtime = this.runtime;
    this.registry = new Registry({
      root: join(this.root, "containers"),
      tmpDir: join(this.root, "tmp"),
      events,
      network: this.network,
    });
    const registry = this.registry;
    this.storage = new Storage({
      registry,
      rootfs: {
        mountRootfs: async (o) => void this.mounts.add(o.target),
        unmountRootfs: async (t) => void this.mounts.delete(t),
      },
      volumes: noVolumes,
    });
    const logs = new LogRotator({ runtime, readLog: async function* () {} });
    const execs = new ExecManager({ runtime, events, target: (ref) => registry.execTarget(ref) });
    this.lifecycle = new Lifecycle({
      registry,
      storage: this.storage,
      health: new HealthMonitor({ registry, runtime }),
      logs,
      runtime,
      network: this.network,
      images: { retain: () => undefined, release: () => undefined },
      spec: async () => ({ ociVersion: "1.2.0" }) as OciSpec,
      execs,
      bundleRoot: join(this.root, "bundles"),
      exitFileGraceMs: 50,
    });
    this.io = new ContainerIO({ registry, runtime, logs });
    this.supervisor = new Supervisor({ registry, runtime });
    this.queries = new Queries({ registry, network: this.network, execIds: (id) => execs.idsOf(id) });
  }

  /**
   * A new daemon over the same data root: what start-up restores. The old parts are dropped unawares (as a
   * killed daemon); the runtime is what survives of it, with `prepare` to change it while "down".
   */
  async restart(prepare?: (rt: FakeRuntime) => void): Promise<void> {
    for (const c of this.registry.index.values()) {
      clearTimeout(c.restartTimer);
      await c.state.save();
    }
    this.runtime = this.runtime.survivor();
    prepare?.(this.runtime);
    this.#wire();
    await this.lifecycle.init();
  }

  /** Resolves at the next event with this action on the container. */
  nextEvent(id: string, action: string): Promise<EventInput> {
    return new Promise((resolve) => {
      const w = (e: EventInput) => {
        if (e.Actor.ID !== id || e.Action !== action) return;
        this.#eventWaiters.delete(w);
        resolve(e);
      };
      this.#eventWaiters.add(w);
    });
  }

  /** Creates a busybox-like container. */
  async createContainer(hostConfig: Record<string, unknown> = {}): Promise<Container> {
    const { Id } = await createContainer(
      {
        registry: this.registry,
        storage: this.storage,
        images: {
          resolve: async () => ({ id: `sha256:${"ab".repeat(32)}`, config: { Cmd: ["sh"] } }),
          retain: () => undefined,
        },
        network: this.network,
      },
      { Image: "busybox", HostConfig: hostConfig },
      {},
    );
    return this.registry.get(Id);
  }

  /** The actions of the container events so far. */
  actions(id: string): string[] {
    return this.events.filter((e) => e.Actor.ID === id).map((e) => e.Action);
  }

  /** Removes the temporary root. */
  async close(): Promise<void> {
    await rm(this.root, { recursive: true, force: true });
  }
}
