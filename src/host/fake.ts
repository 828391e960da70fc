/**
 * A Host without a kernel, for unit tests: mounts, namespaces and files live in maps, programs are
 * handlers the test registers, and every effect is recorded in `calls` in the order it happened.
 */
import { PassThrough, type Readable, type Writable } from "node:stream";
import { PipedChild, ProcessError } from "./process.ts";
import type {
  Child,
  FileAttrs,
  Host,
  Iptables,
  KernelFiles,
  MountRequest,
  Mounts,
  Namespaces,
  NetlinkSocket,
  NetlinkSockets,
  Processes,
  RunOptions,
  Sockets,
  SpawnOptions,
} from "./types.ts";

/** One recorded effect: which part, which operation, its arguments. */
export interface FakeCall {
  part: keyof Host;
  op: string;
  args: unknown[];
}

/** What a fake program does with one run: its stdout, or a thrown error (use failProcess). */
export type FakeProgram = (args: readonly string[], opts: RunOptions) => string | Promise<string>;

/** A Node-style errno error, as the real host throws. */
export function errnoError(code: string, syscall: string, path?: string): NodeJS.ErrnoException {
  const e: NodeJS.ErrnoException = new Error(`${code}: ${syscall}${path ? ` '${path}'` : ""}`);
  e.code = code;
  e.syscall = syscall;
  if (path) e.path = path;
  return e;
}

/** The error a FakeProgram throws to fail as a real program would (exit code and stderr). */
export function failProcess(exitCode: number, stderr: string): ProcessError {
  return new ProcessError(`Command failed with exit code ${exitCode}: ${stderr}`, { exitCode, stderr });
}

/** A child a test drives: write to `out[fd]` to play the program's output, `exit()` to end it. */
export class FakeChild extends PipedChild implements Child {
  readonly pid: number;
  readonly file: string;
  readonly args: readonly string[];
  readonly opts: SpawnOptions;
  readonly stdio: (Readable | Writable | null)[];
  /** The program's side of each pipe: what it writes (fds 1, 2 and extra ones) and reads (fd 0). */
  readonly out: (PassThrough | null)[];
  unrefed = false;
  constructor(pid: number, file: string, o: { args: readonly string[]; opts: SpawnOptions }) {
    super();
    this.pid = pid;
    this.file = file;
    this.args = o.args;
    this.opts = o.opts;
    // One PassThrough per pipe serves both ends: the daemon reads what the test writes to it, and the reverse.
    this.out = o.opts.stdio.map((s) => (s === "pipe" ? new PassThrough() : null));
    this.stdio = this.out;
  }
  unref(): void {
    this.unrefed = true;
  }
  /** Ends every pipe and emits exit and close. */
  exit(code: number): void {
    for (const p of this.out) p?.end();
    this.emit("exit", code, null);
    this.emit("close", code, null);
  }
}

/** The fake host; each part is a field a test may also replace. */
export class FakeHost implements Host {
  readonly calls: FakeCall[] = [];
  /** Mounted targets and how they were mounted. */
  readonly mounted = new Map<string, MountRequest>();
  readonly netnsPaths = new Set<string>();
  /** Device nodes made with mknod: path → mode and device. */
  readonly nodes = new Map<string, { mode: number; major: number; minor: number }>();
  readonly xattrs = new Map<string, Map<string, Buffer>>();
  /** Kernel files by path (/proc, /sys). */
  readonly fileData = new Map<string, string>();
  /** Programs by file name or path; a run of anything else fails as ENOENT. */
  readonly programs = new Map<string, FakeProgram>();
  /** Every child started by processes.spawn. */
  readonly children: FakeChild[] = [];
  /** Signals sent with processes.kill. */
  readonly signals: { pid: number; signal: number | string }[] = [];
  /** Pids processes.kill treats as alive; any other pid gives ESRCH. */
  readonly livePids = new Set<number>();
  /** Applied iptables-restore scripts. */
  readonly iptablesScripts: string[] = [];
  /** The netlink exchange: the reply to one request on a socket in `nsPath`. */
  onNetlink: (nsPath: string, request: Buffer) => Buffer = () => Buffer.alloc(0);
  #nextFd = 1000;
  #nextPid = 50_000;

