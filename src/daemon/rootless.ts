/**
 * The rootless daemon, as Docker's rootless mode (rootlesskit) and Podman run one: `wharf daemon` started
 * by an ordinary user re-executes itself inside new user, mount, network and pid namespaces. The user
 * namespace maps container root to the user and 1..65535 to the first of the user's subordinate ranges
 * (/etc/subuid, /etc/subgid, through newuidmap/newgidmap, which `unshare --map-auto --map-root-user`
 * calls); there the daemon is root, mounts overlayfs (userxattr) and runs runc and its bridge as the root
 * daemon does. The network namespace reaches the outside through slirp4netns, and published ports are
 * forwarded from the host by slirp4netns's API (see netdrv/slirp.ts).
 *
 * Two processes: the launcher (outside, the user's own credentials) and the daemon (inside, pid 1 of its
 * pid namespace under tini, so every container goes with it: a rootless daemon does not live-restore). They
 * talk over a socket pair on the daemon's fd 3, one JSON line per message: the daemon says it is in its
 * namespaces ("ns"), the launcher starts slirp4netns on them and answers with its API socket ("net"). The
 * launcher closing the socket (it was stopped, or died) stops the daemon.
 */
import { accessSync, constants, existsSync, statSync } from "node:fs";
import { mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { Socket } from "node:net";
import { userInfo } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { type Child, firstSubidRange, MountFlags, realHost } from "../host/index.ts";
import { log } from "../util/index.ts";

/** Set in the daemon's environment by the launcher: the daemon runs inside the rootless namespaces. */
export const ROOTLESS_CHILD_ENV = "_WHARF_ROOTLESS_CHILD";

/** The channel fd the launcher hands the daemon. */
const CHANNEL_FD = 3;

/** What the daemon inside learns from the launcher. */
export interface RootlessNet {
  /** slirp4netns's API socket, for port forwards. */
  apiSocket: string;
}

/** Paths a rootless daemon uses unless flags say otherwise, as Docker's rootless mode picks them. */
export function rootlessDefaults(env: NodeJS.ProcessEnv): {
  dataRoot: string;
  execRoot: string;
  host: string;
  configFile: string;
} {
  const runtimeDir = env.XDG_RUNTIME_DIR ?? "";
  const home = env.HOME || userInfo().homedir;
  const dataHome = env.XDG_DATA_HOME || join(home, ".local/share");
  const configHome = env.XDG_CONFIG_HOME || join(home, ".config");
  return {
    dataRoot: join(dataHome, "wharf"),
    execRoot: join(runtimeDir, "wharf"),
    host: `unix://${join(runtimeDir, "wharf.sock")}`,
    configFile: join(configHome, "wharf/daemon.json"),
  };
}

/** A precondition of the rootless mode that is not met, with what to do about it. */
export class RootlessSetupError extends Error {}

function which(name: string): string | undefined {
  for (const dir of (process.env.PATH || "/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin").split(":")) {
    const p = join(dir || ".", name);
    if (existsSync(p)) return p;
  }
  for (const dir of ["/usr/sbin", "/sbin"]) if (existsSync(join(dir, name))) return join(dir, name);
  return undefined;
}

const SETUP_HINT = "as root, run scripts/setup.sh --rootless";

/** Checks what the launcher needs before it starts anything; each failure says how to fix it. */
export function checkRootlessHost(env: NodeJS.ProcessEnv): {
  unshare: string;
  slirp4netns: string;
  init?: string;
} {
  const me = userInfo();
  const fix = `${SETUP_HINT} ${me.username}`;
  const runtimeDir = env.XDG_RUNTIME_DIR;
  if (!runtimeDir)
    throw new RootlessSetupError(
      `XDG_RUNTIME_DIR is not set: export XDG_RUNTIME_DIR=/run/user/${me.uid} (a directory owned by you, mode 0700; ${fix} creates it)`,
    );
  let st: ReturnType<typeof statSync> | undefined;
  try {
    st = statSync(runtimeDir);
  } catch {
    st = undefined;
  }
  if (!st?.isDirectory() || st.uid !== me.uid)
    throw new RootlessSetupError(
      `XDG_RUNTIME_DIR ${runtimeDir} is not a directory owned by ${me.username} (${fix} creates /run/user/${me.uid})`,
    );
  for (const [prog, pkg] of [
    ["newuidmap", "uidmap"],
    ["newgidmap", "uidmap"],
    ["unshare", "util-linux"],
  ] as const) {
    if (!which(prog)) throw new RootlessSetupError(`${prog} not found: install Debian's package ${pkg}`);
  }
  for (const file of ["/etc/subuid", "/etc/subgid"]) {
    const r = firstSubidRange(file, { name: me.username, id: me.uid });
    if (!r)
      throw new RootlessSetupError(
        `no subordinate ${file === "/etc/subuid" ? "uid" : "gid"} range for ${me.username} in ${file}: ${fix} (or: usermod --add-subuids 100000-165535 --add-subgids 100000-165535 ${me.username})`,
      );
    if (r.count < 65535)
      throw new RootlessSetupError(
        `the first subordinate range of ${me.username} in ${file} has ${r.count} ids; containers need 65536 (${fix})`,
      );
  }
  const slirp4netns = which("slirp4netns");
  if (!slirp4netns)
    throw new RootlessSetupError("slirp4netns not found: install Debian's package slirp4netns");
  try {
    accessSync("/dev/net/tun", constants.R_OK | constants.W_OK);
  } catch {
    throw new RootlessSetupError(
      "/dev/net/tun is not readable and writable by you (mode 0600: no udev on this machine): as root, run chmod 0666 /dev/net/tun (what udev does on Debian; scripts/setup.sh --rootless does it)",
    );
  }
  return { unshare: which("unshare") ?? "unshare", slirp4netns, init: which("tini") ?? which("catatonit") };
}

/** One JSON line per message, both ways. */
function channel(sock: Socket): { send(m: object): void; next(): Promise<Record<string, unknown>> } {
  const lines = createInterface({ input: sock })[Symbol.asyncIterator]();
  return {
    send: (m) => sock.write(`${JSON.stringify(m)}\n`),
    async next() {
      const r = await lines.next();
      if (r.done) throw new Error("the rootless launcher went away");
      return JSON.parse(r.value) as Record<string, unknown>;
    },
  };
}

/** Waits for a child's exit code (128 + signal number for a signal, as shells report it). */
function exited(child: Child): Promise<number> {
  return new Promise((resolve) => {
    child.on("exit", (code, signal) => resolve(code ?? (signal ? 128 + 15 : 1)));
  });
}

/**
 * The launcher: starts the daemon (this program, same arguments) in the namespaces, gives it slirp4netns,
 * and forwards SIGTERM/SIGINT as a stop. Resolves to the daemon's exit code.
 */
export async function launchRootless(o: { execRoot: string; env: NodeJS.ProcessEnv }): Promise<number> {
  const tools = checkRootlessHost(o.env);
  await mkdir(o.execRoot, { recursive: true, mode: 0o700 });
  const procs = realHost().processes;
  const self = [...process.execArgv, ...process.argv.slice(1)];
  const inner = tools.init
    ? [tools.init, "-s", "--", process.execPath, ...self]
    : [process.execPath, ...self];
  if (!tools.init) log("warn", "neither tini nor catatonit found: the rootless daemon runs as pid 1 itself");
  const env = { ...(o.env as Record<string, string>), [ROOTLESS_CHILD_ENV]: "1" };
  const daemon = procs.spawn(
    tools.unshare,
    [
      "--user",
      "--map-auto",
      "--map-root-user",
      "--mount",
      "--propagation",
      "private",
      "--net",
      "--pid",
      "--fork",
      "--kill-child",
      "--mount-proc",
      "--",
      ...inner,
    ],
    { env, stdio: ["ignore", "inherit", "inherit", "pipe"] },
  );
  const done = exited(daemon);
  const sock = daemon.stdio[CHANNEL_FD] as Socket;
  const ch = channel(sock);
  let slirp: Child | undefined;
  const stop = () => sock.end();
  process.on("SIGTERM", stop);
  process.on("SIGINT", stop);
  try {
    const hello = await Promise.race([ch.next(), done.then(() => undefined)]);
    if (hello?.type !== "ns" || !daemon.pid) return await done;
    const apiSocket = join(o.execRoot, "slirp4netns.sock");
    await rm(apiSocket, { force: true });
    slirp = procs.spawn(
      tools.slirp4netns,
      [
        "--configure",
        "--mtu=65520",
        "--disable-host-loopback",
        `--api-socket=${apiSocket}`,
        "--ready-fd=3",
        "--exit-fd=4",
        String(daemon.pid),
        "tap0",
      ],
      { stdio: ["ignore", "ignore", "inherit", "pipe", "pipe"] },
    );
    const ready = slirp.stdio[3] as Socket;
    const slirpDone = exited(slirp);
    const ok = await Promise.race([
      new Promise<boolean>((resolve) => ready.once("data", () => resolve(true))),
      slirpDone.then(() => false),
    ]);
    if (!ok) {
      log("fatal", "slirp4netns failed to set up the network namespace");
      sock.end();
      return await done;
    }
    ch.send({ type: "net", apiSocket } satisfies { type: string } & RootlessNet);
    return await done;
  } finally {
    process.off("SIGTERM", stop);
    process.off("SIGINT", stop);
    sock.destroy();
    // Closing its exit fd ends slirp4netns; the kill is for one that does not notice.
    (slirp?.stdio[4] as Socket | undefined)?.destroy();
    if (slirp?.pid) {
      try {
        procs.kill(slirp.pid, "SIGTERM");
      } catch {
        /* gone already */
      }
    }
  }
}

/** slirp4netns's DNS forwarder (its default network): it answers from the host's own resolvers. */
export const SLIRP_DNS = "10.0.2.3";

/**
 * Inside the namespaces the host's resolvers may be unreachable (a loopback one, as systemd-resolved's):
 * the daemon's /etc/resolv.conf, the one containers' are made from, names slirp4netns's forwarder instead,
 * keeping the host's search and options lines. As rootlesskit does, in the daemon's mount namespace only.
 */
async function useSlirpDns(execRoot: string): Promise<void> {
  const host = await readFile("/etc/resolv.conf", "utf8").catch(() => "");
  const kept = host.split("\n").filter((l) => /^\s*(search|domain|options)\s/.test(l));
  const file = join(execRoot, "resolv.conf");
  await writeFile(file, [`nameserver ${SLIRP_DNS}`, ...kept, ""].join("\n"));
  await realHost().mounts.mount({
    source: file,
    target: "/etc/resolv.conf",
    fstype: null,
    flags: MountFlags.BIND,
  });
}

/**
 * The daemon's side inside the namespaces: tells the launcher it is there, waits for the network, and
 * calls `onStop` when the launcher closes the channel.
 */
export async function joinLauncher(execRoot: string, onStop: () => void): Promise<RootlessNet> {
  const sock = new Socket({ fd: CHANNEL_FD, readable: true, writable: true });
  const ch = channel(sock);
  ch.send({ type: "ns" });
  const m = await ch.next();
  if (m.type !== "net" || typeof m.apiSocket !== "string") throw new Error("rootless launcher: bad message");
  await useSlirpDns(execRoot);
  sock.on("end", onStop);
  sock.on("close", onStop);
  sock.on("error", onStop);
  return { apiSocket: m.apiSocket };
}
