/**
 * The engines the suite compares, each started on its own temporary roots so the host's own daemons are never
 * touched: wharf (bin/wharf daemon), dockerd with its managed containerd, and podman (no daemon). Each knows
 * its CLI, how to find its processes for memory figures, and how to remove everything it made.
 */
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";

const run = promisify(execFile);

/** The repository root (bench/lib/..). */
export const ROOT = join(import.meta.dirname, "../..");
/** The docker CLI every Docker-API engine is driven with. */
export const DOCKER = existsSync("/usr/local/bin/docker") ? "/usr/local/bin/docker" : "docker";

/** One engine under test. */
export interface Engine {
  /** Short name used in tables: wharf, dockerd, podman. */
  name: string;
  /** Its own temp dir; every process of the engine names it on its command line. */
  dir: string;
  /** argv prefix of the CLI that drives it (docker -H ..., or podman --root ...). */
  cli: string[];
  /** Environment for the CLI. */
  env: NodeJS.ProcessEnv;
  /** The Engine API socket, absent for podman. */
  socket?: string;
  /** Pid of the long-lived daemon (dockerd, wharf), absent for podman. */
  daemonPid?: number;
  /** Removes its containers, stops it and deletes what it made. */
  stop(): Promise<void>;
}

/** Runs a command, resolving with stdout; rejects with stderr on failure. */
export async function sh(
  argv: string[],
  opts: { env?: NodeJS.ProcessEnv; input?: string } = {},
): Promise<string> {
  const [cmd, ...args] = argv;
  const { stdout } = await run(cmd, args, { env: opts.env ?? process.env, maxBuffer: 64 << 20 });
  return stdout;
}

async function waitPing(socket: string, proc: ChildProcess, log: string): Promise<void> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (proc.exitCode !== null) throw new Error(`engine exited with ${proc.exitCode}; see ${log}`);
    const ok = await run("curl", ["-sf", "--unix-socket", socket, "http://d/_ping"]).then(
      () => true,
      () => false,
    );
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`engine did not answer on ${socket}; see ${log}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

function startLogged(argv: string[], log: string, env: NodeJS.ProcessEnv = process.env): ChildProcess {
  const [cmd, ...args] = argv;
  const p = spawn("sh", ["-c", `exec "$0" "$@" >>"${log}" 2>&1`, cmd, ...args], { stdio: "ignore", env });
  return p;
}

async function killAndWait(p: ChildProcess, ms = 15_000): Promise<void> {
  if (p.exitCode !== null || p.signalCode !== null) return;
  const exited = new Promise((r) => p.once("exit", r));
  p.kill("SIGTERM");
  const t = setTimeout(() => p.kill("SIGKILL"), ms);
  await exited;
  clearTimeout(t);
}

async function removeAll(e: Pick<Engine, "cli" | "env">): Promise<void> {
  const ids = (await sh([...e.cli, "ps", "-aq"], { env: e.env }).catch(() => "")).split("\n").filter(Boolean);
  for (let i = 0; i < ids.length; i += 50)
    await sh([...e.cli, "rm", "-f", ...ids.slice(i, i + 50)], { env: e.env }).catch(() => "");
}

/** Lazily unmounts every mount below `dir`, deepest first. */
export async function unmountUnder(dir: string): Promise<void> {
  const mounts = (await sh(["cat", "/proc/self/mounts"]))
    .split("\n")
    .map((l) => l.split(" ")[1])
    .filter((m) => m?.startsWith(dir))
    .sort()
    .reverse();
  for (const m of mounts) await sh(["umount", "-l", m]).catch(() => "");
}

/** A /24 in 10.x that no route on the host overlaps. */
export async function freeSubnet(): Promise<string> {
  const routes = await sh(["ip", "-4", "route", "show", "table", "all"]);
  for (;;) {
    const a = 180 + Math.floor(Math.random() * 60);
    const b = Math.floor(Math.random() * 256);
    if (!routes.includes(`10.${a}.${b}.`)) return `10.${a}.${b}`;
  }
}

/** Imports the busybox rootfs tar (scripts/make-busybox-image.sh --tar) as busybox:latest. */
export async function importBusybox(e: Engine, tar: string): Promise<void> {
  await sh([...e.cli, "import", "-c", 'CMD ["sh"]', tar, "busybox:latest"], { env: e.env });
}

/**
 * An Engine API daemon driven by the docker CLI; stopping it removes its containers, ends it, unmounts what
 * it left under its dir and deletes its bridge (then `more`, for what is particular to it).
 */
function apiEngine(
  e: { name: string; dir: string; socket: string; proc: ChildProcess; bridge: string; killMs: number },
  more?: () => Promise<void>,
): Engine {
  const cli = [DOCKER, "-H", `unix://${e.socket}`];
  const env = { ...process.env, DOCKER_CONFIG: join(e.dir, "docker-config"), DOCKER_BUILDKIT: "0" };
  return {
    name: e.name,
    dir: e.dir,
    cli,
    env,
    socket: e.socket,
    daemonPid: e.proc.pid,
    async stop() {
      await removeAll({ cli, env });
      await killAndWait(e.proc, e.killMs);
      await unmountUnder(e.dir);
      await sh(["ip", "link", "del", e.bridge]).catch(() => "");
      await more?.();
    },
  };
}

