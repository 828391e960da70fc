import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";
import type { PeerCredentials } from "./types.ts";

/**
 * The syscalls of native/wharf_native.c; each throws (the *Async ones reject with) a Node-style errno error
 * (`code`, `errno`, `syscall`). Only host/ calls these; everything else goes through the Host interfaces.
 */
export interface NativeBindings {
  mount(
    source: string | null,
    target: string,
    fstype: string | null,
    flags: number,
    data: string | null,
  ): void;
  umount2(target: string, flags: number): void;
  mknod(path: string, mode: number, major: number, minor: number): void;
  lsetxattr(path: string, name: string, value: Buffer): void;
  /** The attribute's value, or undefined when the file has none. */
  lgetxattr(path: string, name: string): Buffer | undefined;
  llistxattr(path: string): string[];
  /** Connects to a SOCK_SEQPACKET socket and returns the fd of a SOCK_STREAM relay to it (see the C file). */
  attachRelay(socketPath: string): number;
  /** Creates a network namespace kept alive by a bind mount on `path` (an existing empty file). */
  netnsCreate(path: string): void;
  /** A socket created inside the network namespace at `nsPath`; returns its fd (close-on-exec). */
  nsSocket(nsPath: string, domain: number, type: number, protocol: number): number;
  /** One netlink request/reply exchange on `fd`: the reply messages, without the final ACK or DONE. */
  netlinkTransact(fd: number, request: Buffer): Buffer;
  /** mount on a pool thread; with `cwd`, on a thread of its own whose cwd is `cwd` (relative overlay lower dirs). */
  mountAsync(
    source: string | null,
    target: string,
    fstype: string | null,
    flags: number,
    data: string | null,
    cwd: string | null,
  ): Promise<void>;
  umount2Async(target: string, flags: number): Promise<void>;
  netnsCreateAsync(path: string): Promise<void>;
  nsSocketAsync(nsPath: string, domain: number, type: number, protocol: number): Promise<number>;
  /** As netlinkTransact, on a pool thread: the caller must not run two at once on one fd. */
  netlinkTransactAsync(fd: number, request: Buffer): Promise<Buffer>;
  attachRelayAsync(socketPath: string): Promise<number>;
  /** A close-on-exec AF_UNIX SOCK_STREAM pair: [ours, the child's]. */
  socketPair(): [number, number];
  /** SO_PEERCRED of a connected unix socket. */
  peerCred(fd: number): PeerCredentials;
  /** malloc_trim(0): free heap memory back to the kernel; true when some was released. */
  mallocTrim(): boolean;
  /**
   * posix_spawn (no fork of the daemon's memory): fds[i] becomes the child's fd i (-1: /dev/null), and with
   * closeFds ours are closed after the spawn. notifyFd (a socket, the addon's from the call on) receives
   * the child's wait status as a native-endian int32 when it exits. Throws the spawn's errno error.
   */
  spawnWait(
    path: string,
    argv: string[],
    envp: string[],
    cwd: string | null,
    fds: number[],
    setsid: boolean,
    closeFds: boolean,
    notifyFd: number,
  ): number;
}

/** mount(2) flags used by wharf. */
export const MountFlags = {
  RDONLY: 0x1,
  NOSUID: 0x2,
  NODEV: 0x4,
  NOEXEC: 0x8,
  REMOUNT: 0x20,
  BIND: 0x1000,
  REC: 0x4000,
  PRIVATE: 0x40000,
  SLAVE: 0x80000,
  SHARED: 0x100000,
} as const;

/** umount2(2) flags. */
export const UmountFlags = { FORCE: 0x1, DETACH: 0x2, NOFOLLOW: 0x8 } as const;

let loaded: NativeBindings | undefined;
const REL = "native/build/Release/wharf_native.node";

/** The addon's file, found relative to this file whether it runs from src/ or dist/ (worker threads load it too). */
export function nativePath(): string {
  for (const c of [process.env.WHARF_NATIVE, `../../${REL}`, `../${REL}`]) {
    if (!c) continue;
    const p = c.startsWith("/") ? c : fileURLToPath(new URL(c, import.meta.url));
    if (existsSync(p)) return p;
  }
  throw new Error(`wharf native addon not built (looked for ${REL}); run npm run build`);
}

/** Loads the addon once. */
export function native(): NativeBindings {
  loaded ??= createRequire(import.meta.url)(nativePath()) as NativeBindings;
  return loaded;
}
