import { PassThrough } from "node:stream";
import type { EventSink, ExecCreateRequest, ExecInspect } from "../apitypes/index.ts";
import { ConflictError, InvalidParameterError, NotFoundError } from "../errdefs/index.ts";
import type { AttachStreams } from "../runtime/index.ts";
import { type ExecSession, resolveUser } from "../runtime/index.ts";
import { newId } from "../util/index.ts";

/** What exec needs to know of its container. */
export interface ExecTarget {
  id: string;
  name: string;
  running: boolean;
  paused: boolean;
  /** The mounted rootfs, for resolving `--user` against the container's /etc/passwd. */
  rootfs: string;
  /** The container's user, used when the exec names none. */
  user: string;
  /** The container's `--group-add`s, which its execs keep as dockerd's do. */
  groupAdd: string[];
  attrs: Record<string, string>;
}

/** The runtime operations exec uses. */
export interface ExecRuntime {
  exec(
    id: string,
    execId: string,
    opts: {
      args: string[];
      env?: string[];
      cwd?: string;
      user?: { uid: number; gid: number; additionalGids?: number[] };
      tty?: boolean;
      stdin?: boolean;
      privileged?: boolean;
      consoleSize?: { height: number; width: number };
      attach?: boolean;
    },
  ): Promise<ExecSession>;
}

interface ExecEntry {
  id: string;
  containerId: string;
  config: ExecCreateRequest & { Cmd: string[] };
  session?: ExecSession;
  started: boolean;
  exitCode: number | null;
  running: boolean;
}

/** Exec instances: created, started (attached or detached), inspected; Docker keeps them in memory only. */
export class ExecManager {
  readonly #execs = new Map<string, ExecEntry>();
  readonly #runtime: ExecRuntime;
  readonly #events: EventSink;
  readonly #target: (ref: string) => ExecTarget;

  /** `target` looks a container up by ref (NotFoundError when missing) and says what exec needs of it. */
  constructor(opts: { runtime: ExecRuntime; events: EventSink; target: (ref: string) => ExecTarget }) {
    this.#runtime = opts.runtime;
    this.#events = opts.events;
    this.#target = opts.target;
  }

