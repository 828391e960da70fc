/**
 * Exec sessions, the way podman runs them: one more conmon per session, started with `--exec`, which runs
 * `runc exec --detach --process <process.json>` and then supervises the process as it does a container's.
 *
 * Three pipes tie the daemon to that conmon (fds 3-5, named to conmon by environment variables):
 *   _OCI_STARTPIPE  we write one byte to let conmon begin, and a second one to let it run `runc exec`
 *   _OCI_ATTACHPIPE conmon writes {"data":0} once its attach socket and ctl fifo exist
 *   _OCI_SYNCPIPE   conmon writes {"data":<pid>} (or a negative value with runc's message) once the process
 *                   runs, and {"data":<exit code>} when it ends.
 * Between the attach message and the second start byte we connect to the attach socket, so an attached
 * client sees all output, even of a process that exits at once. The exit code comes over the sync pipe,
 * so detached sessions need no watch of their own; conmon also writes it to `<session dir>/exit`.
 *
 * A session lives in `<exec root>/containers/<id>/exec/<exec id>/` (process.json, pid files, attach socket,
 * ctl fifo), which is removed when the process has exited and with the container.
 */
import { mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { Readable, Writable } from "node:stream";
import { ConflictError, isErrno, SystemError } from "../errdefs/index.ts";
import type { Host } from "../host/index.ts";
import type { OciProcess, OciSpec } from "../oci/index.ts";
import { type AttachStreams, attachSocket } from "./attach.ts";
import { hostCaps } from "./caps.ts";
import { conmonArgs, conmonEnv } from "./conmonargs.ts";
import { parseSync } from "./conmonspawn.ts";
import type { CtlWriter } from "./ctl.ts";
import { OciRuntimeError, parseRuncStderr } from "./errors.ts";
import type { ExecExit, ExecOptions, ExecSession } from "./exectypes.ts";
import { normalizeSignal } from "./signals.ts";

/** What startExec needs from the runtime. */
export interface ExecContext {
  conmon: string;
  /** The container's OCI runtime and its global flags. */
  runtimePath: string;
  runtimeArgs: readonly string[];
  /** Adapts the session's process.json to the runtime (gVisor's known capabilities). */
  adaptProcess?: (p: OciProcess) => OciProcess;
  logLevel: string;
  timeoutMs: number;
  /** conmon's persist dir of the container (`<exec root>/containers/<id>`); its `bundle` links to the bundle. */
  ctrDir: string;
  ctl: CtlWriter;
  host: Pick<Host, "processes" | "sockets">;
}

/** Starts an exec session in container `id` (see the file comment). */
export async function startExec(
  ctx: ExecContext,
  id: string,
  execId: string,
  opts: ExecOptions,
): Promise<ExecSession> {
  if (opts.args.length === 0) throw new ConflictError("No exec command specified");
  let spec: OciSpec;
  try {
    spec = JSON.parse(await readFile(join(ctx.ctrDir, "bundle", "config.json"), "utf8")) as OciSpec;
  } catch (e) {
    if (isErrno(e, "ENOENT")) throw new ConflictError(`Container ${id} is not running`, { cause: e });
    throw e;
  }
  const dir = join(ctx.ctrDir, "exec", execId);
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const specPath = join(dir, "process.json");
  const proc = execProcess(spec.process, opts);
  await writeFile(specPath, JSON.stringify(ctx.adaptProcess ? ctx.adaptProcess(proc) : proc));
  const args = conmonArgs({
    containerId: id,
    sessionId: execId,
    runtimePath: ctx.runtimePath,
    runtimeArgs: ctx.runtimeArgs,
    bundleDir: dir,
    persistDir: dir,
    name: id,
    logLevel: ctx.logLevel,
    log: "none",
    tty: opts.tty === true,
    stdin: opts.stdin === true,
    execProcessSpec: specPath,
  });
  const child = ctx.host.processes.spawn(ctx.conmon, args, {
    cwd: dir,
    env: conmonEnv({ sync: 3, start: 4, attach: 5 }),
    stdio: ["ignore", "ignore", "pipe", "pipe", "pipe", "pipe"],
    detached: true,
  });
  const pipes = child.stdio;
  const sync = new MessageReader(pipes[3] as Readable);
  const start = pipes[4] as Writable;
  const attachPipe = new MessageReader(pipes[5] as Readable);
  let stderr = "";
  child.stderr?.setEncoding("utf8");
  child.stderr?.on("data", (s: string) => {
    if (stderr.length < 65536) stderr += s;
  });
  child.on("error", (e) => {
    sync.fail(new SystemError(`cannot run conmon: ${e.message}`, { cause: e }));
    attachPipe.fail(new SystemError(`cannot run conmon: ${e.message}`, { cause: e }));
  });
  child.unref();
  const conmonFailed = (): Error =>
    new SystemError(`conmon exec failed for ${id}: ${stderr.trim() || "no message"}`);

  let streams: AttachStreams | undefined;
  let pid: number;
  let failure: ExecExit | undefined;
  const timer = setTimeout(() => {
    const e = new SystemError(`conmon did not start the exec process within ${ctx.timeoutMs} ms`);
    sync.fail(e);
    attachPipe.fail(e);
  }, ctx.timeoutMs);
  try {
    start.write(Buffer.from([0]));
    const ready = await attachPipe.next();
    if (ready?.data !== 0) throw conmonFailed();
    attachPipe.close();
    if (opts.attach) streams = await attachSocket(dir, { sockets: ctx.host.sockets });
    // Only now, after the first byte was consumed, may the second be sent: both in one read would leave
    // conmon's child waiting for a start message forever.
    start.end(Buffer.from([0]));
    const first = await sync.next();
    if (!first) throw conmonFailed();
    if (first.data > 0) pid = first.data;
    else {
      pid = 0;
      failure = execFailure(id, first.message ?? "");
    }
  } catch (e) {
    clearTimeout(timer);
    streams?.close();
    sync.close();
    attachPipe.close();
    start.destroy();
    await killConmon(dir, ctx.host);
    await rm(dir, { recursive: true, force: true }).catch(() => {});
    throw e;
  }
  clearTimeout(timer);
  start.destroy();
  // Waiting for the exit must not keep the daemon alive.
  sync.unref();

  const exit: Promise<ExecExit> = failure
    ? Promise.resolve(failure)
    : sync.next().then(
        async (m): Promise<ExecExit> => (m ? { exitCode: m.data } : { exitCode: await readExitFile(dir) }),
        async () => ({ exitCode: await readExitFile(dir) }),
      );
  let ended = false;
  void exit.then(async () => {
    ended = true;
    sync.close();
    // The socket of an attached client stays connected; the files are no use any more.
    await rm(dir, { recursive: true, force: true }).catch(() => {});
  });
  if (failure && streams) {
    // Docker writes the runtime's error into an attached stream; the caller does that from exit.error.
    streams.close();
    streams = undefined;
  }
  let preAttached = streams;
  return {
    execId,
    pid,
    exit,
    async attach() {
      if (preAttached) {
        const s = preAttached;
        preAttached = undefined;
        return s;
      }
      if (ended) throw new ConflictError(`exec ${execId} has exited`);
      return attachSocket(dir, { sockets: ctx.host.sockets });
    },
    async resize(size) {
      if (ended) throw new ConflictError(`exec ${execId} has exited`);
      await ctx.ctl.resize(dir, size);
    },
    async kill(signal) {
      const sig = normalizeSignal(signal);
      if (ended || pid <= 0) throw new ConflictError(`exec ${execId} is not running`);
      try {
        ctx.host.processes.kill(pid, sig);
      } catch (e) {
        if (!isErrno(e, "ESRCH")) throw e;
      }
    },
  };
}

/** The process.json of a session: the container's process with the exec's settings over it. */
export function execProcess(base: OciProcess, opts: ExecOptions): OciProcess {
  const user = opts.user ?? base.user;
  const bounding = opts.privileged ? [...hostCaps()] : (opts.caps ?? base.capabilities?.bounding ?? []);
  // As for the container's own process: root holds the bounding set, other users start with none.
  const held = user.uid === 0 ? bounding : [];
  const p: OciProcess = {
    terminal: opts.tty === true,
    user: {
      uid: user.uid,
      gid: user.gid,
      ...(user.umask !== undefined ? { umask: user.umask } : {}),
      ...(user.additionalGids?.length ? { additionalGids: [...user.additionalGids] } : {}),
    },
    args: [...opts.args],
    env: mergeEnv(base.env ?? [], opts.env ?? [], opts.tty === true),
    cwd: opts.cwd || base.cwd || "/",
    capabilities: { bounding, effective: held, permitted: held, inheritable: [], ambient: [] },
    noNewPrivileges: base.noNewPrivileges === true,
  };
  if (opts.tty && opts.consoleSize) p.consoleSize = { ...opts.consoleSize };
  if (base.rlimits) p.rlimits = base.rlimits.map((r) => ({ ...r }));
  if (base.apparmorProfile) p.apparmorProfile = base.apparmorProfile;
  if (base.selinuxLabel) p.selinuxLabel = base.selinuxLabel;
  if (base.oomScoreAdj !== undefined) p.oomScoreAdj = base.oomScoreAdj;
  return p;
}

/** Replace-or-append by variable name (Docker's ReplaceOrAppendEnvValues); TERM=xterm for a TTY without one. */
function mergeEnv(base: string[], extra: string[], tty: boolean): string[] {
  const out = [...base];
  const index = new Map(out.map((e, i) => [e.split("=", 1)[0] ?? "", i]));
  for (const e of extra) {
    const name = e.split("=", 1)[0] ?? "";
    const at = index.get(name);
    if (at !== undefined) out[at] = e;
    else {
      index.set(name, out.length);
      out.push(e);
    }
  }
  if (tty && !index.has("TERM")) out.push("TERM=xterm");
  return out;
}

/** runc could not start the process: 126/127 as the exit code, as Docker reports; anything else is thrown. */
function execFailure(id: string, stderr: string): ExecExit {
  const msg = parseRuncStderr(stderr) || "runc exec failed";
  if (/stopped container|not running|container .* does not exist/i.test(msg)) {
    throw new ConflictError(`Container ${id} is not running`);
  }
  if (/paused container/i.test(msg)) {
    throw new ConflictError(`Container ${id} is paused, unpause the container before exec`);
  }
  const err = new OciRuntimeError("exec", msg);
  if (err.exitCode === undefined) throw err;
  return { exitCode: err.exitCode, error: err.message };
}

async function readExitFile(dir: string): Promise<number> {
  try {
    const n = Number.parseInt((await readFile(join(dir, "exit"), "utf8")).trim(), 10);
    return Number.isFinite(n) ? n : 255;
  } catch {
    // conmon died without recording the exit (killed): nothing will ever report it.
    return 255;
  }
}

async function killConmon(dir: string, host: Pick<Host, "processes">): Promise<void> {
  try {
    const pid = Number.parseInt((await readFile(join(dir, "conmon.pid"), "utf8")).trim(), 10);
    if (pid > 0) host.processes.kill(pid, "SIGKILL");
  } catch {}
}

interface Message {
  data: number;
  message?: string;
}

/** Reads conmon's newline-delimited JSON messages from one pipe, one at a time. */
class MessageReader {
  readonly #stream: Readable;
  readonly #queue: Message[] = [];
  #buf = "";
  #ended = false;
  #error: Error | undefined;
  #waiter: { resolve: (m: Message | undefined) => void; reject: (e: Error) => void } | undefined;

  constructor(stream: Readable) {
    this.#stream = stream;
    stream.setEncoding("utf8");
    stream.on("data", (s: string) => {
      this.#buf += s;
      for (let nl = this.#buf.indexOf("\n"); nl >= 0; nl = this.#buf.indexOf("\n")) {
        const line = this.#buf.slice(0, nl);
        this.#buf = this.#buf.slice(nl + 1);
        const m = parseSync(line);
        if (m) this.#queue.push(m);
      }
      this.#wake();
    });
    const end = (): void => {
      this.#ended = true;
      this.#wake();
    };
    stream.on("end", end);
    stream.on("close", end);
    stream.on("error", end);
  }

  /** The next message; undefined once conmon closed its end. */
  next(): Promise<Message | undefined> {
    return new Promise((resolve, reject) => {
      this.#waiter = { resolve, reject };
      this.#wake();
    });
  }

  fail(e: Error): void {
    this.#error = e;
    this.#wake();
  }

  unref(): void {
    (this.#stream as Readable & { unref?: () => void }).unref?.();
  }

  close(): void {
    this.#stream.destroy();
  }

  #wake(): void {
    const w = this.#waiter;
    if (!w) return;
    const m = this.#queue.shift();
    if (m) {
      this.#waiter = undefined;
      w.resolve(m);
    } else if (this.#error) {
      this.#waiter = undefined;
      w.reject(this.#error);
    } else if (this.#ended) {
      this.#waiter = undefined;
      w.resolve(undefined);
    }
  }
}
