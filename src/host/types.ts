/**
 * The Host: every effect wharf has on the kernel and on other processes, as small interfaces that callers
 * take one by one (a runtime needs Processes and KernelFiles, the layer store Mounts and FileAttrs). The
 * daemon passes realHost(); unit tests pass a FakeHost (fake.ts). Everything that can wait on the kernel
 * returns a promise and runs off the event loop.
 */
import type { Readable, Writable } from "node:stream";

/** One mount(2) call. */
export interface MountRequest {
  /** null for none (remounts, propagation changes). */
  source: string | null;
  target: string;
  fstype: string | null;
  /** MountFlags bits; 0 when absent. */
  flags?: number;
  data?: string | null;
  /** Directory that relative paths in `data` resolve against (overlay lower dirs); the process cwd is never changed. */
  cwd?: string;
}

/** Mounting and unmounting filesystems. */
export interface Mounts {
  /** mount(2), off the event loop; rejects with a Node-style errno error. */
  mount(m: MountRequest): Promise<void>;
  /** umount2(2) with UmountFlags bits. */
  unmount(target: string, flags?: number): Promise<void>;
}

/**
 * Device nodes and extended attributes, for unpacking and diffing layers. Synchronous on purpose: one cheap
 * syscall per file, called from inside tar streams, where a promise per call costs more than the call.
 */
export interface FileAttrs {
  mknod(path: string, mode: number, dev: { major: number; minor: number }): void;
  lsetxattr(path: string, name: string, value: Buffer): void;
  /** The attribute's value, or undefined when the file has none. */
  lgetxattr(path: string, name: string): Buffer | undefined;
  llistxattr(path: string): string[];
}

/** One line of a user namespace's uid_map or gid_map. */
export interface IdMapLine {
  containerID: number;
  hostID: number;
  size: number;
}

/** The user namespace `createUserNetns` makes (or joins) for a network namespace. */
export interface UserNetnsOptions {
  /** Where the user namespace is bound (an existing empty file). */
  userPath: string;
  uidMappings: readonly IdMapLine[];
  gidMappings: readonly IdMapLine[];
  /** An existing user namespace to make the network namespace in (its maps are kept). */
  join?: string | undefined;
}

/** Network namespaces. */
export interface Namespaces {
  /** A new network namespace kept alive by a bind mount on `path` (an existing empty file). */
  createNetns(path: string): Promise<void>;
  /**
   * `--userns-remap`: a user namespace of these mappings bound at `o.userPath`, and a network namespace it
   * owns bound at `path` (an existing empty file). Joined by a remapped container, its root may then
   * manage that network namespace, and runc's exec (which joins the user namespace first) may enter it.
   */
  createUserNetns(path: string, o: UserNetnsOptions): Promise<void>;
  /** Unbinds a namespace file (lazily); a no-op when it is not mounted. */
  removeNetns(path: string): Promise<void>;
  /** A socket created inside the network namespace at `nsPath` (close-on-exec); its fd. */
  socketIn(nsPath: string, o: { domain: number; type: number; protocol: number }): Promise<number>;
}

/** A NETLINK_ROUTE socket in one namespace; exchanges on it run one at a time, in call order. */
export interface NetlinkSocket {
  /** Sends one framed request (NLM_F_ACK or NLM_F_DUMP set): the reply messages without the final ACK/DONE. */
  transact(request: Buffer): Promise<Buffer>;
  close(): void;
}

/** Opening netlink sockets. */
export interface NetlinkSockets {
  /** A route netlink socket in the netns at `nsPath`, or in the daemon's own when omitted. */
  open(nsPath?: string): Promise<NetlinkSocket>;
}

/** iptables, through iptables-restore and iptables-save (one process per batch of rules). */
export interface Iptables {
  /** Applies a restore script (`--noflush` unless noflush is false); rejects with iptables' stderr. */
  restore(script: string, opts?: { noflush?: boolean }): Promise<void>;
  /** The current rules of one table, as iptables-save prints them. */
  save(table: string): Promise<string>;
}

