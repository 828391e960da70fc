/**
 * The container runtime: one conmon per container, which runs `runc create`, owns the container's stdio,
 * log file and attach socket, and writes the exit code to a shared exit dir. conmon daemonizes (double
 * fork, setsid), so containers outlive the daemon; everything needed to find them again lives under the
 * exec root.
 *
 * The OCI runtime is runc unless a container asks for another configured one (runtimes.ts): every call
 * below goes to the container's runtime with that runtime's global flags; where gVisor's runsc differs
 * (no pid to signal directly, its own ps, pause and resume), gvisor.ts says how.
 *
 * Exec root layout:
 *   runc/                      runc --root: runc's own state, private to this daemon
 *   runtimes/<name>/state/     the --root of each other runtime (runsc's), runtimes/<name>/ its wrapper
 *   exits/<id>                 exit code, written by conmon when the process ends (watched with inotify)
 *   containers/<id>/           conmon's persist dir: pid, conmon.pid, exit, oom, runtime.json; `bundle` → the bundle dir
 *   containers/<id>/exec/<e>/  one exec session: process.json, its conmon's files, attach socket, ctl fifo
 * conmon also creates `attach` (socket), `ctl` and `winsz` (fifos) in the bundle dir.
 *
 * Exec sessions get a conmon each, run with `--exec` (see exec.ts).
 *
 * Stats, pause/unpause, pids and top read and write the container's cgroup v1 files directly (cgroups.ts,
 * stats.ts, top.ts); only update goes through `runc update`, which orders memory and swap writes.
 */
