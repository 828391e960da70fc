import { mkdir, rmdir } from "node:fs/promises";
import { join } from "node:path";
import { ConflictError, InvalidParameterError, NotModifiedError } from "../errdefs/index.ts";
import type { OciSpec } from "../oci/index.ts";
import type { ExitStatus } from "../runtime/index.ts";
import { type IdRange, log, nowNs, nowRfc3339, parseRfc3339Ns } from "../util/index.ts";
import { upperSize } from "./changes.ts";
import type { Container } from "./container.ts";
import type { ImageRefs, LifecycleRuntime, NetworkSetup, RunNetwork } from "./deps.ts";
import { labelsMatch, untilToNs } from "./filters.ts";
import type { HealthMonitor } from "./health.ts";
import type { LogRotator } from "./logrotate.ts";
import type { ContainerStateDoc } from "./model.ts";
import type { Registry } from "./registry.ts";
import { nextDelay, restartOnDaemonStart, shouldRestart } from "./restart.ts";
import { signalNumber } from "./signals.ts";
import type { SpecBuilder, SpecRequest } from "./spec.ts";
import type { Storage } from "./storage.ts";

/** What the lifecycle uses, passed in at wiring. */
export interface LifecycleDeps {
  registry: Registry;
  storage: Storage;
  health: HealthMonitor;
  logs: LogRotator;
  runtime: LifecycleRuntime;
  network: RunNetwork;
  images: ImageRefs;
  spec: SpecBuilder;
  /** Exec sessions end with their container's run. */
  execs: { forget(containerId: string): void };
  /** `<exec-root>/bundles`: OCI bundles and conmon's sockets live on tmpfs. */
  bundleRoot: string;
  /** How long a container found stopped at daemon start may take to show its exit file (ms). */
  exitFileGraceMs?: number;
}

/** Running containers: start, exit handling and restart policies, stop, kill, remove, and daemon start-up. */
export class Lifecycle {
  readonly #r: Registry;
  readonly #s: Storage;
  readonly #d: LifecycleDeps;

  constructor(deps: LifecycleDeps) {
    this.#r = deps.registry;
    this.#s = deps.storage;
    this.#d = deps;
  }