/** Options of Processes.run. */
export interface RunOptions {
  /** Written to the program's stdin, which is then closed. */
  input?: string;
  /** The whole environment; the daemon's own when absent. */
  env?: Record<string, string>;
  cwd?: string;
  /** Bytes of stdout kept before the run fails; 16 MiB when absent. */
  maxBuffer?: number;
}

/** Options of Processes.spawn. */
export interface SpawnOptions {
  env?: Record<string, string>;
  cwd?: string;
  /** Per fd: "pipe", "ignore" or "inherit"; fds past 2 become extra pipes (conmon's sync pipes). */
  stdio: readonly ("pipe" | "ignore" | "inherit")[];
  /** Its own session and process group: it outlives the daemon (conmon double-forks anyway). */
  detached?: boolean;
}

/** A started child process, as much of node's ChildProcess as wharf uses. */
export interface Child {
  readonly pid?: number | undefined;
  /** The child's pipes by fd, null where not piped. */
  readonly stdio: readonly (Readable | Writable | null | undefined)[];
  readonly stdin: Writable | null;
  readonly stdout: Readable | null;
  readonly stderr: Readable | null;
  on(event: "exit" | "close", listener: (code: number | null, signal: string | null) => void): this;
  on(event: "error", listener: (err: Error) => void): this;
  /** Once the pid is known (output may come first). */
  once(event: "spawn", listener: () => void): this;
  /** Lets the daemon exit while the child runs. */
  unref(): void;
}

/** Programs and signals. */
export interface Processes {
  /** Runs a program to its end: its stdout; a non-zero exit rejects with a ProcessError. */
  run(file: string, args: readonly string[], opts?: RunOptions): Promise<string>;
  /** Starts a program with pipes and returns at once. */
  spawn(file: string, args: readonly string[], opts: SpawnOptions): Child;
  /** kill(2); throws ESRCH when there is no such process. */
  kill(pid: number, signal: number | NodeJS.Signals): void;
}

/**
 * The kernel's files: /proc, /sys, cgroupfs. Kept apart from node:fs use on the data root so tests can
 * give a process table or a cgroup tree without a kernel.
 */
export interface KernelFiles {
  /** The file's text; rejects ENOENT like node:fs when it does not exist. */
  read(path: string): Promise<string>;
  /**
   * The file's text, read at once: for files the kernel generates on read (stats, /proc/self), which never
   * wait on a disk and where a synchronous read costs a tenth of a promise's thread-pool hops.
   */
  readSync(path: string): string;
  write(path: string, data: string): Promise<void>;
  readdir(path: string): Promise<string[]>;
  /** The names of the directories in `path` (sub-cgroups); rejects ENOENT when it does not exist. */
  subdirs(path: string): Promise<string[]>;
  /** rmdir(2): how cgroup directories are removed. */
  rmdir(path: string): Promise<void>;
  exists(path: string): boolean;
}

/** The process at the other end of a unix socket, as the kernel recorded it at connect. */
export interface PeerCredentials {
  pid: number;
  uid: number;
  gid: number;
}

/** Sockets Node cannot open (or look into) itself. */
export interface Sockets {
  /** Connects to a SOCK_SEQPACKET socket; the fd of a SOCK_STREAM relay to it (see native/wharf_native.c). */
  attachRelay(socketPath: string): Promise<number>;
  /** Who connected a unix socket; undefined for TCP sockets or when the kernel will not say. */
  peerCredentials(socket: import("node:net").Socket): PeerCredentials | undefined;
}

/** Every effect on the kernel and on processes, one part per concern. */
export interface Host {
  mounts: Mounts;
  attrs: FileAttrs;
  netns: Namespaces;
  netlink: NetlinkSockets;
  iptables: Iptables;
  /** The same through ip6tables-restore and ip6tables-save. */
  ip6tables: Iptables;
  processes: Processes;
  files: KernelFiles;
  sockets: Sockets;
}
