import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { ConflictError, InvalidParameterError, NotModifiedError } from "../errdefs/index.ts";
import { log, nowNs, nowRfc3339, parseRfc3339Ns } from "../util/index.ts";
import type { ExitInfo, NetworkSetup } from "./deps.ts";
import { labelsMatch, untilToNs } from "./filters.ts";
import type { HealthMonitor } from "./health.ts";
import type { LogRotator } from "./logrotate.ts";
import { type ContainerStateDoc, initialState } from "./model.ts";
import { Container, type Registry } from "./registry.ts";
import { nextDelay, restartOnDaemonStart, shouldRestart } from "./restart.ts";
import { signalNumber } from "./signals.ts";
import type { Storage } from "./storage.ts";

/** Running containers: start, exit handling and restart policies, stop, kill, remove, and daemon start-up. */
export class Lifecycle {
  readonly #r: Registry;
  readonly #s: Storage;
  readonly #h: HealthMonitor;
  readonly #logs: LogRotator;

  constructor(deps: { registry: Registry; storage: Storage; health: HealthMonitor; logs: LogRotator }) {
    this.#r = deps.registry;
    this.#s = deps.storage;
    this.#h = deps.health;
    this.#logs = deps.logs;
  }

  /** Loads every container, drops half-created ones, and reconnects to those whose conmon still runs. */
  async init(): Promise<void> {
    const r = this.#r;
    await r.store.init();
    await mkdir(r.o.execRoot, { recursive: true });
    const { records, broken } = await r.store.loadAll();
    for (const id of broken) {
      log("warn", "removing half-created container", { id });
      await r.store.remove(id);
    }
    await Promise.all(
      [...records.values()].map(async (rec) => {
        const state = (await r.store.getDoc<ContainerStateDoc>(rec.Id, "state.json")) ?? initialState();
        const c = new Container(rec, state);
        rec.MountPoints ??= [];
        r.index.add(rec.Id, rec.Name, c);
        r.o.images.retain(rec.Image);
        for (const m of rec.MountPoints)
          if (m.Type === "volume" && m.Name && r.o.volumes.has(m.Name)) r.o.volumes.use(m.Name, rec.Id);
        if (state.State.Running) await this.#reconnect(c);
      }),
    );
    for (const c of r.index.values()) {
      const st = c.state.State;
      if (st.Running || !c.state.HasBeenStarted) continue;
      if (!restartOnDaemonStart(c.record.HostConfig.RestartPolicy, !!c.state.ManuallyStopped)) continue;
      void this.start(c.id).catch((e) => log("warn", "restart at daemon start failed", { id: c.id, err: e }));
    }
  }

