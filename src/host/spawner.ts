/**
 * Starting a program blocks the calling thread until the child has exec'd; on a loaded machine that is
 * tens of milliseconds per runc or conmon. So programs are started from worker threads: the event loop
 * only posts a message. They use posix_spawn (native spawnWait), not node's child_process: libuv
 * forks, which copies the daemon's page tables under its mmap_lock and leaves copy-on-write pages that
 * stalled the main thread even though the fork ran elsewhere. Pipes to long-lived children
 * (conmon's sync and start pipes) are socket pairs made here, whose child ends the worker hands to the
 * program and whose own ends become net.Sockets on the main thread.
 *
 * A worker costs about 17 MB of RSS, so workers are made on demand (a second only while the first is
 * busy) and all end after `idleMs` (10 s) with nothing in flight. The next call then pays one worker
 * creation, 100-200 ms measured at a load of 10 on 2 cores; it happens on the new thread, so the event
 * loop is not held up.
 */
import { close } from "node:fs";
import { Socket } from "node:net";
import type { Readable, Writable } from "node:stream";
import { Worker } from "node:worker_threads";
import { releaseFreeMemory } from "./memory.ts";
import { native, nativePath } from "./native.ts";
import { childNice } from "./priority.ts";
import { PipedChild, ProcessError } from "./process.ts";
import type { Child, Processes, RunOptions, SpawnOptions } from "./types.ts";

// CommonJS run by `new Worker(..., { eval: true })`, so the bundle needs no second entry file.
const WORKER_SOURCE = `
const { parentPort, workerData } = require("node:worker_threads");
// A thread starts with its creator's nice value: the main thread's raised one (host/priority.ts), which
// every program forked here would inherit. The value the daemon started with is restored first.
if (workerData.nice !== undefined) require("node:os").setPriority(workerData.nice);
const { accessSync, constants: { X_OK } } = require("node:fs");
const { Socket } = require("node:net");
const { constants: { signals } } = require("node:os");
// Programs are started with posix_spawn, which shares the daemon's memory until exec instead of forking
// it as node's child_process does (native/wharf_native.c says why).
const native = require(workerData.native);
// Closed through a handle (fs.close of an fd the fs module did not open warns from a worker thread); only
// our own ends: a Socket makes its file non-blocking, which a child's end shares.
const drop = (fd) => new Socket({ fd, readable: false, writable: false }).destroy();
const envv = (env) => Object.entries(env).filter(([, v]) => v !== undefined).map(([k, v]) => k + "=" + v);
// The wait status the addon's waiting thread writes to its end of the socket pair.
function waitStatus(fd) {
  return new Promise((resolve) => {
    const s = new Socket({ fd, readable: true, writable: false });
    let buf = Buffer.alloc(0);
    s.on("data", (b) => {
      buf = Buffer.concat([buf, b]);
      if (buf.length < 4) return;
      const st = buf.readInt32LE(0);
      s.destroy();
      resolve((st & 0x7f) === 0 ? { code: (st >> 8) & 0xff } : { signal: st & 0x7f });
    });
    s.on("error", () => undefined);
  });
}
const signame = (n) => Object.keys(signals).find((k) => signals[k] === n) ?? null;
// As libuv: a name without a slash is looked up in the child's PATH.
function resolve(file, env) {
  if (file.includes("/")) return file;
  for (const dir of (env.PATH ?? "/usr/bin:/bin").split(":")) {
    const p = (dir || ".") + "/" + file;
    try { accessSync(p, X_OK); return p; } catch {}
  }
  return undefined;
}
function run(m) {
  const reply = (o) => parentPort.postMessage({ id: m.id, done: true, stdout: "", stderr: "", ...o });
  const spawnError = (code, errno) => reply({ error: { message: "spawn " + m.file + " " + code, code, errno, syscall: "spawn " + m.file } });
  const path = resolve(m.file, m.env);
  if (path === undefined) return spawnError("ENOENT", -2);
  const pairs = [native.socketPair(), native.socketPair(), native.socketPair()];
  const [note, noteTheirs] = native.socketPair();
  let pid;
  try {
    pid = native.spawnWait(path, [m.file, ...m.args], envv(m.env), m.cwd ?? null, pairs.map((p) => p[1]), false, true, noteTheirs);
  } catch (e) {
    for (const [a] of pairs) drop(a);
    drop(note);
    return spawnError(e.code, e.errno);
  }
  const exited = waitStatus(note);
  const [stdin, stdout, stderr] = pairs.map(([a]) => new Socket({ fd: a, readable: true, writable: true }));
  stdin.on("error", () => undefined); // EPIPE: the program did not read its input
  stdin.end(m.input ?? "");
  const out = { stdout: [], stderr: [] };
  let over;
  let open = 2;
  let status;
  const finish = () => {
    if (open > 0 || !status) return;
    const text = (k) => Buffer.concat(out[k]).toString("utf8").slice(0, m.maxBuffer);
    const o = { stdout: text("stdout"), stderr: text("stderr") };
    if (over) return reply({ ...o, error: { message: over + " maxBuffer length exceeded", code: "ERR_CHILD_PROCESS_STDIO_MAXBUFFER" } });
    if (status.code === 0) return reply(o);
    const cmd = [m.file, ...m.args].join(" ");
    reply({ ...o, error: { message: "Command failed: " + cmd + "\\n" + o.stderr, code: status.code ?? null, signal: signame(status.signal) } });
  };
  for (const [k, s] of [["stdout", stdout], ["stderr", stderr]]) {
    let n = 0;
    s.on("data", (b) => {
      n += b.length;
      if (n > m.maxBuffer && !over) {
        over = k;
        if (!status) try { process.kill(pid, "SIGTERM"); } catch {}
      }
      out[k].push(b);
    });
    s.on("error", () => undefined);
    s.on("close", () => { open--; finish(); });
  }
  exited.then((r) => { status = r; stdin.destroy(); finish(); });
}
parentPort.on("message", (m) => {
  if (m.op === "run") return run(m);
  const path = resolve(m.file, m.env);
  const failed = (code) => parentPort.postMessage({ id: m.id, error: { message: "spawn " + m.file + " " + code, code, syscall: "spawn " + m.file } });
  if (path === undefined) return failed("ENOENT");
  // "inherit" is the daemon's own fd of that number; "ignore" is /dev/null. The main thread closes its
  // copies of the child's ends (closeTheirs).
  const fds = m.stdio.map((s, i) => (s === "ignore" ? -1 : s === "inherit" ? i : s));
  const [note, noteTheirs] = native.socketPair();
  let pid;
  try {
    pid = native.spawnWait(path, [m.file, ...m.args], envv(m.env), m.cwd ?? null, fds, m.detached, false, noteTheirs);
  } catch (e) {
    drop(note);
    return failed(e.code);
  }
  parentPort.postMessage({ id: m.id, pid });
  waitStatus(note).then((r) => parentPort.postMessage({ id: m.id, exit: true, code: r.code ?? null, signal: r.signal === undefined ? null : signame(r.signal) }));
});
`;