/** wharf's daemon on temp roots with its own bridge and subnet. */
export async function startWharf(base: string): Promise<Engine> {
  const dir = join(base, "wharf");
  await mkdir(dir, { recursive: true });
  const socket = join(dir, "wharf.sock");
  const bridge = `wbw${process.pid % 100000}`;
  const net = await freeSubnet();
  const log = join(dir, "daemon.log");
  const p = startLogged(
    [
      join(ROOT, "bin/wharf"),
      "daemon",
      "--data-root",
      join(dir, "data"),
      "--exec-root",
      join(dir, "exec"),
      "-H",
      `unix://${socket}`,
      "--bridge",
      bridge,
      "--bip",
      `${net}.1/24`,
    ],
    log,
    // The loop-delay probe (GET /_wharf/loop-delay) the suite reads around parallel starts.
    { ...process.env, WHARF_DEBUG_LOOP_DELAY: "1" },
  );
  await waitPing(socket, p, log);
  return apiEngine({ name: "wharf", dir, socket, proc: p, bridge, killMs: 15_000 }, async () => {
    const { removeDaemonRules } = await import("../../src/netdrv/index.ts");
    await removeDaemonRules(bridge).catch(() => undefined);
  });
}

/**
 * dockerd on temp roots with its own containerd namespace and a bridge made here; no iptables rules, so the
 * host's tables are left as they were (published ports then go through docker-proxy, its default path anyway).
 */
export async function startDockerd(base: string, o: { args?: string[] } = {}): Promise<Engine | undefined> {
  if (!existsSync("/usr/bin/dockerd") && !existsSync("/usr/sbin/dockerd")) return undefined;
  const dir = join(base, "dockerd");
  await mkdir(dir, { recursive: true });
  const socket = join(dir, "docker.sock");
  const bridge = `wbd${process.pid % 100000}`;
  const net = await freeSubnet();
  await sh(["ip", "link", "add", bridge, "type", "bridge"]);
  await sh(["ip", "addr", "add", `${net}.1/24`, "dev", bridge]);
  await sh(["ip", "link", "set", bridge, "up"]);
  const log = join(dir, "dockerd.log");
  const p = startLogged(
    [
      "dockerd",
      "--data-root",
      join(dir, "data"),
      "--exec-root",
      join(dir, "exec"),
      "-H",
      `unix://${socket}`,
      "--pidfile",
      join(dir, "dockerd.pid"),
      "--bridge",
      bridge,
      "--iptables=false",
      "--ip-forward=false",
      "--containerd-namespace",
      `wb${process.pid}`,
      "--containerd-plugins-namespace",
      `wbp${process.pid}`,
      ...(o.args ?? []),
    ],
    log,
  );
  await waitPing(socket, p, log);
  return apiEngine({ name: "dockerd", dir, socket, proc: p, bridge, killMs: 30_000 });
}

/**
 * A podman bridge left by an interrupted earlier run keeps that run's subnet, and podman's CNI backend then
 * fails every bridged start here ("Chain 'CNI-…' does not exist"). One with no port attached carries no
 * container, so deleting it loses nothing: podman makes it again with this run's subnet.
 */
async function dropIdlePodmanBridges(): Promise<void> {
  for (const l of ["podman0", "cni-podman0"]) {
    const exists = await sh(["ip", "-o", "link", "show", "dev", l]).then(
      () => true,
      () => false,
    );
    if (!exists || (await sh(["ip", "-o", "link", "show", "master", l])).trim() !== "") continue;
    await sh(["ip", "link", "del", l]);
    process.stderr.write(`bench: deleted the idle ${l} an earlier run left behind\n`);
  }
}

/**
 * podman on temp roots, with runc, cgroupfs, file events and the ulimits this host allows, configured through
 * its own CONTAINERS_CONF so /etc/containers is not changed; its networks live in a config dir of its own.
 */
export async function startPodman(base: string): Promise<Engine | undefined> {
  if (!existsSync("/usr/bin/podman")) return undefined;
  const dir = join(base, "podman");
  await mkdir(join(dir, "net"), { recursive: true });
  const net = await freeSubnet();
  const conf = join(dir, "containers.conf");
  await writeFile(
    conf,
    [
      "[containers]",
      'default_ulimits = ["nofile=16384:16384", "nproc=16384:16384"]',
      "[network]",
      `network_config_dir = "${join(dir, "net")}"`,
      `default_subnet = "${net}.0/24"`,
      "[engine]",
      'runtime = "runc"',
      'cgroup_manager = "cgroupfs"',
      'events_logger = "file"',
      "",
    ].join("\n"),
  );
  await dropIdlePodmanBridges();
  const linksBefore = await sh(["ip", "-o", "link"]);
  const cli = [
    "podman",
    "--root",
    join(dir, "root"),
    "--runroot",
    join(dir, "run"),
    "--tmpdir",
    join(dir, "tmp"),
  ];
  const env = { ...process.env, CONTAINERS_CONF: conf };
  return {
    name: "podman",
    dir,
    cli,
    env,
    async stop() {
      await removeAll({ cli, env });
      await sh([...cli, "system", "reset", "--force"], { env }).catch(() => "");
      await unmountUnder(dir);
      // podman's default network bridge, made by its network backend on first use.
      for (const l of ["podman0", "cni-podman0"])
        if (!linksBefore.includes(` ${l}:`)) await sh(["ip", "link", "del", l]).catch(() => "");
    },
  };
}
