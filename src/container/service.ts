import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { Readable } from "node:stream";
import { finished } from "node:stream/promises";
import type { ContainerCreateRequest, ContainerInspectResponse, ContainerSummary } from "../api/types.ts";
import { ConflictError, InvalidParameterError, isNotFound, NotModifiedError } from "../errdefs/index.ts";
import { RecordStore } from "../store/index.ts";
import type { EventSink } from "../system/index.ts";
import { log, newId, nowNs, nowRfc3339, parseRfc3339Ns, shortId } from "../util/index.ts";
import { type ContainerFs, type PathStat, readArchive, statPath, writeArchive } from "./archive.ts";
import { commandOf, mergeImageConfig, validateHostConfig } from "./config.ts";
import type {
  AttachedStdio,
  ExitInfo,
  ImageBackend,
  LogEntry,
  LogReader,
  NetworkBackend,
  NetworkSetup,
  RuntimeBackend,
  VolumeBackend,
} from "./deps.ts";
import { hostsFile, resolvConf } from "./etcfiles.ts";
import { type ExecCreateRequest, type ExecInspect, ExecManager, type ExecTarget } from "./exec.ts";
import { labelsMatch, matchesFilters, validateFilters } from "./filters.ts";
import { type ContainerRecord, type ContainerStateDoc, initialState } from "./model.ts";
import { collectMounts, parseVolumesFrom, type StoredMount } from "./mounts.ts";
import { ContainerIndex, normalizeName } from "./names.ts";
import { nextDelay, restartOnDaemonStart, shouldRestart } from "./restart.ts";
import { toInspect, toSummary } from "./view.ts";
import { copyUpIfEmpty, prepareBindSource } from "./volumes.ts";

/** A mount start hands to the spec: a bind (the default) or a tmpfs. */
export interface RunMount {
  source: string;
  destination: string;
  type?: "bind" | "tmpfs";
  readonly?: boolean;
  propagation?: "private" | "rprivate" | "shared" | "rshared" | "slave" | "rslave";
  options?: string[];
}

/** What start needs to turn a container into an OCI spec: built by the daemon from runtime/ helpers. */
export type SpecFactory = (c: {
  record: ContainerRecord;
  rootfs: string;
  /** Mounts the engine adds: /etc/hosts, /etc/hostname, /etc/resolv.conf, then volumes, binds and tmpfs. */
  mounts: RunMount[];
  /** The network namespace to join, or the host's. */
  network?: { netnsPath?: string; host?: boolean };
}) => Promise<unknown>;

/** The container service's collaborators, passed in by the daemon. */
export interface ContainerServiceOptions {
  /** `<data-root>/containers` */
  root: string;
  /** `<exec-root>/bundles`: OCI bundles and conmon's sockets live on tmpfs. */
  execRoot: string;
  tmpDir: string;
  images: ImageBackend;
  runtime: RuntimeBackend;
  volumes: VolumeBackend;
  network: NetworkBackend;
  buildSpec: SpecFactory;
  readLog: LogReader;
  events: EventSink;
}

type Waiter = (exit: { code: number; error?: string }) => void;

/** One container in memory: its record, its state, and who is waiting on it. */
class Container {
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

  /** Runs `fn` after every earlier operation on this container. */
  serial<T>(fn: () => Promise<T>): Promise<T> {
    const next = this.lock.then(fn, fn);
    this.lock = next.catch(() => undefined);
    return next;
  }
}

/** Container lifecycle: create, start, stop, kill, remove, wait, attach, logs, list, inspect. */
export class ContainerService {
  readonly #o: ContainerServiceOptions;
  readonly #store: RecordStore<ContainerRecord>;
  readonly #index = new ContainerIndex<Container>();
  readonly #execs: ExecManager;