  /** Loads every container, drops half-created ones, and reconnects to those whose conmon still runs. */
  async init(): Promise<void> {
    const r = this.#r;
    await r.store.init();
    await mkdir(this.#d.bundleRoot, { recursive: true });
    const { records, broken } = await r.store.loadAll();
    for (const id of broken) {
      log("warn", "removing half-created container", { id });
      // A leftover that cannot go now must not keep the daemon from starting: it is tried again next start.
      await this.#s
        .dropStaleRootfs(id)
        .then(() => r.store.remove(id))
        .catch((e) => log("warn", "half-created container not removed", { id, err: e }));
    }
    await Promise.all(
      [...records.values()].map(async (rec) => {
        rec.MountPoints ??= [];
        const c = r.materialize(rec, await r.store.getDoc<ContainerStateDoc>(rec.Id, "state.json"));
        r.index.add(rec.Id, rec.Name, c);
        this.#d.images.retain(rec.Image);
        this.#s.reclaimVolumes(c);
        if (c.state.running) await this.#reconnect(c);
        else
          await this.#s
            .dropStaleRootfs(c.id)
            .catch((e) => log("warn", "stale rootfs mount not removed", { id: c.id, err: e }));
      }),
    );
    for (const c of r.index.values()) {
      const st = c.state;
      if (st.running || !st.hasBeenStarted) continue;
      if (!restartOnDaemonStart(c.record.HostConfig.RestartPolicy, st.manuallyStopped)) continue;
      void this.start(c.id).catch((e) => log("warn", "restart at daemon start failed", { id: c.id, err: e }));
    }
  }

  async #reconnect(c: Container): Promise<void> {
    const { runtime, network } = this.#d;
    this.#s.adoptMounted(c);
    if (await runtime.isAlive(c.id)) {
      await network.restore(c.id).catch((e) => log("warn", "network restore failed", { id: c.id, err: e }));
      this.#watchExit(c);
      this.#d.health.start(c, { keepState: true });
      this.#d.logs.start(c);
      return;
    }
    // The container ended while the daemon was down: conmon left its exit code behind. One that was between
    // runs of its restart policy had no process, so no file is coming: start-up does not wait for one.
    const grace = c.state.restarting ? 0 : (this.#d.exitFileGraceMs ?? 2000);
    let timer: NodeJS.Timeout | undefined;
    const exit = await Promise.race([
      runtime.waitExit(c.id).catch(() => undefined),
      new Promise<undefined>((resolve) => {
        timer = setTimeout(() => resolve(undefined), grace);
      }),
    ]);
    clearTimeout(timer);
    await this.#onExit(c, exit ?? { exitCode: 255, exitedAt: nowRfc3339(), oomKilled: false });
  }

  /**
   * After `docker network connect` or `disconnect`: a running container's resolv.conf names the nameservers
   * it has now: a user network's embedded DNS, or, with none left, the host's again (the address of a
   * network it left would no longer answer).
   */
  async refreshDns(ref: string, nameservers: string[] | undefined): Promise<void> {
    const c = this.#r.get(ref);
    if (!c.state.live || c.record.HostConfig.Dns?.length) return;
    await this.#s.rewriteResolvConf(c, nameservers ?? []);
  }

  /** POST /containers/{id}/start */
  start(ref: string): Promise<void> {
    const c = this.#r.get(ref);
    return c.serial(async () => {
      c.state.setManuallyStopped(false);
      this.#dropRestart(c);
      await this.#start(c);
    });
  }

  async #start(c: Container): Promise<void> {
    const { runtime, network } = this.#d;
    const st = c.state;
    if (st.removing) throw new ConflictError(`container is marked for removal and cannot be started`);
    if (st.paused) throw new ConflictError("cannot start a paused container, try unpause instead");
    if (st.live) throw new NotModifiedError("container already started");
    const bundleDir = join(this.#d.bundleRoot, c.id);
    let net: NetworkSetup = {};
    // The rootfs, the network and the spec are made while conmon starts: it waits for the spec.
    const spec = this.#prepareRun(c, bundleDir, (n) => {
      net = n;
    });
    // Its failure is the create's, and is reported through it.
    spec.catch(() => undefined);
    try {
      const createOpts = {
        bundleDir,
        spec,
        // `--log-driver none`: conmon still needs somewhere to write.
        logPath: c.record.LogPath || "/dev/null",
        tty: !!c.record.Config.Tty,
        openStdin: !!c.record.Config.OpenStdin,
        stdinOnce: !!c.record.Config.StdinOnce,
        runtime: c.record.HostConfig.Runtime || "runc",
      };
      const { pid } = await runtime
        .create(c.id, createOpts)
        .catch(async (e: unknown) => {
          // A run whose cleanup was cut short (daemon killed) leaves runc state behind; clear it once.
          if (!/already exists/i.test(String(e))) throw e;
          await runtime.delete(c.id, { force: true });
          return runtime.create(c.id, createOpts);
        })
        .catch(async (e: unknown) => {
          // A network setup that failed meanwhile (a port taken) undid the netns under runc: its error
          // is the cause, and the one dockerd reports.
          await net.ready;
          throw e;
        });
      await net.ready;
      await this.#connectPendingAttach(c);
      const startedAtNs = nowNs();
      await runtime.start(c.id);
      const saved = st.setRunning({ pid, startedAt: nowRfc3339(), startedAtNs });
      this.#watchExit(c);
      this.#d.health.start(c);
      this.#d.logs.start(c);
      await saved;
      this.#r.emit(c, "start");
    } catch (e) {
      const err = e instanceof Error ? e : new Error(String(e));
      const code = exitCodeForStartError(err.message);
      // What the run mounted or set up is known once its preparation has settled.
      await spec.catch(() => undefined);
      await st.setStartError(err.message, code);
      c.failPendingAttach(err);
      await runtime.delete(c.id, { force: true }).catch(() => undefined);
      // A veth still being set up is waited for, so the teardown does not race it.
      await net.ready?.catch(() => undefined);
      await network.teardown(c.id).catch(() => undefined);
      await this.#s.unmountRootfs(c);
      this.#s.unmountVolumes(c);
      // No exit to report: as in dockerd, a next-exit wait sent before this start keeps waiting for a run
      // that does end, or for the removal (--rm), so the docker CLI prints the start error once, not twice.
      if (c.record.HostConfig.AutoRemove) void this.remove(c.id, { force: true }).catch(() => undefined);
      throw e;
    }
  }

  /** Mounts the rootfs and sets up the network of a run, and makes its spec from them. */
  async #prepareRun(c: Container, bundleDir: string, onNetwork: (n: NetworkSetup) => void): Promise<OciSpec> {
    let net: NetworkSetup = {};
    const [rootfs, etcMounts] = await Promise.all([
      this.#s.prepareRootfs(c),
      // The veths come up while conmon and runc create the container (runc needs only the netns);
      // net.ready is awaited before the process is let go.
      this.#d.network.setup(c.id, { ...this.#usernsOf(c), deferAttach: true }).then((n) => {
        net = n;
        onNetwork(n);
        return this.#s.writeEtcFiles(c, n);
      }),
      mkdir(bundleDir, { recursive: true }),
    ]).then(([rf, m]) => [rf, m] as const);
    const mounts = [...etcMounts, ...(await this.#s.runMounts(c, rootfs))];
    return this.#d.spec({
      record: c.record,
      rootfs,
      mounts,
      network: { netnsPath: net.netnsPath, host: net.host, usernsPath: net.usernsPath },
      linkEnv: net.linkEnv,
      shared: this.#sharedNamespaces(c),
    });
  }

  /** The user namespace a remapped container's network namespace belongs to; none under `--userns=host`. */
  #usernsOf(c: Container): {
    userns?: { uidMappings: readonly IdRange[]; gidMappings: readonly IdRange[]; join?: string };
  } {
    const idMap = this.#s.idMap;
    const hc = c.record.HostConfig;
    if (!idMap || hc.UsernsMode === "host") return {};
    // Sharing another container's IPC or PID namespace means living in its user namespace, as in dockerd.
    const mode = [hc.IpcMode, hc.PidMode].find((m) => m?.startsWith("container:"));
    const other = mode && this.#r.exists(mode.slice(10)) ? this.#r.get(mode.slice(10)) : undefined;
    const join = other?.state.pid ? `/proc/${other.state.pid}/ns/user` : undefined;
    return { userns: { uidMappings: idMap.uids, gidMappings: idMap.gids, ...(join ? { join } : {}) } };
  }

  /**
   * `--ipc`, `--pid` and `--uts` of `host` or `container:<id>` (the last wharf's own, for pods: dockerd
   * accepts only host there): the namespaces of the other container's main process are joined by path.
   */
  #sharedNamespaces(c: Container): NonNullable<SpecRequest["shared"]> {
    const hc = c.record.HostConfig;
    const out: NonNullable<SpecRequest["shared"]> = { paths: {}, host: [] };
    const modes = [
      ["ipc", "IPC", hc.IpcMode],
      ["pid", "PID", hc.PidMode],
      ["uts", "UTS", hc.UTSMode],
    ] as const;
    for (const [type, label, mode] of modes) {
      if (mode === "host") out.host.push(type);
      else if (mode?.startsWith("container:")) {
        const other = this.#r.get(mode.slice("container:".length));
        if (!other.state.running || !other.state.pid)
          throw new ConflictError(`cannot join ${label} of a non running container: ${other.id}`);
        out.paths[type] = `/proc/${other.state.pid}/ns/${type}`;
      }
    }
    return out;
  }

  async #connectPendingAttach(c: Container): Promise<void> {
    const pending = [...c.pendingAttach];
    c.pendingAttach.clear();
    await Promise.all(
      pending.map(async (resolve) => {
        try {
          resolve(await this.#d.runtime.attach(c.id));
        } catch (e) {
          resolve(e as Error);
        }
      }),
    );
  }

  #watchExit(c: Container): void {
    c.exitHandled = this.#d.runtime.waitExit(c.id).then(
      (exit) => this.#onExit(c, exit),
      (e) => log("error", "waiting for container exit failed", { id: c.id, err: e }),
    );
  }

  async #onExit(c: Container, exit: ExitStatus): Promise<void> {
    const { runtime, network } = this.#d;
    const st = c.state;
    this.#d.health.stop(c);
    this.#d.logs.stop(c);
    await Promise.all([
      // conmon's exit file goes only once the exit is on disk: a daemon killed in between still finds it.
      // runc's state and cgroups, the mount and the network do not hold the exit and go meanwhile.
      Promise.all([
        st.setStopped(exit),
        runtime.delete(c.id, { force: true, keepExit: true }).catch(() => undefined),
      ]).then(() => runtime.delete(c.id, { force: true }).catch(() => undefined)),
      this.#s.unmountRootfs(c),
      network.teardown(c.id).catch((e) => log("warn", "network teardown failed", { id: c.id, err: e })),
    ]);
    this.#d.execs.forget(c.id);
    if (exit.oomKilled) this.#r.emit(c, "oom");
    this.#r.emit(c, "die", { exitCode: String(exit.exitCode) });
    // After die, as dockerd orders the volumes' unmount events.
    this.#s.unmountVolumes(c);
    // Waiters hear of the exit once the run's mounts and network are gone, so a `wait` then `rm` is clean.
    st.notifyExit({ code: exit.exitCode });
    const restart = shouldRestart(c.record.HostConfig.RestartPolicy, {
      exitCode: exit.exitCode,
      restartCount: st.restartCount,
      manuallyStopped: st.manuallyStopped,
      removing: st.removing,
    });
    if (restart) {
      this.#scheduleRestart(c);
      return;
    }
    if (c.record.HostConfig.AutoRemove && !st.removing) {
      await this.remove(c.id, { force: true }).catch((e) =>
        log("warn", "auto-remove failed", { id: c.id, err: e }),
      );
    }
  }

  /** Restarts after Docker's backoff; meanwhile the container shows as "restarting". */
  #scheduleRestart(c: Container): void {
    const st = c.state;
    const ranFor = Number(parseRfc3339Ns(st.finishedAt) - parseRfc3339Ns(st.startedAt)) / 1e6;
    const delay = nextDelay(st.restartDelayMs, ranFor);
    void st.setRestarting(delay);
    this.#dropRestart(c);
    const seq = c.restartSeq;
    c.restartTimer = setTimeout(() => {
      c.restartTimer = undefined;
      void c
        .serial(async () => {
          // A start, restart or stop got in first (while this waited for the lock, or the timer).
          if (seq !== c.restartSeq || !st.restarting || st.removing) return;
          st.countRestart();
          await this.#start(c);
        })
        .catch((e) => {
          log("warn", "restart failed", { id: c.id, err: e });
          void st.setRestartCancelled();
        });
    }, delay);
  }

  /** Forgets a pending restart (a manual start or restart overtakes it); the state is the caller's to set. */
  #dropRestart(c: Container): void {
    c.restartSeq++;
    clearTimeout(c.restartTimer);
    c.restartTimer = undefined;
  }

  /** Cancels a pending restart; true when there was one (the container is then simply stopped). */
  async #cancelRestart(c: Container): Promise<boolean> {
    if (!c.restartTimer) return false;
    this.#dropRestart(c);
    await c.state.setRestartCancelled();
    return true;
  }

  /** POST /containers/{id}/stop: the stop signal, then SIGKILL after the timeout (seconds; -1 waits forever). */
  stop(ref: string, opts: { timeout?: number; signal?: string }): Promise<void> {
    const c = this.#r.get(ref);
    return c.serial(async () => {
      c.state.setManuallyStopped(true);
      if (await this.#cancelRestart(c)) {
        this.#r.emit(c, "stop");
        return;
      }
      if (!c.state.running) throw new NotModifiedError("container already stopped");
      await this.#stop(c, opts);
      this.#r.emit(c, "stop");
    });
  }

  async #stop(c: Container, opts: { timeout?: number; signal?: string }): Promise<void> {
    const signal = opts.signal || c.record.Config.StopSignal || "SIGTERM";
    const timeout = opts.timeout ?? c.record.Config.StopTimeout ?? 10;
    const ended = c.exitHandled ?? Promise.resolve();
    try {
      await this.#kill(c, signal);
    } catch (e) {
      if (!c.state.running) return;
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
      if (timedOut && c.state.running) await this.#kill(c, "SIGKILL").catch(() => undefined);
    }
    await ended;
  }

  async #kill(c: Container, signal: string | number): Promise<void> {
    const st = c.state;
    await this.#d.runtime.kill(c.id, signal);
    this.#r.emit(c, "kill", { signal: String(signalNumber(signal)) });
    // A frozen process cannot act on a signal: Docker thaws a paused container after signalling it.
    if (st.paused && st.running) {
      if (signalNumber(signal) !== 9) await this.#d.runtime.unpause(c.id).catch(() => undefined);
      await st.setUnpaused();
      this.#r.emit(c, "unpause");
    }
  }

  /** POST /containers/{id}/kill */
  async kill(ref: string, signal?: string): Promise<void> {
    const c = this.#r.get(ref);
    const sig = signal || "SIGKILL";
    if (signalNumber(sig) < 0) throw new InvalidParameterError(`Invalid signal: ${sig}`);
    if (!c.state.running)
      throw new ConflictError(`Cannot kill container: ${ref}: Container ${c.id} is not running`);
    // A fatal signal disables the restart policy until the next start; USR1 and friends leave it in place.
    const n = signalNumber(sig);
    const stopSig = signalNumber(c.record.Config.StopSignal || "SIGTERM");
    if ([9, 15, 2, 3].includes(n) || n === stopSig) {
      c.state.setManuallyStopped(true);
      if (await this.#cancelRestart(c)) return;
    }
    await this.#kill(c, sig);
    if (n === 9) await c.exitHandled;
  }

  /** POST /containers/{id}/restart */
  restart(ref: string, opts: { timeout?: number; signal?: string }): Promise<void> {
    const c = this.#r.get(ref);
    return c.serial(async () => {
      if (await this.#cancelRestart(c)) {
        // Between runs of its restart policy: nothing to stop.
      } else if (c.state.running) await this.#stop(c, opts);
      await this.#start(c);
      this.#r.emit(c, "restart");
    });
  }

  /** DELETE /containers/{id} */
  remove(ref: string, opts: { force?: boolean; volumes?: boolean }): Promise<void> {
    const c = this.#r.get(ref);
    const st = c.state;
    // A second remove of a stopped container joins the first.
    if (st.removing && !st.running) return st.wait("removed").then(() => undefined);
    return c.serial(async () => {
      if (st.removed) return;
      if (st.running) {
        if (st.paused && !opts.force)
          throw new ConflictError(
            `You cannot remove a paused container ${c.id}. Unpause and then stop the container before attempting removal or force remove`,
          );
        if (!opts.force)
          throw new ConflictError(
            `You cannot remove a running container ${c.id}. Stop the container before attempting removal or force remove`,
          );
        st.setRemovalInProgress();
        if (await this.#cancelRestart(c)) {
          // Between runs: nothing to kill.
        } else {
          await this.#kill(c, "SIGKILL").catch(() => undefined);
          await c.exitHandled;
        }
      }
      st.setRemovalInProgress();
      await this.#d.runtime.delete(c.id, { force: true }).catch(() => undefined);
      await this.#s.unmountRootfs(c);
      await this.#s.releaseVolumes(c.id, {
        removeAnonymous: !!opts.volumes || !!c.record.HostConfig.AutoRemove,
        mounts: c.record.MountPoints,
      });
      try {
        await Promise.all([
          this.#r.store.remove(c.id),
          // Emptied by the runtime's delete; the next container of this ID (none) would make it again.
          rmdir(join(this.#d.bundleRoot, c.id)).catch(() => undefined),
        ]);
      } catch (e) {
        await st.setDead();
        throw e;
      }
      await this.#d.network
        .forget(c.id)
        .catch((e) => log("warn", "network forget failed", { id: c.id, err: e }));
      this.#r.index.delete(c.id, c.record.Name);
      this.#d.execs.forget(c.id);
      this.#d.images.release(c.record.Image);
      c.failPendingAttach(new Error("container removed"));
      this.#r.emit(c, "destroy");
      st.setRemoved();
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
    let reclaimed = 0;
    for (const c of [...this.#r.index.values()]) {
      if (c.state.running || c.state.removing) continue;
      if (untilNs !== undefined && parseRfc3339Ns(c.record.Created) >= untilNs) continue;
      const labels = c.record.Config.Labels ?? {};
      if (filters.label?.length && !labelsMatch(labels, filters.label)) continue;
      if (filters["label!"]?.length && labelsMatch(labels, filters["label!"])) continue;
      // dockerd counts each removed container's writable layer (its SizeRw) as reclaimed.
      const size = await upperSize(join(this.#r.dir(c.id), "upper")).catch(() => 0);
      await this.remove(c.id, {});
      deleted.push(c.id);
      reclaimed += size;
    }
    this.#r.emitGlobal("prune", { reclaimed: String(reclaimed) });
    return { ContainersDeleted: deleted, SpaceReclaimed: reclaimed };
  }
}

/** runc's start errors as Docker maps them to the exit code the CLI reports. */
function exitCodeForStartError(message: string): number {
  if (/executable file not found|no such file or directory/i.test(message)) return 127;
  if (/permission denied/i.test(message)) return 126;
  return 128;
}