interface Reply {
  id: number;
  done?: boolean;
  stdout?: string;
  stderr?: string;
  pid?: number;
  exit?: boolean;
  code?: number | null;
  signal?: string | null;
  error?: { message: string; code?: string | number; errno?: number; syscall?: string };
}

type Waiter = (r: Reply) => void;

function toError(e: NonNullable<Reply["error"]>): NodeJS.ErrnoException {
  const err: NodeJS.ErrnoException = new Error(e.message);
  if (typeof e.code === "string") err.code = e.code;
  if (e.errno !== undefined) err.errno = e.errno;
  if (e.syscall) err.syscall = e.syscall;
  return err;
}

/** A child started by a worker; its pipes are ours, its exit arrives by message. */
class WorkerChild extends PipedChild implements Child {
  pid: number | undefined;
  readonly stdio: (Readable | Writable | null)[];
  constructor(stdio: (Socket | null)[]) {
    super();
    this.stdio = stdio;
  }
  unref(): void {
    for (const s of this.stdio) (s as Socket | null)?.unref();
  }
}

/** Processes started from worker threads (see the file comment). */
export class WorkerProcesses implements Processes {
  readonly #workers: Worker[] = [];
  readonly #size: number;
  readonly #idleMs: number;
  readonly #waiters = new Map<number, Waiter>();
  // Spawned children stay in #waiters for their exit message but do not hold the daemon open.
  readonly #holding = new Set<number>();
  #next = 1;
  #turn = 0;
  #idle: NodeJS.Timeout | undefined;

  constructor(o: { workers?: number; idleMs?: number } = {}) {
    this.#size = o.workers ?? 2;
    this.#idleMs = o.idleMs ?? 10_000;
  }

  /** How many worker threads are alive now (for tests and the benchmark). */
  get workerCount(): number {
    return this.#workers.length;
  }