  async #reconnect(c: Container): Promise<void> {
    c.mounted = true;
    if (await this.#r.o.runtime.isAlive(c.id)) {
      await this.#r.o.network
        .restore(c.id)
        .catch((e) => log("warn", "network restore failed", { id: c.id, err: e }));
      this.#watchExit(c);
      this.#h.start(c, { keepState: true });
      this.#logs.start(c);
      return;
    }
    // The container ended while the daemon was down: conmon left its exit code behind.
    try {
      const exit = await Promise.race([
        this.#r.o.runtime.waitExit(c.id),
        new Promise<never>((_, rej) => setTimeout(() => rej(new Error("no exit file")), 2000)),
      ]);
      await this.#onExit(c, exit);
    } catch {
      await this.#onExit(c, { exitCode: 255, exitedAt: nowRfc3339(), oomKilled: false });
    }
  }

  /** POST /containers/{id}/start */
  start(ref: string): Promise<void> {
    const c = this.#r.get(ref);
    return c.serial(async () => {
      c.state.ManuallyStopped = false;
      await this.#start(c);
    });
  }

  async #start(c: Container): Promise<void> {
    const r = this.#r;
    const st = c.state.State;
    if (c.removing) throw new ConflictError(`container is marked for removal and cannot be started`);
    if (st.Paused) throw new ConflictError("cannot start a paused container, try unpause instead");
    if (st.Running && !st.Restarting) throw new NotModifiedError("container already started");
    const bundleDir = join(r.o.execRoot, c.id);
    try {
      let net: NetworkSetup = {};
      const [rootfs, etcMounts] = await Promise.all([
        this.#s.prepareRootfs(c),
        r.o.network.setup(c.id).then((n) => {
          net = n;
          return this.#s.writeEtcFiles(c, n);
        }),
        mkdir(bundleDir, { recursive: true }),
      ]).then(([rf, m]) => [rf, m] as const);
      const mounts = [...etcMounts, ...(await this.#s.runMounts(c, rootfs))];
      const network = { netnsPath: net.netnsPath, host: net.host };
      const spec = await r.o.buildSpec({ record: c.record, rootfs, mounts, network });
      const createOpts = {
        bundleDir,
        spec,
        // `--log-driver none`: conmon still needs somewhere to write.
        logPath: c.record.LogPath || "/dev/null",
        tty: !!c.record.Config.Tty,
        openStdin: !!c.record.Config.OpenStdin,
        stdinOnce: !!c.record.Config.StdinOnce,
      };
      const { pid } = await r.o.runtime.create(c.id, createOpts).catch(async (e: unknown) => {
        // A run whose cleanup was cut short (daemon killed) leaves runc state behind; clear it once.
        if (!/already exists/i.test(String(e))) throw e;
        await r.o.runtime.delete(c.id, { force: true });
        return r.o.runtime.create(c.id, createOpts);
      });
      await this.#connectPendingAttach(c);
      const startedNs = nowNs();
      await r.o.runtime.start(c.id);
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
      this.#h.start(c);
      this.#logs.start(c);
      await r.saveState(c);
      r.emit(c, "start");
    } catch (e) {
      const message = e instanceof Error ? e.message : String(e);
      st.Error = message;
      st.ExitCode = exitCodeForStartError(message);
      await r.saveState(c).catch(() => undefined);
      for (const a of c.pendingAttach) a(e instanceof Error ? e : new Error(message));
      c.pendingAttach.clear();
      await r.o.runtime.delete(c.id, { force: true }).catch(() => undefined);
      await r.o.network.teardown(c.id).catch(() => undefined);
      await this.#s.unmountRootfs(c);
      this.#s.unmountVolumes(c);
      r.resolveExitWaiters(c, { code: st.ExitCode, error: message });
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
          resolve(await this.#r.o.runtime.attach(c.id));
        } catch (e) {
          resolve(e as Error);
        }
      }),
    );
  }

  #watchExit(c: Container): void {
    c.running = this.#r.o.runtime.waitExit(c.id).then(
      (exit) => this.#onExit(c, exit),
      (e) => log("error", "waiting for container exit failed", { id: c.id, err: e }),
    );
  }

  async #onExit(c: Container, exit: ExitInfo): Promise<void> {
    const r = this.#r;
    const st = c.state.State;
    this.#h.stop(c);
    this.#logs.stop(c);
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
    await r.saveState(c).catch((e) => log("error", "saving state failed", { id: c.id, err: e }));
    await Promise.all([
      r.o.runtime.delete(c.id, { force: true }).catch(() => undefined),
      this.#s.unmountRootfs(c),
      r.o.network.teardown(c.id).catch((e) => log("warn", "network teardown failed", { id: c.id, err: e })),
    ]);
    this.#s.unmountVolumes(c);
    r.execs.forget(c.id);
    if (exit.oomKilled) r.emit(c, "oom");
    r.emit(c, "die", { exitCode: String(exit.exitCode) });
    r.resolveExitWaiters(c, { code: exit.exitCode });
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
    void this.#r.saveState(c);
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
          void this.#r.saveState(c);
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

  /** POST /containers/{id}/stop: the stop signal, then SIGKILL after the timeout (seconds; -1 waits forever). */
  stop(ref: string, opts: { timeout?: number; signal?: string }): Promise<void> {
    const c = this.#r.get(ref);
    return c.serial(async () => {
      c.state.ManuallyStopped = true;
      if (this.#cancelRestart(c)) {
        await this.#r.saveState(c);
        this.#r.emit(c, "stop");
        return;
      }
      if (!c.state.State.Running) throw new NotModifiedError("container already stopped");
      await this.#stop(c, opts);
      this.#r.emit(c, "stop");
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
        new Promise<boolean>((res) => {
          timer = setTimeout(() => res(true), timeout * 1000);
        }),
      ]);
      clearTimeout(timer);
      if (timedOut && c.state.State.Running) await this.#kill(c, "SIGKILL").catch(() => undefined);
    }
    await ended;
  }

  async #kill(c: Container, signal: string | number): Promise<void> {
    const st = c.state.State;
    await this.#r.o.runtime.kill(c.id, signal);
    this.#r.emit(c, "kill", { signal: String(signalNumber(signal)) });
    // A frozen process cannot act on a signal: Docker thaws a paused container after signalling it.
    if (st.Paused && st.Running) {
      if (signalNumber(signal) !== 9) await this.#r.o.runtime.unpause(c.id).catch(() => undefined);
      Object.assign(st, { Paused: false, Status: "running" });
      this.#r.emit(c, "unpause");
    }
  }

  /** POST /containers/{id}/kill */
  async kill(ref: string, signal?: string): Promise<void> {
    const c = this.#r.get(ref);
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
        await this.#r.saveState(c);
        return;
      }
    }
    await this.#kill(c, sig);
    if (signalNumber(sig) === 9) await c.running;
  }

  /** POST /containers/{id}/restart */
  restart(ref: string, opts: { timeout?: number; signal?: string }): Promise<void> {
    const c = this.#r.get(ref);
    return c.serial(async () => {
      if (c.state.State.Running) await this.#stop(c, opts);
      await this.#start(c);
      this.#r.emit(c, "restart");
    });
  }

  /** DELETE /containers/{id} */
  remove(ref: string, opts: { force?: boolean; volumes?: boolean }): Promise<void> {
    const r = this.#r;
    const c = r.get(ref);
    if (c.removing && !c.state.State.Running) {
      return new Promise((resolve) => c.removeWaiters.add(() => resolve()));
    }
    return c.serial(async () => {
      if (c.removed) return;
      if (c.state.State.Running) {
        if (c.state.State.Paused && !opts.force)
          throw new ConflictError(
            `You cannot remove a paused container ${c.id}. Unpause and then stop the container before attempting removal or force remove`,
          );
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
      await r.o.runtime.delete(c.id, { force: true }).catch(() => undefined);
      await this.#s.unmountRootfs(c);
      c.removed = true;
      await this.#s.releaseVolumes(c.id, {
        removeAnonymous: !!opts.volumes || !!c.record.HostConfig.AutoRemove,
        mounts: c.record.MountPoints,
      });
      await r.store.remove(c.id);
      await r.o.network.forget(c.id).catch((e) => log("warn", "network forget failed", { id: c.id, err: e }));
      r.index.delete(c.id, c.record.Name);
      r.execs.forget(c.id);
      r.o.images.release(c.record.Image);
      for (const a of c.pendingAttach) a(new Error("container removed"));
      c.pendingAttach.clear();
      r.emit(c, "destroy");
      const code = c.state.State.ExitCode;
      for (const w of c.removeWaiters) w({ code });
      c.removeWaiters.clear();
      r.resolveExitWaiters(c, { code });
    });
  }

  /** POST /containers/prune: stopped containers, filtered by `until` and `label`. */
  async prune(
    filters: Record<string, string[]>,
  ): Promise<{ ContainersDeleted: string[]; SpaceReclaimed: number }> {
    for (const k of Object.keys(filters))
      if (!["until", "label", "label!"].includes(k)) throw new InvalidParameterError(`invalid filter '${k}'`);
    const untilNs = filters.until?.length ? untilToNs(filters.until[0]) : undefined;
    const deleted: string[] = [];
    for (const c of [...this.#r.index.values()]) {
      if (c.state.State.Running || c.removing) continue;
      if (untilNs !== undefined && parseRfc3339Ns(c.record.Created) >= untilNs) continue;
      const labels = c.record.Config.Labels ?? {};
      if (filters.label?.length && !labelsMatch(labels, filters.label)) continue;
      if (filters["label!"]?.length && labelsMatch(labels, filters["label!"])) continue;
      await this.remove(c.id, {});
      deleted.push(c.id);
    }
    this.#r.o.events({
      Type: "container",
      Action: "prune",
      Actor: { ID: "", Attributes: { reclaimed: "0" } },
    });
    return { ContainersDeleted: deleted, SpaceReclaimed: 0 };
  }
}

/** runc's start errors as Docker maps them to the exit code the CLI reports. */
function exitCodeForStartError(message: string): number {
  if (/executable file not found|no such file or directory/i.test(message)) return 127;
  if (/permission denied/i.test(message)) return 126;
  return 128;
}