  #record(part: keyof Host, op: string, ...args: unknown[]): void {
    this.calls.push({ part, op, args });
  }

  /** The calls made to one part, as "op arg0 arg1" strings, handy for deepEqual. */
  log(part: keyof Host): string[] {
    return this.calls.filter((c) => c.part === part).map((c) => [c.op, ...c.args.map(String)].join(" "));
  }

  readonly mounts: Mounts = {
    mount: async (m) => {
      this.#record("mounts", "mount", m.target, m.fstype);
      this.mounted.set(m.target, { ...m });
    },
    unmount: async (target, flags = 0) => {
      this.#record("mounts", "unmount", target, flags);
      if (!this.mounted.delete(target)) throw errnoError("EINVAL", "umount2", target);
    },
  };

  readonly attrs: FileAttrs = {
    mknod: (path, mode, dev) => {
      this.#record("attrs", "mknod", path, mode);
      this.nodes.set(path, { mode, ...dev });
    },
    lsetxattr: (path, name, value) => {
      const m = this.xattrs.get(path) ?? new Map<string, Buffer>();
      this.xattrs.set(path, m);
      m.set(name, Buffer.from(value));
    },
    lgetxattr: (path, name) => this.xattrs.get(path)?.get(name),
    llistxattr: (path) => [...(this.xattrs.get(path)?.keys() ?? [])],
  };

  readonly netns: Namespaces = {
    createNetns: async (path) => {
      this.#record("netns", "create", path);
      if (this.netnsPaths.has(path)) throw errnoError("EBUSY", "mount", path);
      this.netnsPaths.add(path);
    },
    createUserNetns: async (path, o) => {
      this.#record("netns", "create-user", path, o.userPath);
      if (this.netnsPaths.has(path)) throw errnoError("EBUSY", "mount", path);
      this.netnsPaths.add(path);
    },
    removeNetns: async (path) => {
      this.#record("netns", "remove", path);
      this.netnsPaths.delete(path);
    },
    socketIn: async (nsPath) => {
      if (nsPath !== "/proc/self/ns/net" && !this.netnsPaths.has(nsPath))
        throw errnoError("ENOENT", "open", nsPath);
      return this.#nextFd++;
    },
  };

  readonly netlink: NetlinkSockets = {
    open: async (nsPath = "/proc/self/ns/net") => {
      await this.netns.socketIn(nsPath, { domain: 16, type: 3, protocol: 0 });
      this.#record("netlink", "open", nsPath);
      const sock: NetlinkSocket = {
        transact: async (req) => {
          this.#record("netlink", "transact", nsPath, req.readUInt16LE(4));
          return this.onNetlink(nsPath, req);
        },
        close: () => this.#record("netlink", "close", nsPath),
      };
      return sock;
    },
  };

  readonly iptables: Iptables = {
    restore: async (script) => {
      this.#record("iptables", "restore");
      this.iptablesScripts.push(script);
    },
    save: async (table) => {
      this.#record("iptables", "save", table);
      return "";
    },
  };

  /** ip6tables' scripts, apart from iptables' so tests can tell the families apart. */
  readonly ip6tablesScripts: string[] = [];

  readonly ip6tables: Iptables = {
    restore: async (script) => {
      this.#record("ip6tables", "restore");
      this.ip6tablesScripts.push(script);
    },
    save: async (table) => {
      this.#record("ip6tables", "save", table);
      return "";
    },
  };

  readonly processes: Processes = {
    run: async (file, args, opts = {}) => {
      this.#record("processes", "run", file, ...args);
      const prog = this.programs.get(file) ?? this.programs.get(file.split("/").pop() ?? file);
      if (!prog)
        throw new ProcessError(`spawn ${file} ENOENT`, { cause: errnoError("ENOENT", "spawn", file) });
      return prog(args, opts);
    },
    spawn: (file, args, opts) => {
      this.#record("processes", "spawn", file, ...args);
      const c = new FakeChild(this.#nextPid++, file, { args, opts });
      this.children.push(c);
      return c;
    },
    kill: (pid, signal) => {
      this.#record("processes", "kill", pid, signal);
      if (!this.livePids.has(pid)) throw errnoError("ESRCH", "kill");
      this.signals.push({ pid, signal });
    },
  };

  readonly files: KernelFiles = {
    read: async (path) => this.files.readSync(path),
    readSync: (path) => {
      const v = this.fileData.get(path);
      if (v === undefined) throw errnoError("ENOENT", "open", path);
      return v;
    },
    write: async (path, data) => {
      this.#record("files", "write", path, data);
      this.fileData.set(path, data);
    },
    readdir: async (path) => {
      const prefix = path.endsWith("/") ? path : `${path}/`;
      const names = new Set<string>();
      for (const p of this.fileData.keys())
        if (p.startsWith(prefix)) names.add(p.slice(prefix.length).split("/")[0] ?? "");
      if (!names.size) throw errnoError("ENOENT", "scandir", path);
      return [...names];
    },
    subdirs: async (path) => {
      // A directory is any name with a file below it; a file only is one with no deeper key.
      const prefix = path.endsWith("/") ? path : `${path}/`;
      const dirs = new Set<string>();
      let any = false;
      for (const p of this.fileData.keys()) {
        if (!p.startsWith(prefix)) continue;
        any = true;
        const rest = p.slice(prefix.length).split("/");
        if (rest.length > 1 && rest[0]) dirs.add(rest[0]);
      }
      if (!any) throw errnoError("ENOENT", "scandir", path);
      return [...dirs];
    },
    rmdir: async (path) => {
      this.#record("files", "rmdir", path);
      const prefix = `${path}/`;
      let found = false;
      for (const p of [...this.fileData.keys()])
        if (p.startsWith(prefix)) {
          found = true;
          this.fileData.delete(p);
        }
      if (!found) throw errnoError("ENOENT", "rmdir", path);
    },
    exists: (path) =>
      this.fileData.has(path) || [...this.fileData.keys()].some((p) => p.startsWith(`${path}/`)),
  };

  readonly sockets: Sockets = {
    attachRelay: async (path) => {
      this.#record("sockets", "attachRelay", path);
      throw errnoError("ENOENT", "connect", path);
    },
    peerCredentials: () => undefined,
  };
}