  #worker(): Worker {
    if (this.#idle) {
      clearTimeout(this.#idle);
      this.#idle = undefined;
    }
    // A new worker only when every live one has a call in hand: an idle daemon keeps at most one.
    if (this.#workers.length < this.#size && this.#holding.size >= this.#workers.length) {
      const w = new Worker(WORKER_SOURCE, {
        eval: true,
        workerData: { nice: childNice(), native: nativePath() },
      });
      w.on("message", (r: Reply) => this.#waiters.get(r.id)?.(r));
      w.on("error", (e) => {
        // A dead worker fails what it had in hand; the next call starts a new one.
        this.#drop(w);
        for (const [id, fn] of this.#waiters) fn({ id, done: true, error: { message: String(e) } });
      });
      w.on("exit", () => this.#drop(w));
      if (this.#holding.size === 0) w.unref();
      this.#workers.push(w);
      return w;
    }
    this.#turn = (this.#turn + 1) % this.#workers.length;
    return this.#workers[this.#turn] as Worker;
  }

  #drop(w: Worker): void {
    const i = this.#workers.indexOf(w);
    if (i >= 0) this.#workers.splice(i, 1);
  }

  /** With nothing in flight (no call, no child whose exit a worker reports), the workers end after a while. */
  #settle(): void {
    if (this.#waiters.size > 0 || this.#workers.length === 0 || this.#idle) return;
    this.#idle = setTimeout(() => {
      this.#idle = undefined;
      if (this.#waiters.size > 0) return;
      // What the ended workers freed stays in the C heap until trimmed; some of it only after 'exit' (the
      // isolate's teardown finishing), so the trim waits a moment.
      void Promise.all(this.#workers.splice(0).map((w) => w.terminate())).then(() => {
        setTimeout(releaseFreeMemory, 1000).unref();
      });
    }, this.#idleMs);
    this.#idle.unref();
  }

  #hold(id: number): void {
    this.#holding.add(id);
    if (this.#holding.size === 1) for (const w of this.#workers) w.ref();
  }

  #release(id: number): void {
    if (this.#holding.delete(id) && this.#holding.size === 0) for (const w of this.#workers) w.unref();
  }

  run(file: string, args: readonly string[], opts: RunOptions = {}): Promise<string> {
    const id = this.#next++;
    const w = this.#worker();
    return new Promise((resolve, reject) => {
      this.#waiters.set(id, (r) => {
        if (!r.done) return;
        this.#waiters.delete(id);
        this.#release(id);
        this.#settle();
        if (!r.error) return resolve(r.stdout ?? "");
        const exitCode = typeof r.error.code === "number" ? r.error.code : undefined;
        reject(
          new ProcessError(r.error.message, {
            exitCode,
            stdout: r.stdout ?? "",
            stderr: r.stderr ?? "",
            cause: toError(r.error),
          }),
        );
      });
      this.#hold(id);
      w.postMessage({
        op: "run",
        id,
        file,
        args: [...args],
        input: opts.input,
        env: opts.env ?? { ...process.env },
        cwd: opts.cwd,
        maxBuffer: opts.maxBuffer ?? 16 * 1024 * 1024,
      });
    });
  }

  spawn(file: string, args: readonly string[], opts: SpawnOptions): Child {
    const id = this.#next++;
    const ours: (Socket | null)[] = [];
    const theirs: (number | string)[] = [];
    for (const s of opts.stdio) {
      if (s !== "pipe") {
        ours.push(null);
        theirs.push(s);
        continue;
      }
      const [mine, child] = native().socketPair();
      ours.push(new Socket({ fd: mine, readable: true, writable: true }));
      theirs.push(child);
    }
    const closeTheirs = (): void => {
      for (const fd of theirs) if (typeof fd === "number") close(fd, () => undefined);
    };
    const c = new WorkerChild(ours);
    const w = this.#worker();
    this.#waiters.set(id, (r) => {
      if (r.pid !== undefined || (r.error && c.pid === undefined)) {
        // The program has its copies now (or never will): ours go, so EOF is seen when it closes them.
        closeTheirs();
        this.#release(id);
      }
      if (r.pid !== undefined) {
        c.pid = r.pid;
        // As node's: the pid is known from 'spawn' on. Output can reach us before this message does.
        c.emit("spawn");
      }
      if (r.error) {
        this.#waiters.delete(id);
        this.#settle();
        for (const s of ours) s?.destroy();
        c.emit("error", toError(r.error));
      }
      if (r.exit) {
        this.#waiters.delete(id);
        this.#settle();
        c.emit("exit", r.code ?? null, r.signal ?? null);
        // As node's child processes: 'close' once the stdio pipes have closed too, so a listener on it has
        // all the output (a program's exit can come before its last bytes are read).
        const open = ours.filter((s): s is Socket => s !== null && !s.destroyed);
        let left = open.length;
        const closed = () => c.emit("close", r.code ?? null, r.signal ?? null);
        if (left === 0) closed();
        for (const s of open)
          s.once("close", () => {
            if (--left === 0) closed();
          });
      }
    });
    this.#hold(id);
    w.postMessage({
      op: "spawn",
      id,
      file,
      args: [...args],
      env: opts.env ?? { ...process.env },
      cwd: opts.cwd,
      stdio: theirs,
      detached: opts.detached === true,
    });
    return c;
  }

  kill(pid: number, signal: number | NodeJS.Signals): void {
    process.kill(pid, signal);
  }
}
