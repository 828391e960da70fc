/** The container runtime's interface (conmon.ts implements it) and its options, apart from the driver. */
import type { Readable, Writable } from "node:stream";
import type { Host } from "../host/index.ts";
import type { OciSpec } from "../oci/index.ts";
import type { ExecOptions, ExecSession } from "./exectypes.ts";
import type { ExitStatus } from "./exitwatch.ts";
import type { OciRuntimeConfig } from "./runc.ts";
import type { SpecResources } from "./spec.ts";
import type { RuntimeStats, TopResult } from "./statstypes.ts";

/** Options of ContainerRuntime.create. */
export interface CreateOptions {
  /** Directory for config.json; conmon puts its attach socket and fifos here too. */
  bundleDir: string;
  /**
   * The bundle's spec, or the promise of it: conmon is started at once and waits on its start pipe until
   * the spec is written, so its own start-up overlaps with what the spec waits for (rootfs, network).
   */
  spec: OciSpec | Promise<OciSpec>;
  /** conmon writes the k8s-file log here. */
  logPath: string;
  tty: boolean;
  openStdin: boolean;
  /** Close the container's stdin when the first attached client detaches (Docker's StdinOnce). */
  stdinOnce: boolean;
  /** Name conmon logs under; the ID when absent. */
  name?: string;
  /** conmon's --log-size-max in bytes. */
  logSizeMax?: number;
  /** The configured runtime to run it under (`--runtime`); the default runtime when absent. */
  runtime?: string;
}

/** The state runc reports. */
export interface RuntimeState {
  status: "created" | "running" | "stopped" | "paused" | "unknown";
  pid: number;
}

/** Runs containers with runc under conmon. */
export interface ContainerRuntime {
  /** conmon + `runc create`: resolves when the container exists (created, not started) with its pid. */
  create(id: string, opts: CreateOptions): Promise<{ pid: number; conmonPid: number }>;
  /** `runc start`. */
  start(id: string): Promise<void>;
  /** Signals the container's init (or all its processes with `all`). */
  kill(id: string, signal: number | string, opts?: { all?: boolean }): Promise<void>;
  /**
   * `runc delete` and removal of conmon's leftovers; `force` kills a running container first. `keepExit`
   * removes only the runtime's own state (runc's state dir and cgroups) and leaves conmon's exit record,
   * so it can go while the exit is being saved; a later delete removes the rest.
   */
  delete(id: string, opts?: { force?: boolean; keepExit?: boolean }): Promise<void>;
  /** runc's view of the container; undefined when runc does not know it. */
  state(id: string): Promise<RuntimeState | undefined>;
  /** Resolves once when the container's process exits, also for containers created before a daemon restart. */
  waitExit(id: string): Promise<ExitStatus>;
  /** Attaches to stdio through conmon's attach socket. */
  attach(id: string): Promise<{ stdout: Readable; stderr: Readable; stdin: Writable; close(): void }>;
  /** Resizes the container's TTY through conmon's ctl fifo. */
  resize(id: string, size: { height: number; width: number }): Promise<void>;
  /** Makes conmon reopen the container's log file by path, so a renamed (rotated) file stops growing. */
  reopenLog(id: string): Promise<void>;
  /** True while the container's conmon runs (for reconnecting after a daemon restart). */
  isAlive(id: string): Promise<boolean>;
  /** conmon's pid for the container, if recorded. */
  conmonPid(id: string): Promise<number | undefined>;
  /**
   * Runs a process in the running container under its own conmon (`conmon --exec`): the session's pid,
   * stdio, TTY resize and exit code. A command that cannot start is not an error: the session's exit
   * resolves with 127 (not found) or 126 (not executable), as Docker reports it. Conflict when the
   * container is not running.
   */
  exec(id: string, execId: string, opts: ExecOptions): Promise<ExecSession>;
  /** One stats frame from the container's cgroup files; undefined when the container has no cgroup (not created or gone). */
  stats(id: string): Promise<RuntimeStats | undefined>;
  /** Freezes every process of the container (cgroup freezer); Conflict when it is not running. */
  pause(id: string): Promise<void>;
  /** Thaws a paused container; Conflict when it is not paused. */
  unpause(id: string): Promise<void>;
  /** Changes the cgroup limits of a created or running container; only the fields given change. */
  update(id: string, resources: SpecResources): Promise<void>;
  /** Host pids of every process in the container (its cgroup's cgroup.procs). */
  pids(id: string): Promise<number[]>;
  /** `ps <psArgs>` (default "-ef") on the host, rows limited to the container's processes, as Docker's top. */
  top(id: string, psArgs?: string): Promise<TopResult>;
  /** Stops the exit-dir watch; containers keep running. */
  close(): void;
}

/** Options of createRuntime. */
export interface RuntimeOptions {
  /** Where sockets, pid files and exit files live (e.g. /run/wharf). */
  execRoot: string;
  /** runc's binary, when `runtimes` does not name one. */
  runtimePath?: string;
  /** The OCI runtimes by name, with their global flags; runc is always among them. */
  runtimes?: Record<string, OciRuntimeConfig>;
  /** The runtime of containers that name none ("runc" when absent). */
  defaultRuntime?: string;
  conmonPath?: string;
  /** Parent cgroup for specs that come without a cgroupsPath (DEFAULT_CGROUP_PARENT when absent). */
  cgroupParent?: string;
  /**
   * false for a rootless daemon without cgroups (cgroup v1): specs keep their missing cgroupsPath, so runc's
   * rootless cgroup manager leaves cgroups alone; pause and top then work from the process tree or refuse.
   */
  cgroups?: boolean;
  /** conmon's --log-level. */
  conmonLogLevel?: "error" | "warning" | "info" | "debug";
  /** How long to wait for conmon to report the container pid. */
  createTimeoutMs?: number;
  /** The processes, kernel files and sockets it uses; realHost()'s when absent. */
  host?: RuntimeHost;
}

/** The parts of the Host the runtime uses. */
export type RuntimeHost = Pick<Host, "processes" | "files" | "sockets">;
