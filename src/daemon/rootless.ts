/**
 * The rootless daemon, as Docker's rootless mode (rootlesskit) and Podman run one: `wharf daemon` started
 * by an ordinary user re-executes itself inside new user, mount, network and pid namespaces. The user
 * namespace maps container root to the user and 1..65535 to the first of the user's subordinate ranges
 * (/etc/subuid, /etc/subgid, through newuidmap/newgidmap, which `unshare --map-auto --map-root-user`
 * calls); there the daemon is root, mounts overlayfs (userxattr) and runs runc and its bridge as the root
 * daemon does. slirp4netns or pasta connects the network namespace to the host (rootlessnet.ts).
 *
 * Two processes: the launcher (outside, the user's own credentials) and the daemon (inside, under tini as
 * pid 1 of its pid namespace, so every container goes with it: a rootless daemon does not live-restore).
 * They talk over a socket pair on the daemon's fd 3, one JSON line per message: the daemon says it is in
 * its namespaces ("ns"), the launcher starts the network on them and answers "net"; with the builtin port
 * driver the daemon then asks for host ports ("expose"/"unexpose", answered "exposed"). The launcher
 * closing the socket (it was stopped, or died) stops the daemon.
 */
import { accessSync, constants, existsSync, statSync } from "node:fs";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { Socket } from "node:net";
import { userInfo } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { type Child, firstSubidRange, MountFlags, realHost } from "../host/index.ts";
import { type HostForward, slirpHostForward } from "../network/index.ts";
import { log } from "../util/index.ts";
import {
  HostPorts,
  ROOTLESS_DNS,
  type RootlessNet,
  type RootlessNetMode,
  type RootlessPortDriver,
  startRootlessNet,
} from "./rootlessnet.ts";

/** Set in the daemon's environment by the launcher: the daemon runs inside the rootless namespaces. */
export const ROOTLESS_CHILD_ENV = "_WHARF_ROOTLESS_CHILD";

/** The channel fd the launcher hands the daemon. */
const CHANNEL_FD = 3;