  constructor(opts: ContainerServiceOptions) {
    this.#o = opts;
    this.#execs = new ExecManager({ runtime: opts.runtime, events: opts.events });
    this.#store = new RecordStore<ContainerRecord>(opts.root, {
      document: "container.json",
      tmpDir: opts.tmpDir,
    });
  }

  /** Loads every container, drops half-created ones, and reconnects to those whose conmon still runs. */
  async init(): Promise<void> {
    await this.#store.init();
    await mkdir(this.#o.execRoot, { recursive: true });
    const { records, broken } = await this.#store.loadAll();
    for (const id of broken) {
      log("warn", "removing half-created container", { id });
      await this.#store.remove(id);
    }
    await Promise.all(
      [...records.values()].map(async (rec) => {
        const state = (await this.#store.getDoc<ContainerStateDoc>(rec.Id, "state.json")) ?? initialState();
        const c = new Container(rec, state);
        rec.MountPoints ??= [];
        this.#index.add(rec.Id, rec.Name, c);
        this.#o.images.retain(rec.Image);
        for (const m of rec.MountPoints)
          if (m.Type === "volume" && m.Name && this.#o.volumes.has(m.Name))
            this.#o.volumes.use(m.Name, rec.Id);
        if (state.State.Running) await this.#reconnect(c);
      }),
    );
    for (const c of this.#index.values()) {
      const st = c.state.State;
      if (st.Running || !c.state.HasBeenStarted) continue;
      if (!restartOnDaemonStart(c.record.HostConfig.RestartPolicy, !!c.state.ManuallyStopped)) continue;
      void this.start(c.id).catch((e) => log("warn", "restart at daemon start failed", { id: c.id, err: e }));
    }
  }

  async #reconnect(c: Container): Promise<void> {
    c.mounted = true;
    if (await this.#o.runtime.isAlive(c.id)) {
      await this.#o.network
        .restore(c.id)
        .catch((e) => log("warn", "network restore failed", { id: c.id, err: e }));
      this.#watchExit(c);
      return;
    }
    // The container ended while the daemon was down: conmon left its exit code behind.
    try {
      const exit = await Promise.race([
        this.#o.runtime.waitExit(c.id),
        new Promise<never>((_, rej) => setTimeout(() => rej(new Error("no exit file")), 2000)),
      ]);
      await this.#onExit(c, exit);
    } catch {
      await this.#onExit(c, { exitCode: 255, exitedAt: nowRfc3339(), oomKilled: false });
    }
  }

  /** The container for an ID, name or unique ID prefix; NotFoundError `No such container: x` otherwise. */
  #get(ref: string): Container {
    return this.#index.get(ref);
  }

  /** True when a container with that ref exists. */
  exists(ref: string): boolean {
    return this.#index.find(ref) !== undefined;
  }

  /** The ID of a container ref. */
  resolveId(ref: string): string {
    return this.#get(ref).id;
  }

  /** Whether some container uses this image, and whether one of those runs (for rmi's conflict rules). */
  imageUse(imageId: string): { running: boolean; containerId: string } | undefined {
    let found: { running: boolean; containerId: string } | undefined;
    for (const c of this.#index.values()) {
      if (c.record.Image !== imageId) continue;
      if (c.state.State.Running) return { running: true, containerId: c.id };
      found ??= { running: false, containerId: c.id };
    }
    return found;
  }

  #attrs(c: Container, extra: Record<string, string> = {}): Record<string, string> {
    return {
      ...(c.record.Config.Labels ?? {}),
      image: c.record.Config.Image ?? "",
      name: c.record.Name.slice(1),
      ...extra,
    };
  }

  #emit(c: Container, action: string, extra?: Record<string, string>): void {
    this.#o.events({
      Type: "container",
      Action: action,
      Actor: { ID: c.id, Attributes: this.#attrs(c, extra) },
    });
  }

  async #saveState(c: Container): Promise<void> {
    if (c.removed) return;
    await this.#store.putDoc(c.id, "state.json", c.state);
  }

  /** POST /containers/create */
  async create(
    req: ContainerCreateRequest,
    opts: { name?: string },
  ): Promise<{ Id: string; Warnings: string[] }> {
    if (!req || typeof req !== "object")
      throw new InvalidParameterError("config cannot be empty in order to create a container");
    if (!req.Image) throw new InvalidParameterError("No command specified");
    const hostConfig = req.HostConfig ?? {};
    validateHostConfig(hostConfig);
    const id = newId();
    const name = opts.name ? normalizeName(opts.name) : this.#index.generateName();
    this.#index.reserveName(name, id);
    let mounts: StoredMount[] = [];
    let warnings: string[] = [];
    try {
      const image = await this.#o.images.resolve(req.Image);
      const { HostConfig: _h, NetworkingConfig: _n, ...cfgIn } = req;
      const config = mergeImageConfig(cfgIn, image.config);
      config.Image = req.Image;
      config.Hostname = req.Hostname || shortId(id);
      config.Domainname = req.Domainname ?? "";
      config.AttachStdin ??= false;
      config.AttachStdout ??= false;
      config.AttachStderr ??= false;
      config.Tty ??= false;
      config.OpenStdin ??= false;
      config.StdinOnce ??= false;
      config.Cmd ??= undefined;
      const { path, args } = commandOf(config);
      const net = await this.#o.network.createContainer({
        id,
        name,
        hostname: req.Hostname ?? "",
        hostConfig,
        exposedPorts: config.ExposedPorts,
        networking: req.NetworkingConfig,
      });
      config.Hostname = net.hostname;
      warnings = net.warnings;
      mounts = await this.#createMounts(id, config, hostConfig);
      const dir = this.#store.dir(id);
      const record: ContainerRecord = {
        Id: id,
        Name: name,
        Created: nowRfc3339(),
        Path: path,
        Args: args,
        Config: config,
        HostConfig: withHostDefaults(hostConfig),
        Image: image.id,
        LogPath: join(dir, "container.log"),
        HostnamePath: join(dir, "hostname"),
        HostsPath: join(dir, "hosts"),
        ResolvConfPath: join(dir, "resolv.conf"),
        MountPoints: mounts,
      };
      await mkdir(dir, { recursive: true, mode: 0o710 });
      const state = initialState();
      // state first: a record without state.json loads as "created", one without container.json is dropped.
      await this.#store.putDoc(id, "state.json", state);
      await this.#store.put(id, record);
      const c = new Container(record, state);
      this.#index.add(id, name, c);
      this.#o.images.retain(image.id);
      this.#emit(c, "create");
      return { Id: id, Warnings: warnings };
    } catch (e) {
      this.#index.releaseName(name);
      await this.#o.network.forget(id).catch(() => undefined);
      await this.#releaseVolumes(id, { removeAnonymous: true, mounts });
      await this.#store.remove(id).catch(() => undefined);
      throw e;
    }
  }

  /** Parses the mounts of a new container and creates the volumes they name (Docker creates them at create). */
  async #createMounts(
    id: string,
    cfg: ContainerCreateRequest,
    hc: NonNullable<ContainerCreateRequest["HostConfig"]>,
  ): Promise<StoredMount[]> {
    const inherited: StoredMount[] = [];
    for (const spec of hc.VolumesFrom ?? []) {
      const { ref, mode } = parseVolumesFrom(spec);
      for (const m of this.#get(ref).record.MountPoints)
        inherited.push({ ...m, RW: mode ? mode === "rw" : m.RW, CopyUp: false });
    }
    const mounts = collectMounts(cfg, hc, inherited);
    for (const m of mounts) {
      if (m.Type === "bind" && !m.CreateHostPath) await prepareBindSource(m);
      if (m.Type !== "volume") continue;
      const vol = m.Name
        ? (await this.#o.volumes.create({ Name: m.Name })).volume
        : await this.#o.volumes.createAnonymous();
      m.Name = vol.Name;
      m.Source = vol.Mountpoint;
      this.#o.volumes.use(vol.Name, id);
    }
    return mounts;
  }

  /** Drops a container's claim on its volumes, removing its anonymous ones when asked. */
  async #releaseVolumes(
    id: string,
    opts: { removeAnonymous: boolean; mounts: StoredMount[] },
  ): Promise<void> {
    for (const m of opts.mounts) {
      if (m.Type !== "volume" || !m.Name) continue;
      this.#o.volumes.release(m.Name, id);
      if (opts.removeAnonymous && this.#o.volumes.isAnonymous(m.Name))
        await this.#o.volumes
          .remove(m.Name)
          .catch((e) => log("warn", "removing anonymous volume failed", { name: m.Name, err: e }));
    }
  }

  /** Host paths and options of a container's volumes, binds and tmpfs mounts, ready for the spec. */
  async #runMounts(c: Container, rootfs: string): Promise<RunMount[]> {
    const out: RunMount[] = [];
    for (const m of c.record.MountPoints) {
      const propagation = (m.Propagation || "rprivate") as RunMount["propagation"];
      if (m.Type === "tmpfs") {
        out.push({
          source: "tmpfs",
          destination: m.Destination,
          type: "tmpfs",
          readonly: !m.RW,
          options: ["nosuid", "nodev", "noexec", ...(m.TmpfsOptions ?? [])],
        });
        continue;
      }
      let source = m.Source;
      if (m.Type === "volume" && m.Name) {
        source = await this.#o.volumes.mountpoint(m.Name);
        if (m.CopyUp) await copyUpIfEmpty({ rootfs, destination: m.Destination, volume: source });
      } else if (m.CreateHostPath) await prepareBindSource(m, { create: true });
      out.push({ source, destination: m.Destination, readonly: !m.RW, propagation });
    }
    return out;
  }

  async #prepareRootfs(c: Container): Promise<string> {
    const dir = this.#store.dir(c.id);
    const rootfs = join(dir, "merged");
    if (!c.mounted) {
      await Promise.all(["upper", "work", "merged"].map((d) => mkdir(join(dir, d), { recursive: true })));
      await this.#o.images.mountRootfs({
        imageId: c.record.Image,
        upperDir: join(dir, "upper"),
        workDir: join(dir, "work"),
        target: rootfs,
      });
      c.mounted = true;
    }
    return rootfs;
  }

  async #unmountRootfs(c: Container): Promise<void> {
    if (!c.mounted) return;
    try {
      await this.#o.images.unmountRootfs(join(this.#store.dir(c.id), "merged"));
    } catch (e) {
      log("warn", "unmount failed", { id: c.id, err: e });
    }
    c.mounted = false;
  }

  #unmountVolumes(c: Container): void {
    for (const m of c.record.MountPoints) if (m.Type === "volume" && m.Name) this.#o.volumes.unmount(m.Name);
  }

  async #writeEtcFiles(c: Container, net: NetworkSetup): Promise<{ source: string; destination: string }[]> {
    const r = c.record;
    const hc = r.HostConfig;
    const hostname = r.Config.Hostname ?? shortId(c.id);
    const base = net.host ? await readFile("/etc/hosts", "utf8").catch(() => "") : undefined;
    const extra = [...(hc.ExtraHosts ?? []), ...(net.extraHosts ?? [])];
    const dns = net.nameservers ?? hc.Dns;
    await Promise.all([
      writeFile(r.HostnamePath, `${hostname}\n`),
      writeFile(
        r.HostsPath,
        hostsFile({ hostname, domainname: r.Config.Domainname, ip: net.ip, extra, base }),
      ),
      resolvConf({ dns, dnsSearch: hc.DnsSearch, dnsOptions: hc.DnsOptions, keepLoopback: net.host }).then(
        (t) => writeFile(r.ResolvConfPath, t),
      ),
    ]);
    return [
      { source: r.ResolvConfPath, destination: "/etc/resolv.conf" },
      { source: r.HostnamePath, destination: "/etc/hostname" },
      { source: r.HostsPath, destination: "/etc/hosts" },
    ];
  }

  /** POST /containers/{id}/start */
  start(ref: string): Promise<void> {
    const c = this.#get(ref);
    return c.serial(async () => {
      c.state.ManuallyStopped = false;
      await this.#start(c);
    });
  }

  async #start(c: Container): Promise<void> {
    const st = c.state.State;
    if (c.removing) throw new ConflictError(`container is marked for removal and cannot be started`);
    if (st.Paused) throw new ConflictError("cannot start a paused container, try unpause instead");
    if (st.Running && !st.Restarting) throw new NotModifiedError("container already started");
    const bundleDir = join(this.#o.execRoot, c.id);
    try {
      let net: NetworkSetup = {};
      const [rootfs, etcMounts] = await Promise.all([
        this.#prepareRootfs(c),
        this.#o.network.setup(c.id).then((n) => {
          net = n;
          return this.#writeEtcFiles(c, n);
        }),
        mkdir(bundleDir, { recursive: true }),
      ]).then(([r, m]) => [r, m] as const);
      const mounts = [...etcMounts, ...(await this.#runMounts(c, rootfs))];
      const network = { netnsPath: net.netnsPath, host: net.host };
      const spec = await this.#o.buildSpec({ record: c.record, rootfs, mounts, network });
      const createOpts = {
        bundleDir,
        spec,
        logPath: c.record.LogPath,
        tty: !!c.record.Config.Tty,
        openStdin: !!c.record.Config.OpenStdin,
        stdinOnce: !!c.record.Config.StdinOnce,
      };
      const { pid } = await this.#o.runtime.create(c.id, createOpts).catch(async (e: unknown) => {
        // A run whose cleanup was cut short (daemon killed) leaves runc state behind; clear it once.
        if (!/already exists/i.test(String(e))) throw e;
        await this.#o.runtime.delete(c.id, { force: true });
        return this.#o.runtime.create(c.id, createOpts);
      });
      await this.#connectPendingAttach(c);
      const startedNs = nowNs();
      await this.#o.runtime.start(c.id);
      Object.assign(st, {
        Status: "running",
        Running: true,
        Paused: false,
        Restarting: false,
        OOMKilled: false,
        Dead: false,
        Pid: pid,
        ExitCode: 0,
        Error: "",
        StartedAt: nowRfc3339(),
        FinishedAt: "0001-01-01T00:00:00Z",
      });
      c.state.HasBeenStarted = true;
      c.state.StartedAtNs = startedNs.toString();
      this.#watchExit(c);
      await this.#saveState(c);
      this.#emit(c, "start");
    } catch (e) {
      const message = e instanceof Error ? e.message : String(e);
      st.Error = message;
      st.ExitCode = exitCodeForStartError(message);
      await this.#saveState(c).catch(() => undefined);
      for (const a of c.pendingAttach) a(e instanceof Error ? e : new Error(message));
      c.pendingAttach.clear();
      await this.#o.runtime.delete(c.id, { force: true }).catch(() => undefined);
      await this.#o.network.teardown(c.id).catch(() => undefined);
      await this.#unmountRootfs(c);
      this.#unmountVolumes(c);
      this.#resolveExitWaiters(c, { code: st.ExitCode, error: message });
      if (c.record.HostConfig.AutoRemove) void this.remove(c.id, { force: true }).catch(() => undefined);
      throw e;
    }
  }

  async #connectPendingAttach(c: Container): Promise<void> {
    const pending = [...c.pendingAttach];
    c.pendingAttach.clear();
    await Promise.all(
      pending.map(async (resolve) => {
        try {
          resolve(await this.#o.runtime.attach(c.id));
        } catch (e) {
          resolve(e as Error);
        }
      }),
    );
  }

  #watchExit(c: Container): void {
    c.running = this.#o.runtime.waitExit(c.id).then(
      (exit) => this.#onExit(c, exit),
      (e) => log("error", "waiting for container exit failed", { id: c.id, err: e }),
    );
  }

  async #onExit(c: Container, exit: ExitInfo): Promise<void> {
    const st = c.state.State;
    Object.assign(st, {
      Status: "exited",
      Running: false,
      Paused: false,
      Restarting: false,
      Pid: 0,
      ExitCode: exit.exitCode,
      OOMKilled: exit.oomKilled,
      FinishedAt: exit.exitedAt,
    });
    await this.#saveState(c).catch((e) => log("error", "saving state failed", { id: c.id, err: e }));
    await Promise.all([
      this.#o.runtime.delete(c.id, { force: true }).catch(() => undefined),
      this.#unmountRootfs(c),
      this.#o.network
        .teardown(c.id)
        .catch((e) => log("warn", "network teardown failed", { id: c.id, err: e })),
    ]);
    this.#unmountVolumes(c);
    this.#execs.forget(c.id);
    if (exit.oomKilled) this.#emit(c, "oom");
    this.#emit(c, "die", { exitCode: String(exit.exitCode) });
    this.#resolveExitWaiters(c, { code: exit.exitCode });
    const restart = shouldRestart(c.record.HostConfig.RestartPolicy, {
      exitCode: exit.exitCode,
      restartCount: c.state.RestartCount,
      manuallyStopped: !!c.state.ManuallyStopped,
      removing: c.removing,
    });
    if (restart) {
      this.#scheduleRestart(c);
      return;
    }
    if (c.record.HostConfig.AutoRemove && !c.removing) {
      await this.remove(c.id, { force: true }).catch((e) =>
        log("warn", "auto-remove failed", { id: c.id, err: e }),
      );
    }
  }

  /** Restarts after Docker's backoff; meanwhile the container shows as "restarting". */
  #scheduleRestart(c: Container): void {
    const st = c.state.State;
    const ranFor = Number(parseRfc3339Ns(st.FinishedAt) - parseRfc3339Ns(st.StartedAt)) / 1e6;
    const delay = nextDelay(c.state.RestartDelayMs ?? 0, ranFor);
    c.state.RestartDelayMs = delay;
    Object.assign(st, { Status: "restarting", Running: true, Restarting: true });
    void this.#saveState(c);
    c.restartTimer = setTimeout(() => {
      c.restartTimer = undefined;
      void c
        .serial(async () => {
          if (!st.Restarting || c.removing) return;
          c.state.RestartCount++;
          await this.#start(c);
        })
        .catch((e) => {
          log("warn", "restart failed", { id: c.id, err: e });
          Object.assign(st, { Status: "exited", Running: false, Restarting: false });
          void this.#saveState(c);
        });
    }, delay);
  }

  /** Cancels a pending restart; true when there was one (the container is then simply stopped). */
  #cancelRestart(c: Container): boolean {
    if (!c.restartTimer) return false;
    clearTimeout(c.restartTimer);
    c.restartTimer = undefined;
    Object.assign(c.state.State, { Status: "exited", Running: false, Restarting: false });
    return true;
  }

  #resolveExitWaiters(c: Container, exit: { code: number; error?: string }): void {
    const waiters = [...c.exitWaiters];
    c.exitWaiters.clear();
    for (const w of waiters) w(exit);
  }

  /** POST /containers/{id}/stop: the stop signal, then SIGKILL after the timeout (seconds; -1 waits forever). */
  stop(ref: string, opts: { timeout?: number; signal?: string }): Promise<void> {
    const c = this.#get(ref);
    return c.serial(async () => {
      c.state.ManuallyStopped = true;
      if (this.#cancelRestart(c)) {
        await this.#saveState(c);
        this.#emit(c, "stop");
        return;
      }
      if (!c.state.State.Running) throw new NotModifiedError("container already stopped");
      await this.#stop(c, opts);
      this.#emit(c, "stop");
    });
  }

  async #stop(c: Container, opts: { timeout?: number; signal?: string }): Promise<void> {
    const signal = opts.signal || c.record.Config.StopSignal || "SIGTERM";
    const timeout = opts.timeout ?? c.record.Config.StopTimeout ?? 10;
    const ended = c.running ?? Promise.resolve();
    try {
      await this.#kill(c, signal);
    } catch (e) {
      if (!c.state.State.Running) return;
      log("warn", "stop signal failed, killing", { id: c.id, err: e });
    }
    if (timeout >= 0) {
      let timer: NodeJS.Timeout | undefined;
      const timedOut = await Promise.race([
        ended.then(() => false),
        new Promise<boolean>((r) => {
          timer = setTimeout(() => r(true), timeout * 1000);
        }),
      ]);
      clearTimeout(timer);
      if (timedOut && c.state.State.Running) await this.#kill(c, "SIGKILL").catch(() => undefined);
    }
    await ended;
  }

  async #kill(c: Container, signal: string | number): Promise<void> {
    await this.#o.runtime.kill(c.id, signal);
    this.#emit(c, "kill", { signal: String(signalNumber(signal)) });
  }

  /** POST /containers/{id}/kill */
  async kill(ref: string, signal?: string): Promise<void> {
    const c = this.#get(ref);
    const sig = signal || "SIGKILL";
    if (signalNumber(sig) < 0) throw new InvalidParameterError(`Invalid signal: ${sig}`);
    if (!c.state.State.Running)
      throw new ConflictError(`Cannot kill container: ${ref}: Container ${c.id} is not running`);
    // A fatal signal disables the restart policy until the next start; USR1 and friends leave it in place.
    const n = signalNumber(sig);
    const stopSig = signalNumber(c.record.Config.StopSignal || "SIGTERM");
    if ([9, 15, 2, 3].includes(n) || n === stopSig) {
      c.state.ManuallyStopped = true;
      if (this.#cancelRestart(c)) {
        await this.#saveState(c);
        return;
      }
    }
    await this.#kill(c, sig);
    if (signalNumber(sig) === 9) await c.running;
  }

  /** POST /containers/{id}/restart */
  restart(ref: string, opts: { timeout?: number; signal?: string }): Promise<void> {
    const c = this.#get(ref);
    return c.serial(async () => {
      if (c.state.State.Running) await this.#stop(c, opts);
      await this.#start(c);
      this.#emit(c, "restart");
    });
  }

  /** DELETE /containers/{id} */
  remove(ref: string, opts: { force?: boolean; volumes?: boolean }): Promise<void> {
    const c = this.#get(ref);
    if (c.removing && !c.state.State.Running) {
      return new Promise((resolve) => c.removeWaiters.add(() => resolve()));
    }
    return c.serial(async () => {
      if (c.removed) return;
      if (c.state.State.Running) {
        if (!opts.force)
          throw new ConflictError(
            `You cannot remove a running container ${c.id}. Stop the container before attempting removal or force remove`,
          );
        c.removing = true;
        await this.#kill(c, "SIGKILL").catch(() => undefined);
        await c.running;
      }
      c.removing = true;
      c.state.State.Status = "removing";
      await this.#o.runtime.delete(c.id, { force: true }).catch(() => undefined);
      await this.#unmountRootfs(c);
      c.removed = true;
      await this.#releaseVolumes(c.id, {
        removeAnonymous: !!opts.volumes || !!c.record.HostConfig.AutoRemove,
        mounts: c.record.MountPoints,
      });
      await this.#store.remove(c.id);
      await this.#o.network
        .forget(c.id)
        .catch((e) => log("warn", "network forget failed", { id: c.id, err: e }));
      this.#index.delete(c.id, c.record.Name);
      this.#execs.forget(c.id);
      this.#o.images.release(c.record.Image);
      for (const a of c.pendingAttach) a(new Error("container removed"));
      c.pendingAttach.clear();
      this.#emit(c, "destroy");
      const code = c.state.State.ExitCode;
      for (const w of c.removeWaiters) w({ code });
      c.removeWaiters.clear();
      this.#resolveExitWaiters(c, { code });
    });
  }

  /**
   * POST /containers/{id}/wait. `requestedAtNs` is when the client's connection opened: a container that
   * started and exited after that still counts for next-exit, since the wait was sent before the start.
   */
  wait(
    ref: string,
    opts: { condition?: string; requestedAtNs?: bigint },
  ): { ready: Promise<{ StatusCode: number; Error: { Message: string } | null }> } {
    const c = this.#get(ref);
    const condition = opts.condition || "not-running";
    if (!["not-running", "next-exit", "removed"].includes(condition))
      throw new InvalidParameterError(`invalid condition: "${condition}"`);
    const st = c.state.State;
    const asResult = (e: { code: number; error?: string }) => ({
      StatusCode: e.code,
      Error: e.error ? { Message: e.error } : null,
    });
    if (condition === "not-running" && !st.Running) {
      return { ready: Promise.resolve(asResult({ code: st.ExitCode })) };
    }
    if (condition === "next-exit" && !st.Running && opts.requestedAtNs && c.state.StartedAtNs) {
      if (BigInt(c.state.StartedAtNs) >= opts.requestedAtNs)
        return { ready: Promise.resolve(asResult({ code: st.ExitCode })) };
    }
    const ready = new Promise<{ code: number; error?: string }>((resolve) => {
      if (condition === "removed") c.removeWaiters.add(resolve);
      else c.exitWaiters.add(resolve);
    }).then(asResult);
    return { ready };
  }

  /**
   * Attach to a container's stdio. A container not yet running hands out its stdio when it starts,
   * so `docker run` and `start -a` (attach, then start) see the first byte of output.
   */
  attach(ref: string): { tty: boolean; openStdin: boolean; stdio: Promise<AttachedStdio>; cancel(): void } {
    const c = this.#get(ref);
    this.#emit(c, "attach");
    const tty = !!c.record.Config.Tty;
    const openStdin = !!c.record.Config.OpenStdin;
    if (c.state.State.Running) {
      return { tty, openStdin, stdio: this.#o.runtime.attach(c.id), cancel: () => undefined };
    }
    let resolver: ((s: AttachedStdio | Error) => void) | undefined;
    const stdio = new Promise<AttachedStdio>((resolve, reject) => {
      resolver = (s) => (s instanceof Error ? reject(s) : resolve(s));
      c.pendingAttach.add(resolver);
    });
    return {
      tty,
      openStdin,
      stdio,
      cancel: () => {
        if (resolver) c.pendingAttach.delete(resolver);
      },
    };
  }

  #execTarget(c: Container): ExecTarget {
    const st = c.state.State;
    return {
      id: c.id,
      name: c.record.Name,
      running: st.Running && !st.Restarting,
      paused: st.Paused,
      rootfs: join(this.#store.dir(c.id), "merged"),
      user: c.record.Config.User ?? "",
      attrs: this.#attrs(c),
    };
  }

  /** POST /containers/{id}/exec */
  execCreate(ref: string, req: ExecCreateRequest): { Id: string } {
    return this.#execs.create(this.#execTarget(this.#get(ref)), req);
  }

  /** POST /exec/{id}/start */
  execStart(
    execId: string,
    opts: { detach: boolean; tty?: boolean; consoleSize?: [number, number] | null },
  ): Promise<{ stdio?: AttachedStdio; exit: Promise<number> }> {
    const c = this.#get(this.#execs.containerOf(execId));
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

  /** Runs `fn` with the container's filesystem mounted, mounting it for the call when the container is stopped. */
  async #withFs<T>(
    c: Container,
    fn: (fs: ContainerFs) => Promise<T>,
    opts: { holdUntil?: (r: T) => Promise<unknown> } = {},
  ): Promise<T> {
    const wasMounted = c.mounted;
    const rootfs = await this.#prepareRootfs(c);
    const release = () => {
      if (!wasMounted && !c.state.State.Running) void this.#unmountRootfs(c);
    };
    const fs: ContainerFs = {
      rootfs,
      readonlyRootfs: !!c.record.HostConfig.ReadonlyRootfs,
      mounts: [
        // The engine's /etc files are bind mounts too: cp sees their content, not the image's.
        { destination: "/etc/hostname", source: c.record.HostnamePath, rw: true },
        { destination: "/etc/hosts", source: c.record.HostsPath, rw: true },
        { destination: "/etc/resolv.conf", source: c.record.ResolvConfPath, rw: true },
        ...c.record.MountPoints.filter((m) => m.Type !== "tmpfs").map((m) => ({
          destination: m.Destination,
          source: m.Source,
          rw: m.RW,
        })),
      ],
    };
    let result: T;
    try {
      result = await fn(fs);
    } catch (e) {
      release();
      throw e;
    }
    if (opts.holdUntil) void opts.holdUntil(result).finally(release);
    else release();
    return result;
  }

  /** HEAD /containers/{id}/archive */
  archiveStat(ref: string, path: string): Promise<PathStat> {
    const c = this.#get(ref);
    return this.#withFs(c, (fs) => statPath(fs, path, c.record.Name.slice(1)));
  }

  /** GET /containers/{id}/archive */
  async archiveGet(ref: string, path: string): Promise<{ stat: PathStat; tar: Readable }> {
    const c = this.#get(ref);
    const r = await this.#withFs(c, (fs) => readArchive(fs, path, c.record.Name.slice(1)), {
      holdUntil: (res) => finished(res.tar).catch(() => undefined),
    });
    this.#emit(c, "archive-path");
    return r;
  }

  /** PUT /containers/{id}/archive */
  async archivePut(
    ref: string,
    path: string,
    body: Readable,
    opts: { copyUidGid: boolean; noOverwriteDirNonDir: boolean },
  ): Promise<void> {
    const c = this.#get(ref);
    await this.#withFs(c, (fs) =>
      writeArchive(fs, path, body, { ...opts, containerName: c.record.Name.slice(1) }),
    );
    this.#emit(c, "extract-to-dir");
  }

  /** POST /containers/{id}/rename */
  async rename(ref: string, newName: string): Promise<void> {
    const c = this.#get(ref);
    if (!newName) throw new InvalidParameterError("Neither old nor new names may be empty");
    const name = normalizeName(newName);
    const old = c.record.Name;
    if (name === old)
      throw new InvalidParameterError(`Renaming a container with the same name as its current name`);
    this.#index.reserveName(name, c.id);
    c.record = { ...c.record, Name: name };
    try {
      await this.#store.put(c.id, c.record);
    } catch (e) {
      this.#index.releaseName(name);
      c.record = { ...c.record, Name: old };
      throw e;
    }
    this.#index.releaseName(old);
    this.#emit(c, "rename", { oldName: old });
  }

  /** POST /containers/prune: stopped containers, filtered by `until` and `label`. */
  async prune(
    filters: Record<string, string[]>,
  ): Promise<{ ContainersDeleted: string[]; SpaceReclaimed: number }> {
    for (const k of Object.keys(filters))
      if (!["until", "label", "label!"].includes(k)) throw new InvalidParameterError(`invalid filter '${k}'`);
    const untilNs = filters.until?.length ? untilToNs(filters.until[0]) : undefined;
    const deleted: string[] = [];
    for (const c of [...this.#index.values()]) {
      if (c.state.State.Running || c.removing) continue;
      if (untilNs !== undefined && parseRfc3339Ns(c.record.Created) >= untilNs) continue;
      const labels = c.record.Config.Labels ?? {};
      if (filters.label?.length && !labelsMatch(labels, filters.label)) continue;
      if (filters["label!"]?.length && labelsMatch(labels, filters["label!"])) continue;
      await this.remove(c.id, {});
      deleted.push(c.id);
    }
    this.#o.events({ Type: "container", Action: "prune", Actor: { ID: "", Attributes: { reclaimed: "0" } } });
    return { ContainersDeleted: deleted, SpaceReclaimed: 0 };
  }

  /** POST /containers/{id}/resize */
  async resize(ref: string, size: { height: number; width: number }): Promise<void> {
    const c = this.#get(ref);
    if (!c.state.State.Running) throw new ConflictError(`Container ${c.id} is not running`);
    if (!c.record.Config.Tty) return;
    await this.#o.runtime.resize(c.id, size);
  }

  /** GET /containers/{id}/logs: entries from the log file, following until the container stops when asked. */
  logs(
    ref: string,
    opts: { since?: bigint; until?: bigint; tail?: number; follow?: boolean },
  ): { tty: boolean; entries: AsyncIterable<LogEntry> } {
    const c = this.#get(ref);
    const follow = opts.follow && c.state.State.Running ? (c.running ?? Promise.resolve()) : undefined;
    return {
      tty: !!c.record.Config.Tty,
      entries: this.#o.readLog(c.record.LogPath, {
        since: opts.since,
        until: opts.until,
        tail: opts.tail,
        follow,
      }),
    };
  }

  /** GET /containers/{id}/json */
  inspect(ref: string): ContainerInspectResponse {
    const c = this.#get(ref);
    const execIds = this.#execs.idsOf(c.id);
    return {
      ...toInspect(c.record, c.state, { dir: this.#store.dir(c.id), lowerDirs: [] }),
      ExecIDs: execIds.length ? execIds : null,
      NetworkSettings: this.#o.network.settings(c.id),
    };
  }

  /** GET /containers/json */
  list(opts: { all?: boolean; limit?: number; filters?: Record<string, string[]> }): ContainerSummary[] {
    const filters = opts.filters ?? {};
    validateFilters(filters);
    // Docker lists stopped containers without -a only when a status filter asks for them, or with -n.
    const all = opts.all || (opts.limit ?? 0) > 0 || "status" in filters;
    const lookupCreated = (ref: string): bigint => {
      try {
        return parseRfc3339Ns(this.#get(ref).record.Created);
      } catch (e) {
        if (isNotFound(e)) throw new InvalidParameterError(`No such container: ${ref}`);
        throw e;
      }
    };
    let out = [...this.#index.values()]
      .filter((c) => all || c.state.State.Running)
      .filter((c) => matchesFilters(c.record, c.state, filters, lookupCreated))
      .sort((a, b) => (parseRfc3339Ns(b.record.Created) > parseRfc3339Ns(a.record.Created) ? 1 : -1));
    if (opts.limit && opts.limit > 0) out = out.slice(0, opts.limit);
    return out.map((c) => {
      const net = this.#o.network.summary(c.id);
      return {
        ...toSummary(c.record, c.state),
        Ports: net.ports,
        NetworkSettings: { Networks: net.networks },
      };
    });
  }

  /** Number of containers by state, for /info. */
  counts(): { total: number; running: number; paused: number; stopped: number } {
    let running = 0;
    let paused = 0;
    for (const c of this.#index.values()) {
      if (c.state.State.Paused) paused++;
      else if (c.state.State.Running) running++;
    }
    const total = this.#index.size;
    return { total, running, paused, stopped: total - running - paused };
  }
}

/** Docker's defaults for fields the CLI may leave out, as inspect shows them. */
function withHostDefaults(
  hc: ContainerCreateRequest["HostConfig"] & object,
): NonNullable<ContainerCreateRequest["HostConfig"]> {
  return {
    ...hc,
    NetworkMode: hc.NetworkMode || "bridge",
    RestartPolicy: hc.RestartPolicy ?? { Name: "no", MaximumRetryCount: 0 },
    LogConfig: hc.LogConfig?.Type ? hc.LogConfig : { Type: "k8s-file", Config: hc.LogConfig?.Config ?? {} },
    ShmSize: hc.ShmSize || 64 * 1024 * 1024,
    AutoRemove: hc.AutoRemove ?? false,
    Privileged: hc.Privileged ?? false,
    ReadonlyRootfs: hc.ReadonlyRootfs ?? false,
  };
}

/** runc's start errors as Docker maps them to the exit code the CLI reports. */
function exitCodeForStartError(message: string): number {
  if (/executable file not found|no such file or directory/i.test(message)) return 127;
  if (/permission denied/i.test(message)) return 126;
  return 128;
}

const SIGNALS: Record<string, number> = {
  HUP: 1,
  INT: 2,
  QUIT: 3,
  ILL: 4,
  TRAP: 5,
  ABRT: 6,
  IOT: 6,
  BUS: 7,
  FPE: 8,
  KILL: 9,
  USR1: 10,
  SEGV: 11,
  USR2: 12,
  PIPE: 13,
  ALRM: 14,
  TERM: 15,
  STKFLT: 16,
  CHLD: 17,
  CONT: 18,
  STOP: 19,
  TSTP: 20,
  TTIN: 21,
  TTOU: 22,
  URG: 23,
  XCPU: 24,
  XFSZ: 25,
  VTALRM: 26,
  PROF: 27,
  WINCH: 28,
  IO: 29,
  POLL: 29,
  PWR: 30,
  SYS: 31,
};

/** A signal by name (`SIGTERM`, `TERM`) or number, as Docker parses it; -1 when invalid. */
export function signalNumber(sig: string | number): number {
  if (typeof sig === "number") return sig > 0 && sig <= 64 ? sig : -1;
  if (/^\d+$/.test(sig)) return signalNumber(Number(sig));
  const name = sig.toUpperCase().replace(/^SIG/, "");
  const rt = /^RTMIN(?:\+(\d+))?$/.exec(name);
  if (rt) return 34 + Number(rt[1] ?? 0);
  return SIGNALS[name] ?? -1;
}

/** `until` as Docker takes it: a UNIX time, RFC 3339, or a duration before now ("10m", "2h30m"). */
function untilToNs(v: string): bigint {
  if (/^\d+(\.\d+)?$/.test(v)) return BigInt(Math.round(Number(v) * 1e9));
  const dur = /^(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$/.exec(v);
  if (dur && v) {
    const ms = (Number(dur[1] ?? 0) * 3600 + Number(dur[2] ?? 0) * 60 + Number(dur[3] ?? 0)) * 1000;
    return BigInt(Date.now() - ms) * 1_000_000n;
  }
  const t = Date.parse(v);
  if (Number.isNaN(t)) throw new InvalidParameterError(`invalid filter 'until=${v}'`);
  return BigInt(t) * 1_000_000n;
}