  #get(id: string): ExecEntry {
    const e = this.#execs.get(id);
    if (!e) throw new NotFoundError(`No such exec instance: ${id}`);
    return e;
  }

  /** POST /containers/{id}/exec */
  create(ref: string, req: ExecCreateRequest): { Id: string } {
    const target = this.#target(ref);
    if (!req.Cmd?.length) throw new InvalidParameterError("No exec command specified");
    if (!target.running) throw new ConflictError(`Container ${target.id} is not running`);
    // dockerd names the container as the request did here (and by ID when it is not running).
    if (target.paused)
      throw new ConflictError(`Container ${ref} is paused, unpause the container before exec`);
    const id = newId();
    this.#execs.set(id, {
      id,
      containerId: target.id,
      config: { ...req, Cmd: req.Cmd },
      started: false,
      exitCode: null,
      running: false,
    });
    this.#events({
      Type: "container",
      Action: `exec_create: ${req.Cmd.join(" ")}`,
      Actor: { ID: target.id, Attributes: { ...target.attrs, execID: id } },
    });
    return { Id: id };
  }

  /** The exec IDs of a container, for its inspect. */
  idsOf(containerId: string): string[] {
    return [...this.#execs.values()].filter((e) => e.containerId === containerId).map((e) => e.id);
  }

  /** Forgets a container's execs (it stopped or was removed). */
  forget(containerId: string): void {
    for (const [id, e] of this.#execs)
      if (e.containerId === containerId && !e.running) this.#execs.delete(id);
  }

  /** The container an exec belongs to. */
  containerOf(execId: string): string {
    return this.#get(execId).containerId;
  }

  /** Whether an exec has a TTY and stdin, for framing its stream. */
  streamInfo(
    execId: string,
    opts: { tty?: boolean },
  ): { tty: boolean; stdin: boolean; terminal: boolean; detachKeys?: string } {
    const e = this.#get(execId);
    const c = e.config;
    return { tty: opts.tty ?? !!c.Tty, stdin: !!c.AttachStdin, terminal: !!c.Tty, detachKeys: c.DetachKeys };
  }

  /**
   * POST /exec/{id}/start. Detached: the process starts and this returns. Attached: resolves with its stdio
   * once the process runs; `exit` resolves with the exit code after it has been recorded for inspect.
   */
  async start(
    execId: string,
    opts: { detach: boolean; tty?: boolean; consoleSize?: [number, number] | null },
  ): Promise<{ stdio?: AttachStreams; exit: Promise<number> }> {
    const e = this.#get(execId);
    const target = this.#target(e.containerId);
    if (e.started) throw new ConflictError(`Error: Exec command ${execId} has already run`);
    if (!target.running) throw new ConflictError(`Container ${target.id} is not running`);
    if (target.paused)
      throw new ConflictError(`Container ${target.id} is paused, unpause the container before exec`);
    e.started = true;
    const c = e.config;
    const user = await resolveUser(target.rootfs, c.User || target.user || "", {
      groupAdd: target.groupAdd,
    });
    const size = opts.consoleSize ?? c.ConsoleSize;
    const session = await this.#runtime.exec(target.id, execId, {
      args: c.Cmd,
      env: c.Env ?? undefined,
      cwd: c.WorkingDir || undefined,
      user: { uid: user.uid, gid: user.gid, additionalGids: user.additionalGids },
      // The terminal is the create request's, as dockerd: the start body's Tty only frames the stream.
      tty: !!c.Tty,
      stdin: !!c.AttachStdin && !opts.detach,
      privileged: !!c.Privileged,
      consoleSize: size?.[0] ? { height: size[0], width: size[1] } : undefined,
      attach: !opts.detach,
    });
    e.session = session;
    e.running = true;
    const cmd = c.Cmd.join(" ");
    this.#events({
      Type: "container",
      Action: `exec_start: ${cmd}`,
      Actor: { ID: target.id, Attributes: { ...target.attrs, execID: execId } },
    });
    const exit = session.exit.then((raw) => {
      // dockerd records 126 for any exec whose process could not be started, a missing binary too (a
      // container's own command that is not found exits 127).
      const x = raw.error ? { ...raw, exitCode: 126 } : raw;
      e.exitCode = x.exitCode;
      e.running = false;
      this.#events({
        Type: "container",
        Action: "exec_die",
        Actor: {
          ID: target.id,
          Attributes: { ...target.attrs, execID: execId, exitCode: String(x.exitCode) },
        },
      });
      return x.exitCode;
    });
    if (opts.detach) return { exit };
    try {
      return { stdio: await session.attach(), exit };
    } catch (e) {
      // The process never ran (missing binary...): Docker writes the runtime's error into the stream, and the
      // exit code (126/127) is the exec's, read through exec inspect.
      const x = await session.exit;
      if (!x.error) throw e;
      return { stdio: messageStdio(`${x.error}\r\n`), exit };
    }
  }

  /** Signals a running exec's process, not the container's (the CRI kills an ExecSync past its timeout). */
  async kill(execId: string, signal: number | string): Promise<void> {
    const e = this.#get(execId);
    if (e.session && e.running) await e.session.kill(signal);
  }

  /** POST /exec/{id}/resize */
  async resize(execId: string, size: { height: number; width: number }): Promise<void> {
    const e = this.#get(execId);
    if (!e.session || !e.running) throw new ConflictError(`Exec ${execId} is not running`);
    await e.session.resize(size);
  }

  /** GET /exec/{id}/json */
  inspect(execId: string): ExecInspect {
    const e = this.#get(execId);
    const c = e.config;
    return {
      CanRemove: false,
      ContainerID: e.containerId,
      DetachKeys: c.DetachKeys ?? "",
      ExitCode: e.exitCode,
      ID: e.id,
      OpenStderr: !!c.AttachStderr,
      OpenStdin: !!c.AttachStdin,
      OpenStdout: !!c.AttachStdout,
      ProcessConfig: {
        arguments: c.Cmd.slice(1),
        entrypoint: c.Cmd[0],
        privileged: !!c.Privileged,
        tty: !!c.Tty,
        user: c.User ?? "",
      },
      Running: e.running,
      Pid: e.session?.pid ?? 0,
    };
  }
}

/** Stdio of a process that never ran: one message on stdout, then end of stream. */
function messageStdio(message: string): AttachStreams {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  stdout.end(message);
  stderr.end();
  return { stdout, stderr, stdin: new PassThrough(), close: () => undefined };
}