import { mkdirSync } from "node:fs";
import { access, mkdir, readFile, readlink, rm, rmdir, symlink, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { Readable, Writable } from "node:stream";
import { ConflictError, isConflict, isErrno, NotFoundError, NotImplementedError } from "../errdefs/index.ts";
import { type KernelFiles, realHost } from "../host/index.ts";
import type { OciSpec } from "../oci/index.ts";
import { attachSocket } from "./attach.ts";
import { cgroupPids, freezerState, setFreezer, writeCgroupLimits } from "./cgroups.ts";
import { conmonArgs } from "./conmonargs.ts";
import { spawnConmon } from "./conmonspawn.ts";
import { CtlWriter, reopenLogCtl } from "./ctl.ts";
import { startExec } from "./exec.ts";
import { releaseExecFifo } from "./execfifo.ts";
import type { ExecOptions, ExecSession } from "./exectypes.ts";
import { type ExitStatus, ExitWatcher } from "./exitwatch.ts";
import { gvisorProcess, gvisorSpec, parseRunscPs } from "./gvisor.ts";
import { descendants, isSameLiveProcess, procStat } from "./procfs.ts";
import { type BoundRuntime, RuntimeSet, STOCK_RUNTIME } from "./runtimes.ts";
import type {
  ContainerRuntime,
  CreateOptions,
  RuntimeHost,
  RuntimeOptions,
  RuntimeState,
} from "./runtimetypes.ts";
import { normalizeSignal } from "./signals.ts";
import { cgroupsPath, DEFAULT_CGROUP_PARENT, limitsToOci, type SpecResources } from "./spec.ts";
import { readProcessStats, readStats } from "./stats.ts";
import type { RuntimeStats, TopResult } from "./statstypes.ts";
import { runTop } from "./top.ts";

export type { ContainerRuntime, CreateOptions, RuntimeHost, RuntimeOptions, RuntimeState };

interface Known {
  pid: number;
  startTime: number | undefined;
}

const SIGKILL = 9;

/** Builds the conmon/runc runtime rooted at `opts.execRoot`. */
export function createRuntime(opts: RuntimeOptions): ContainerRuntime {
  return new ConmonRuntime(opts);
}

class ConmonRuntime implements ContainerRuntime {
  readonly #rts: RuntimeSet;
  readonly #conmon: string;
  readonly #exitDir: string;
  readonly #ctrDir: string;
  readonly #logLevel: string;
  readonly #timeoutMs: number;
  readonly #exits: ExitWatcher;
  // pid and start time of containers this process created or looked up, to signal without running runc.
  readonly #known = new Map<string, Known>();
  readonly #ctl = new CtlWriter();
  // Containers deleted and not created again since; an entry goes with the next delete, which has nothing
  // left to do, or with the next create.
  readonly #deleted = new Set<string>();
  // cgroupsPath of each container seen, for stats, pause and top without reading config.json each time.
  readonly #cgroups = new Map<string, string>();
  readonly #cgroupParent: string;
  readonly #useCgroups: boolean;
  readonly #host: RuntimeHost;
  /** The kernel files cgroups.ts, procfs.ts and stats.ts read through. */
  readonly #kernel: { files: KernelFiles };

  constructor(opts: RuntimeOptions) {
    const root = opts.execRoot;
    this.#host = opts.host ?? realHost();
    this.#kernel = { files: this.#host.files };
    this.#conmon = opts.conmonPath ?? "/usr/bin/conmon";
    this.#exitDir = join(root, "exits");
    this.#ctrDir = join(root, "containers");
    this.#rts = new RuntimeSet({
      execRoot: root,
      ctrDir: this.#ctrDir,
      runtimes: { [STOCK_RUNTIME]: { path: opts.runtimePath ?? "/usr/sbin/runc" }, ...opts.runtimes },
      defaultName: opts.defaultRuntime ?? STOCK_RUNTIME,
      processes: this.#host.processes,
    });
    this.#logLevel = opts.conmonLogLevel ?? "warning";
    this.#cgroupParent = opts.cgroupParent ?? DEFAULT_CGROUP_PARENT;
    this.#useCgroups = opts.cgroups !== false;
    this.#timeoutMs = opts.createTimeoutMs ?? 60_000;
    for (const d of [...this.#rts.roots(), this.#exitDir, this.#ctrDir])
      mkdirSync(d, { recursive: true, mode: 0o700 });
    this.#exits = new ExitWatcher(this.#exitDir, (id) => join(this.#ctrDir, id, "oom"));
  }

  async create(id: string, o: CreateOptions): Promise<{ pid: number; conmonPid: number }> {
    checkId(id);
    const dir = join(this.#ctrDir, id);
    // An unknown runtime name is the caller's mistake, refused before anything is touched.
    this.#rts.get(o.runtime || this.#rts.defaultName);
    this.#deleted.delete(id);
    // A restarted container reuses its ID: clear the previous run's exit records first. A previous run's
    // config.json goes too: a conmon whose daemon died before this run's was written must find none.
    this.#exits.forget(id);
    await Promise.all([
      rm(dir, { recursive: true, force: true }),
      rm(join(this.#exitDir, id), { force: true }),
      rm(join(o.bundleDir, "config.json"), { force: true }),
    ]);
    await mkdir(dir, { mode: 0o700 });
    const rt = await this.#rts.bind(id, dir, { ...(o.runtime ? { name: o.runtime } : {}), spec: o.spec });
    // What conmon waits for on its start pipe.
    const bundleReady = Promise.resolve(o.spec).then(async (s) => {
      const spec = this.#withCgroup(id, rt.flavor === "gvisor" ? gvisorSpec(s) : s);
      await Promise.all([
        writeFile(join(o.bundleDir, "config.json"), JSON.stringify(spec)),
        symlink(o.bundleDir, join(dir, "bundle")),
      ]);
    });
    const args = conmonArgs({
      containerId: id,
      sessionId: id,
      runtimePath: rt.via ?? rt.cli.path,
      runtimeArgs: rt.cli.globalArgs,
      bundleDir: o.bundleDir,
      persistDir: dir,
      name: o.name ?? id,
      logLevel: this.#logLevel,
      log: `k8s-file:${o.logPath}`,
      exitDir: this.#exitDir,
      tty: o.tty,
      stdin: o.openStdin,
      leaveStdinOpen: !o.stdinOnce,
      ...(o.logSizeMax !== undefined ? { logSizeMax: o.logSizeMax } : {}),
    });
    let pid: number;
    try {
      pid = await spawnConmon(id, args, {
        conmon: this.#conmon,
        cwd: dir,
        timeoutMs: this.#timeoutMs,
        processes: this.#host.processes,
        ready: bundleReady,
      });
    } catch (e) {
      // The bundle's writes may still be in flight when conmon failed first.
      await bundleReady.catch(() => undefined);
      await this.#cleanupFailedCreate(id, dir, rt);
      throw e;
    }
    const [conmonPid, st] = await Promise.all([
      readPid(join(dir, "conmon.pid")),
      procStat(pid, this.#kernel),
    ]);
    this.#known.set(id, { pid, startTime: st?.startTime });
    return { pid, conmonPid: conmonPid ?? 0 };
  }

  /** After a failed create: conmon usually exits by itself, but a timeout can leave it and runc behind. */
  async #cleanupFailedCreate(id: string, dir: string, rt: BoundRuntime): Promise<void> {
    const pid = await readPid(join(dir, "conmon.pid")).catch(() => undefined);
    const st = pid ? await procStat(pid, this.#kernel) : undefined;
    if (pid && st?.comm === "conmon" && st.state !== "Z") {
      try {
        this.#host.processes.kill(pid, "SIGKILL");
      } catch {}
      await rt.cli.run("delete", ["delete", "--force", id]).catch(() => {});
    }
    await rm(dir, { recursive: true, force: true }).catch(() => {});
  }

  async start(id: string): Promise<void> {
    checkId(id);
    const rt = await this.#rts.of(id);
    const known = this.#known.get(id);
    if (rt.isRunc && known) {
      const alive = () => isSameLiveProcess(known.pid, known.startTime, this.#kernel);
      if (await releaseExecFifo(join(rt.cli.root, id, "exec.fifo"), { alive })) return;
    }
    // runsc sets up the sandbox's network at start: the wrapper is needed here too.
    await rt.cli.run("start", ["start", id], rt.via ? { via: rt.via } : {});
  }

  async kill(id: string, signal: number | string, opts: { all?: boolean } = {}): Promise<void> {
    checkId(id);
    const sig = normalizeSignal(signal);
    const rt = await this.#rts.of(id);
    // A runsc container's recorded pid is its sandbox's: the signal must go through runsc to reach init.
    if (!opts.all && rt.flavor === "runc") {
      const known = await this.#lookup(id);
      // A start-time match proves the pid is still the container's init, so one kill(2) replaces `runc kill`.
      if (known && (await isSameLiveProcess(known.pid, known.startTime, this.#kernel))) {
        try {
          this.#host.processes.kill(known.pid, sig);
          if (sig === SIGKILL) await this.#thaw(id);
          return;
        } catch (e) {
          if (!isErrno(e, "ESRCH")) throw e;
        }
      }
    }
    const args = ["kill"];
    if (opts.all) args.push("--all");
    args.push(id, String(sig));
    if (rt.flavor === "gvisor" && sig === SIGKILL && (await this.#gvisorPaused(rt, id)))
      await rt.cli.run("resume", ["resume", id]).catch(() => {});
    await rt.cli.run("kill", args);
    // `runc kill --all` thaws by itself.
    if (sig === SIGKILL && !opts.all && rt.flavor === "runc") await this.#thaw(id);
  }

  /** A frozen process holds a SIGKILL until thawed, so killing a paused container thaws it. */
  async #thaw(id: string): Promise<void> {
    const path = await this.#cgroupPath(id);
    if (path && (await freezerState(path, this.#kernel)) === "FROZEN")
      await setFreezer(path, "THAWED", this.#kernel).catch(() => {});
  }

  async delete(id: string, opts: { force?: boolean; keepExit?: boolean } = {}): Promise<void> {
    checkId(id);
    // Deleted already and not created since (the exit path deletes, then `run --rm` removes): nothing left.
    if (!opts.keepExit && this.#deleted.delete(id)) return;
    const dir = join(this.#ctrDir, id);
    // The exit, once heard, is known in memory: only without one is conmon looked up in /proc.
    if (opts.force && !(await this.#exits.read(id)) && (await this.isAlive(id))) {
      // Kill and wait for conmon to record the exit, so no exit file lands after the cleanup below.
      await this.kill(id, "SIGKILL", { all: true }).catch(() => {});
      await withTimeout(this.waitExit(id), 5000);
    }
    if (opts.keepExit) return this.#deleteRuntimeState(id, opts);
    const [bundle] = await Promise.all([
      readlink(join(dir, "bundle")).catch(() => undefined),
      this.#deleteRuntimeState(id, opts),
    ]);
    this.#rts.forget(id);
    this.#known.delete(id);
    this.#cgroups.delete(id);
    this.#exits.forget(id);
    await Promise.all([
      rm(dir, { recursive: true, force: true }),
      rm(join(this.#exitDir, id), { force: true }),
      // What conmon and create made in the bundle dir; the dir is its owner's.
      ...(bundle
        ? ["attach", "ctl", "winsz", "config.json"].map((f) => rm(join(bundle, f), { force: true }))
        : []),
    ]);
    this.#deleted.add(id);
  }

  /** The runtime's own record of the container: removed by hand after an exit, else by `<runtime> delete`. */
  async #deleteRuntimeState(id: string, opts: { force?: boolean }): Promise<void> {
    const rt = await this.#rts.of(id);
    // Without its state dir runc knows no such container and `runc delete` only fails; that is so when the
    // exit path already cleaned up and `run --rm` removes next, and skipping it saves a runc start-up there.
    const known =
      rt.flavor !== "runc" ||
      (await access(join(rt.cli.root, id)).then(
        () => true,
        () => false,
      ));
    if (!known || (rt.flavor === "runc" && (await this.#deleteExited(id, rt)))) return;
    try {
      await rt.cli.run("delete", opts.force ? ["delete", "--force", id] : ["delete", id]);
    } catch (e) {
      if (!(e instanceof NotFoundError)) throw e;
    }
  }

  /**
   * What `runc delete` does for a container whose init has exited, without spawning runc on every exit:
   * remove its cgroups (the paths runc recorded in its state) and its state dir. False when it cannot be
   * sure (no exit recorded, no state, a cgroup still busy), so the caller runs runc itself.
   */
  async #deleteExited(id: string, rt: BoundRuntime): Promise<boolean> {
    if (!(await this.#exits.read(id))) return false;
    const stateDir = join(rt.cli.root, id);
    let paths: Record<string, string>;
    try {
      const st = JSON.parse(await readFile(join(stateDir, "state.json"), "utf8")) as {
        cgroup_paths?: Record<string, string>;
      };
      paths = st.cgroup_paths ?? {};
    } catch {
      return false;
    }
    const dirs = [...new Set(Object.values(paths))].filter((p) => p.startsWith("/sys/fs/cgroup/"));
    const results = await Promise.all(
      dirs.map((d) =>
        rmdir(d).then(
          () => true,
          (e: unknown) => isErrno(e, "ENOENT"),
        ),
      ),
    );
    if (results.includes(false)) return false;
    await rm(stateDir, { recursive: true, force: true });
    return true;
  }

  async state(id: string): Promise<RuntimeState | undefined> {
    checkId(id);
    let out: string;
    try {
      out = await (await this.#rts.of(id)).cli.run("state", ["state", id]);
    } catch (e) {
      if (e instanceof NotFoundError) return undefined;
      throw e;
    }
    const s = JSON.parse(out) as { status?: string; pid?: number };
    const known = ["created", "running", "stopped", "paused"] as const;
    const status = known.find((k) => k === s.status) ?? "unknown";
    return { status, pid: typeof s.pid === "number" ? s.pid : 0 };
  }

  waitExit(id: string): Promise<ExitStatus> {
    checkId(id);
    // If conmon died without writing the exit file (killed while we were away), nothing ever will. Without
    // a conmon pid file the container is not created yet, and the wait holds until it is and exits.
    return this.#exits.wait(
      id,
      async () => (await this.conmonPid(id)) !== undefined && !(await this.isAlive(id)),
    );
  }

  async attach(id: string): Promise<{ stdout: Readable; stderr: Readable; stdin: Writable; close(): void }> {
    checkId(id);
    return attachSocket(join(this.#ctrDir, id, "bundle"), { sockets: this.#host.sockets });
  }

  async resize(id: string, size: { height: number; width: number }): Promise<void> {
    checkId(id);
    try {
      await this.#ctl.resize(join(this.#ctrDir, id, "bundle"), size);
    } catch (e) {
      if (isConflict(e)) throw new ConflictError(`container ${id} is not running`, { cause: e });
      throw e;
    }
  }

  async reopenLog(id: string): Promise<void> {
    checkId(id);
    try {
      await reopenLogCtl(join(this.#ctrDir, id, "bundle"));
    } catch (e) {
      if (isConflict(e)) throw new ConflictError(`container ${id} is not running`, { cause: e });
      throw e;
    }
  }

  async isAlive(id: string): Promise<boolean> {
    checkId(id);
    const pid = await this.conmonPid(id);
    if (!pid) return false;
    const st = await procStat(pid, this.#kernel);
    if (!st || st.state === "Z" || st.comm !== "conmon") return false;
    // The same pid may now be another container's conmon; its command line names the container.
    const cmdline = await this.#host.files.read(`/proc/${pid}/cmdline`).catch(() => "");
    return cmdline.split("\0").includes(id);
  }

  conmonPid(id: string): Promise<number | undefined> {
    return readPid(join(this.#ctrDir, id, "conmon.pid"));
  }

  close(): void {
    this.#exits.close();
  }

  async exec(id: string, execId: string, opts: ExecOptions): Promise<ExecSession> {
    checkId(id);
    checkId(execId);
    const rt = await this.#rts.of(id);
    const ctx = {
      conmon: this.#conmon,
      runtimePath: rt.execVia ?? rt.cli.path,
      runtimeArgs: rt.cli.globalArgs,
      ...(rt.flavor === "gvisor" ? { adaptProcess: gvisorProcess } : {}),
      logLevel: this.#logLevel,
      timeoutMs: this.#timeoutMs,
      ctrDir: join(this.#ctrDir, id),
      ctl: this.#ctl,
      host: this.#host,
    };
    return startExec(ctx, id, execId, opts);
  }

  async stats(id: string): Promise<RuntimeStats | undefined> {
    checkId(id);
    const path = await this.#cgroupPath(id);
    if (!path && !this.#useCgroups) {
      const init = (await this.#lookup(id))?.pid;
      return init ? readProcessStats(await descendants(init, this.#kernel), this.#kernel) : undefined;
    }
    if (!path) return undefined;
    return readStats(path, (await this.#lookup(id))?.pid, this.#kernel);
  }

  async pause(id: string): Promise<void> {
    checkId(id);
    const rt = await this.#rts.of(id);
    if (rt.flavor === "gvisor") {
      if (await this.#gvisorPaused(rt, id)) throw new ConflictError(`Container ${id} is already paused`);
      await rt.cli.run("pause", ["pause", id]);
      return;
    }
    const path = await this.#runningCgroup(id);
    if ((await freezerState(path, this.#kernel)) === "FROZEN")
      throw new ConflictError(`Container ${id} is already paused`);
    await setFreezer(path, "FROZEN", this.#kernel);
  }

  async unpause(id: string): Promise<void> {
    checkId(id);
    const rt = await this.#rts.of(id);
    if (rt.flavor === "gvisor") {
      if (!(await this.#gvisorPaused(rt, id))) throw new ConflictError(`Container ${id} is not paused`);
      await rt.cli.run("resume", ["resume", id]);
      return;
    }
    const path = await this.#runningCgroup(id);
    if ((await freezerState(path, this.#kernel)) !== "FROZEN")
      throw new ConflictError(`Container ${id} is not paused`);
    await setFreezer(path, "THAWED", this.#kernel);
  }

  async update(id: string, resources: SpecResources): Promise<void> {
    checkId(id);
    const res = limitsToOci(resources);
    // runc update leaves zero fields alone; -1 is how it is told "no limit".
    if (resources.pidsLimit !== undefined && resources.pidsLimit < 0) res.pids = { limit: -1 };
    if (!res.memory && !res.cpu && !res.pids && !res.blockIO) return;
    const rt = await this.#rts.of(id);
    // runsc has no `update`: the sandbox's cgroup on the host takes the new limits directly.
    if (rt.flavor === "gvisor") {
      await writeCgroupLimits(await this.#runningCgroup(id), res, this.#kernel);
      return;
    }
    await rt.cli.run("update", ["update", "--resources", "-", id], { input: JSON.stringify(res) });
  }

  async pids(id: string): Promise<number[]> {
    checkId(id);
    const path = await this.#cgroupPath(id);
    if (!path && !this.#useCgroups) {
      // No cgroup to list: the container's processes are its init and everything it started.
      const init = (await this.#lookup(id))?.pid;
      return init ? descendants(init, this.#kernel) : [];
    }
    return (path && (await cgroupPids(path, this.#kernel))) || [];
  }

  async top(id: string, psArgs?: string): Promise<TopResult> {
    checkId(id);
    const rt = await this.#rts.of(id);
    // The sandbox's processes are not the host's: runsc lists them, in ps -ef's columns.
    if (rt.flavor === "gvisor") return parseRunscPs(await rt.cli.run("ps", ["ps", id]));
    return runTop(await this.pids(id), psArgs ?? "", { processes: this.#host.processes });
  }

  /** The container's cgroupsPath, from memory or (after a daemon restart) from its config.json. */
  async #cgroupPath(id: string): Promise<string | undefined> {
    const known = this.#cgroups.get(id);
    if (known) return known;
    try {
      const spec = JSON.parse(
        await readFile(join(this.#ctrDir, id, "bundle", "config.json"), "utf8"),
      ) as OciSpec;
      const path = spec.linux?.cgroupsPath;
      if (path) this.#cgroups.set(id, path);
      return path;
    } catch (e) {
      if (isErrno(e, "ENOENT")) return undefined;
      throw e;
    }
  }

  async #runningCgroup(id: string): Promise<string> {
    const path = await this.#cgroupPath(id);
    if (!path && !this.#useCgroups)
      throw new NotImplementedError(
        "a rootless daemon without cgroups (cgroup v1) cannot pause or update a container: its processes have no cgroup of their own",
      );
    const known = await this.#lookup(id);
    if (!path || !known || !(await isSameLiveProcess(known.pid, known.startTime, this.#kernel))) {
      throw new ConflictError(`Container ${id} is not running`);
    }
    return path;
  }

  #withCgroup(id: string, spec: OciSpec): OciSpec {
    if (!this.#useCgroups && !spec.linux.cgroupsPath) return spec;
    const path = spec.linux.cgroupsPath || cgroupsPath(this.#cgroupParent, id);
    this.#cgroups.set(id, path);
    if (spec.linux.cgroupsPath) return spec;
    return { ...spec, linux: { ...spec.linux, cgroupsPath: path } };
  }

  /** True when runsc reports the container paused. */
  async #gvisorPaused(rt: BoundRuntime, id: string): Promise<boolean> {
    const out = await rt.cli.run("state", ["state", id]).catch(() => "{}");
    return (JSON.parse(out) as { status?: string }).status === "paused";
  }

  async #lookup(id: string): Promise<Known | undefined> {
    const k = this.#known.get(id);
    if (k) return k;
    // After a daemon restart: runc's state.json records the init pid and its start time (runsc's own
    // state is another format; its containers are found again through `runsc state`).
    const rt = await this.#rts.of(id);
    if (rt.flavor === "gvisor") {
      const st = await this.state(id).catch(() => undefined);
      if (!st?.pid) return undefined;
      const known = { pid: st.pid, startTime: (await procStat(st.pid, this.#kernel))?.startTime };
      this.#known.set(id, known);
      return known;
    }
    try {
      const st = JSON.parse(await readFile(join(rt.cli.root, id, "state.json"), "utf8")) as {
        init_process_pid?: number;
        init_process_start?: number;
      };
      if (typeof st.init_process_pid !== "number" || st.init_process_pid <= 0) return undefined;
      const known = { pid: st.init_process_pid, startTime: st.init_process_start };
      this.#known.set(id, known);
      return known;
    } catch {
      return undefined;
    }
  }
}

async function readPid(file: string): Promise<number | undefined> {
  try {
    const n = Number.parseInt((await readFile(file, "utf8")).trim(), 10);
    return Number.isInteger(n) && n > 0 ? n : undefined;
  } catch (e) {
    if (isErrno(e, "ENOENT")) return undefined;
    throw e;
  }
}

function checkId(id: string): void {
  // IDs become path components and command-line arguments.
  if (!/^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/.test(id)) throw new NotFoundError(`No such container: ${id}`);
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T | undefined> {
  return new Promise((resolve) => {
    const t = setTimeout(() => resolve(undefined), ms);
    t.unref();
    p.then(
      (v) => {
        clearTimeout(t);
        resolve(v);
      },
      () => {
        clearTimeout(t);
        resolve(undefined);
      },
    );
  });
}