/** Paths a rootless daemon uses unless flags say otherwise, as Docker's rootless mode picks them. */
export function rootlessDefaults(env: NodeJS.ProcessEnv): {
  dataRoot: string;
  execRoot: string;
  host: string;
  configFile: string;
} {
  // Unset, the launcher refuses to start with what to do; the defaults still have to be paths.
  const runtimeDir = env.XDG_RUNTIME_DIR || `/run/user/${process.getuid?.() ?? 0}`;
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
export function checkRootlessHost(
  env: NodeJS.ProcessEnv,
  want: { net?: RootlessNetMode } = {},
): {
  unshare: string;
  net: { mode: RootlessNetMode; program: string };
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
  // slirp4netns unless pasta is asked for or is all there is, as Docker's rootless mode picks.
  const mode: RootlessNetMode =
    want.net ?? (which("slirp4netns") || !which("pasta") ? "slirp4netns" : "pasta");
  const program = which(mode);
  if (!program)
    throw new RootlessSetupError(
      `${mode} not found: install Debian's package ${mode === "pasta" ? "passt" : "slirp4netns"}`,
    );
  try {
    accessSync("/dev/net/tun", constants.R_OK | constants.W_OK);
  } catch {
    throw new RootlessSetupError(
      "/dev/net/tun is not readable and writable by you (mode 0600: no udev on this machine): as root, run chmod 0666 /dev/net/tun (what udev does on Debian; scripts/setup.sh --rootless does it)",
    );
  }
  return {
    unshare: which("unshare") ?? "unshare",
    net: { mode, program },
    init: which("tini") ?? which("catatonit"),
  };
}

/** One JSON line per message, both ways; `next()` for the hand-shake, then `onMessage` for the rest. */
function channel(sock: Socket) {
  const lines = createInterface({ input: sock })[Symbol.asyncIterator]();
  return {
    send: (m: object) => {
      if (!sock.destroyed) sock.write(`${JSON.stringify(m)}\n`);
    },
    async next(): Promise<Record<string, unknown> | undefined> {
      const r = await lines.next();
      return r.done ? undefined : (JSON.parse(r.value) as Record<string, unknown>);
    },
    /** Hands every further message to `fn`, until the other side closes. */
    async loop(fn: (m: Record<string, unknown>) => void): Promise<void> {
      for (;;) {
        const r = await lines.next().catch(() => ({ done: true, value: "" }) as const);
        if (r.done) return;
        try {
          fn(JSON.parse(r.value) as Record<string, unknown>);
        } catch (e) {
          log("warn", "rootless channel: bad message", { err: e });
        }
      }
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
 * The launcher: starts the daemon (this program, same arguments) in the namespaces, gives it its network
 * and host ports, and turns SIGTERM/SIGINT into a stop. Resolves to the daemon's exit code.
 */
export async function launchRootless(o: {
  execRoot: string;
  env: NodeJS.ProcessEnv;
  net?: RootlessNetMode;
  portDriver?: RootlessPortDriver;
}): Promise<number> {
  const tools = checkRootlessHost(o.env, o.net ? { net: o.net } : {});
  const portDriver: RootlessPortDriver =
    tools.net.mode === "pasta" ? "builtin" : (o.portDriver ?? "slirp4netns");
  if (tools.net.mode === "pasta" && o.portDriver === "slirp4netns")
    throw new RootlessSetupError("the slirp4netns port driver needs --rootless-net slirp4netns");
  await mkdir(o.execRoot, { recursive: true, mode: 0o700 });
  const procs = realHost().processes;
  const self = [...process.execArgv, ...process.argv.slice(1)];
  const inner = tools.init ? [tools.init, "--", process.execPath, ...self] : [process.execPath, ...self];
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
  let stopNet = () => {};
  let ports: HostPorts | undefined;
  const stop = () => sock.end();
  process.on("SIGTERM", stop);
  process.on("SIGINT", stop);
  // The host's children do not hold the event loop (they are unref'd): this does, until the daemon exits.
  const keepAlive = setInterval(() => undefined, 1 << 30);
  try {
    const hello = await Promise.race([ch.next(), done.then(() => undefined)]);
    if (hello?.type !== "ns" || !daemon.pid) return await done;
    let started: Awaited<ReturnType<typeof startRootlessNet>>;
    try {
      started = await startRootlessNet(
        { ...tools.net, pid: daemon.pid, execRoot: o.execRoot, portDriver },
        procs,
      );
    } catch (e) {
      log("fatal", (e as Error).message);
      sock.end();
      return await done;
    }
    stopNet = started.stop;
    const relay = started.net.relaySocket;
    if (relay) ports = new HostPorts(relay);
    ch.send({ type: "net", ...started.net });
    void ch.loop((m) => {
      const id = Number(m.id);
      if (m.type === "unexpose") void ports?.unexpose(id);
      if (m.type !== "expose") return;
      const f = { proto: String(m.proto), hostIp: String(m.hostIp), port: Number(m.port) };
      (ports ? ports.expose(id, f) : Promise.reject(new Error("no builtin port driver"))).then(
        () => ch.send({ type: "exposed", id }),
        (e: Error) => ch.send({ type: "exposed", id, error: e.message }),
      );
    });
    return await done;
  } finally {
    clearInterval(keepAlive);
    process.off("SIGTERM", stop);
    process.off("SIGINT", stop);
    sock.destroy();
    ports?.closeAll();
    stopNet();
  }
}

/**
 * Inside the namespaces the host's resolvers may be unreachable (a loopback one, as systemd-resolved's):
 * the daemon's /etc/resolv.conf, the one containers' are made from, names the network stack's DNS
 * forwarder instead, keeping the host's search and options lines. As rootlesskit does, in the daemon's
 * mount namespace only.
 */
async function useForwardedDns(execRoot: string): Promise<void> {
  const host = await readFile("/etc/resolv.conf", "utf8").catch(() => "");
  const kept = host.split("\n").filter((l) => /^\s*(search|domain|options)\s/.test(l));
  const file = join(execRoot, "resolv.conf");
  await writeFile(file, [`nameserver ${ROOTLESS_DNS}`, ...kept, ""].join("\n"));
  await realHost().mounts.mount({
    source: file,
    target: "/etc/resolv.conf",
    fstype: null,
    flags: MountFlags.BIND,
  });
}

/** What the daemon inside its namespaces gets from the launcher. */
export interface Launcher {
  net: RootlessNet;
  /** Forwards a host port to the same port in the namespace, by the launcher's port driver. */
  forward: HostForward;
}

/**
 * The daemon's side inside the namespaces: tells the launcher it is there, waits for the network, and
 * calls `onStop` when the launcher closes the channel.
 */
export async function joinLauncher(execRoot: string, onStop: () => void): Promise<Launcher> {
  const sock = new Socket({ fd: CHANNEL_FD, readable: true, writable: true });
  const ch = channel(sock);
  ch.send({ type: "ns" });
  const m = await ch.next();
  if (m?.type !== "net") throw new Error("the rootless launcher went away");
  const net = m as unknown as RootlessNet;
  await useForwardedDns(execRoot);
  const waiting = new Map<number, (error?: string) => void>();
  let nextId = 1;
  void ch.loop((r) => {
    if (r.type === "exposed") waiting.get(Number(r.id))?.(typeof r.error === "string" ? r.error : undefined);
  });
  sock.on("close", () => {
    for (const w of waiting.values()) w("the rootless launcher went away");
    onStop();
  });
  sock.on("error", () => undefined);
  const builtin: HostForward = async (f) => {
    const id = nextId++;
    const error = await new Promise<string | undefined>((resolve) => {
      waiting.set(id, resolve);
      ch.send({ type: "expose", id, ...f });
    });
    waiting.delete(id);
    if (error) throw new Error(error);
    return { close: async () => ch.send({ type: "unexpose", id }) };
  };
  const forward: HostForward =
    net.portDriver === "slirp4netns" && net.apiSocket ? slirpHostForward(net.apiSocket) : builtin;
  return { net, forward };
}
