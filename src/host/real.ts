import { closeSync, existsSync, readFileSync } from "node:fs";
import { readdir, readFile, rmdir, writeFile } from "node:fs/promises";
import { native, UmountFlags } from "./native.ts";
import { ProcessError } from "./process.ts";
import { WorkerProcesses } from "./spawner.ts";
import type { Host, Iptables, NetlinkSocket } from "./types.ts";
import { createUserNetns, inUserNamespace } from "./userns.ts";

const AF_NETLINK = 16;
const SOCK_RAW = 3;
const NETLINK_ROUTE = 0;

/** One exchange at a time per socket: replies are matched by reading, so two readers would steal each other's. */
class RealNetlinkSocket implements NetlinkSocket {
  readonly #fd: number;
  #tail: Promise<unknown> = Promise.resolve();
  #closed = false;
  constructor(fd: number) {
    this.#fd = fd;
  }
  transact(request: Buffer): Promise<Buffer> {
    const next = this.#tail.then(() => native().netlinkTransactAsync(this.#fd, request));
    this.#tail = next.catch(() => undefined);
    return next;
  }
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    // Closing under a pending exchange would let a new socket reuse the fd mid-exchange.
    void this.#tail.then(() => closeSync(this.#fd));
  }
}

const processes = new WorkerProcesses();

/** iptables or ip6tables (`ip6` prefix), one restore or save process per call. */
function xtables(prefix: "ip" | "ip6"): Iptables {
  return {
    async restore(script, opts = {}) {
      try {
        await processes.run(`${prefix}tables-restore`, opts.noflush === false ? [] : ["--noflush"], {
          input: script,
        });
      } catch (e) {
        const code = e instanceof ProcessError ? e.exitCode : undefined;
        const stderr = e instanceof ProcessError ? e.stderr.trim() : String(e);
        throw new ProcessError(`${prefix}tables-restore failed (${code}): ${stderr}\n${script}`, {
          exitCode: code,
          stderr,
          cause: e,
        });
      }
    },
    async save(table) {
      try {
        return await processes.run(`${prefix}tables-save`, ["-t", table]);
      } catch (e) {
        throw new ProcessError(`${prefix}tables-save -t ${table} failed`, { cause: e });
      }
    },
  };
}

const iptables = xtables("ip");
const ip6tables = xtables("ip6");

let host: Host | undefined;

/**
 * overlayfs inside a user namespace (a rootless daemon) may not use trusted.* xattrs: mounted with
 * `userxattr` (kernel 5.11+) it keeps its bookkeeping in user.overlay.* instead. The layer code speaks
 * trusted.overlay.* throughout; here the names are translated both ways, so it is the same on either side.
 */
let overlayProgram: string | undefined;

/**
 * Overlay mounts through a FUSE implementation (fuse-overlayfs, `--storage-driver fuse-overlayfs`) instead
 * of the kernel's: for user namespaces on kernels before 5.11, which cannot mount overlayfs there. It reads
 * the same layers (0/0 whiteouts, overlay's opaque xattrs); undefined goes back to the kernel's overlayfs.
 */
export function setOverlayMountProgram(path: string | undefined): void {
  overlayProgram = path;
}

/** The FUSE program overlay mounts go through, when one is set. */
export function overlayMountProgram(): string | undefined {
  return overlayProgram;
}

function overlayXattr(name: string): string {
  return inUserNamespace() && name.startsWith("trusted.overlay.")
    ? `user.overlay.${name.slice("trusted.overlay.".length)}`
    : name;
}

function fromOverlayXattr(name: string): string {
  if (!inUserNamespace()) return name;
  if (name.startsWith("user.overlay.")) return `trusted.overlay.${name.slice("user.overlay.".length)}`;
  // fuse-overlayfs marks what it makes (opaque directories, origins) in a namespace of its own.
  if (name.startsWith("user.fuseoverlayfs."))
    return `trusted.overlay.${name.slice("user.fuseoverlayfs.".length)}`;
  return name;
}

/** An xattr's value, reading fuse-overlayfs's own name of overlay's attribute too when it is in use. */
function getXattr(path: string, name: string): Buffer | undefined {
  const v = native().lgetxattr(path, overlayXattr(name));
  if (v !== undefined || !overlayProgram || !name.startsWith("trusted.overlay.")) return v;
  return native().lgetxattr(path, `user.fuseoverlayfs.${name.slice("trusted.overlay.".length)}`);
}

function mountData(fstype: string | null, data: string | null): string | null {
  return fstype === "overlay" && inUserNamespace() ? `${data ? `${data},` : ""}userxattr` : data;
}

/** The host wharf runs on: the native addon (loaded on first use), node:child_process and node:fs. */
export function realHost(): Host {
  host ??= {
    mounts: {
      mount: async (m) => {
        if (m.fstype === "overlay" && overlayProgram) {
          // The program mounts and then serves the mount; it exits when the mount goes (umount2 as for the kernel's).
          await processes.run(overlayProgram, ["-o", m.data ?? "", m.target], m.cwd ? { cwd: m.cwd } : {});
          return;
        }
        return native().mountAsync(
          m.source,
          m.target,
          m.fstype,
          m.flags ?? 0,
          mountData(m.fstype, m.data ?? null),
          m.cwd ?? null,
        );
      },
      unmount: (target, flags = 0) => native().umount2Async(target, flags),
    },
    attrs: {
      mknod: (path, mode, dev) => native().mknod(path, mode, dev.major, dev.minor),
      lsetxattr: (path, name, value) => native().lsetxattr(path, overlayXattr(name), value),
      lgetxattr: (path, name) => getXattr(path, name),
      llistxattr: (path) => native().llistxattr(path).map(fromOverlayXattr),
    },
    netns: {
      createNetns: (path) => native().netnsCreateAsync(path),
      // Spawned from the worker, as every child: a fork of the daemon's main thread would stall its loop.
      createUserNetns: (path, o) =>
        createUserNetns(path, o, (f, a) => processes.spawn(f, a, { stdio: ["pipe", "pipe", "pipe"] })),
      async removeNetns(path) {
        await native()
          .umount2Async(path, UmountFlags.DETACH)
          .catch(() => undefined);
      },
      socketIn: (nsPath, o) => native().nsSocketAsync(nsPath, o.domain, o.type, o.protocol),
    },
    netlink: {
      async open(nsPath = "/proc/self/ns/net") {
        return new RealNetlinkSocket(
          await native().nsSocketAsync(nsPath, AF_NETLINK, SOCK_RAW, NETLINK_ROUTE),
        );
      },
    },
    iptables,
    ip6tables,
    processes,
    files: {
      read: (path) => readFile(path, "utf8"),
      readSync: (path) => readFileSync(path, "utf8"),
      write: (path, data) => writeFile(path, data),
      readdir: (path) => readdir(path),
      subdirs: async (path) =>
        (await readdir(path, { withFileTypes: true })).filter((e) => e.isDirectory()).map((e) => e.name),
      rmdir: (path) => rmdir(path),
      exists: (path) => existsSync(path),
    },
    sockets: {
      attachRelay: (path) => native().attachRelayAsync(path),
      peerCredentials: (socket) => {
        // Node keeps a unix socket's fd on its (internal) handle; TCP sockets have no peer credentials.
        const fd = (socket as unknown as { _handle?: { fd?: number } })._handle?.fd;
        if (socket.remoteAddress !== undefined || typeof fd !== "number" || fd < 0) return undefined;
        try {
          return native().peerCred(fd);
        } catch {
          return undefined;
        }
      },
    },
  };
  return host;
}
