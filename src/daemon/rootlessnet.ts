/**
 * A rootless daemon's network, on the launcher's side: slirp4netns or pasta connects the daemon's network
 * namespace to the host, and published ports come in through one of two port drivers, as rootlesskit's:
 * "slirp4netns" (its API forwards host ports to the namespace's tap address) or "builtin" (the launcher
 * listens on the host and relays each connection to the daemon's unix socket, netdrv/portrelay.ts).
 */
import { rm } from "node:fs/promises";
import type { Socket } from "node:net";
import { join } from "node:path";
import { type Child, ProcessError, type Processes } from "../host/index.ts";
import { hostPortListener } from "../netdrv/index.ts";
import { log } from "../util/index.ts";

/** The user-mode network stacks a rootless daemon can use. */
export type RootlessNetMode = "slirp4netns" | "pasta";
/** How published ports get in. */
export type RootlessPortDriver = "builtin" | "slirp4netns";

/** The address both stacks are told to answer DNS on (slirp4netns's own default): the host's resolvers behind it. */
export const ROOTLESS_DNS = "10.0.2.3";

/** What the daemon learns about its network from the launcher. */
export interface RootlessNet {
  mode: RootlessNetMode;
  portDriver: RootlessPortDriver;
  /** slirp4netns's API socket, for its port driver. */
  apiSocket?: string;
  /** The unix socket the daemon serves for the builtin port driver. */
  relaySocket?: string;
}

/** A started network stack; stop() ends it. */
export interface StartedNet {
  net: RootlessNet;
  stop(): void;
}

function killQuietly(procs: Processes, pid: number | undefined): void {
  if (!pid) return;
  try {
    procs.kill(pid, "SIGTERM");
  } catch {
    /* gone already */
  }
}

async function startSlirp(
  o: { program: string; pid: number; execRoot: string; portDriver: RootlessPortDriver },
  procs: Processes,
): Promise<StartedNet> {
  const apiSocket = join(o.execRoot, "slirp4netns.sock");
  await rm(apiSocket, { force: true });
  const slirp: Child = procs.spawn(
    o.program,
    [
      "--configure",
      "--mtu=65520",
      "--disable-host-loopback",
      `--api-socket=${apiSocket}`,
      "--ready-fd=3",
      "--exit-fd=4",
      String(o.pid),
      "tap0",
    ],
    { stdio: ["ignore", "ignore", "ignore", "pipe", "pipe"] },
  );
  const exitFd = slirp.stdio[4] as Socket;
  const stop = () => {
    // Closing its exit fd ends slirp4netns; the signal is for one that does not notice.
    exitFd.destroy();
    killQuietly(procs, slirp.pid);
  };
  const ready = await new Promise<boolean>((resolve) => {
    (slirp.stdio[3] as Socket).once("data", () => resolve(true));
    slirp.on("exit", () => resolve(false));
    slirp.on("error", () => resolve(false));
  });
  if (!ready) {
    stop();
    throw new Error("slirp4netns failed to set up the daemon's network namespace");
  }
  return { net: { mode: "slirp4netns", portDriver: o.portDriver, apiSocket }, stop };
}

async function startPasta(
  o: { program: string; pid: number; execRoot: string },
  procs: Processes,
): Promise<StartedNet> {
  const pidFile = join(o.execRoot, "pasta.pid");
  try {
    // pasta sets the namespace up, then goes to the background (its pid in the pid file). No forwards of
    // its own: ports come through the builtin driver; the gateway is not mapped to the host's loopback.
    await procs.run(o.program, [
      "--config-net",
      "--quiet",
      "--no-map-gw",
      "--dns-forward",
      ROOTLESS_DNS,
      "-t",
      "none",
      "-u",
      "none",
      "-T",
      "none",
      "-U",
      "none",
      "--pid",
      pidFile,
      "--userns",
      `/proc/${o.pid}/ns/user`,
      "--netns",
      `/proc/${o.pid}/ns/net`,
    ]);
  } catch (e) {
    const stderr = e instanceof ProcessError ? e.stderr.trim() : String(e);
    throw new Error(`pasta failed to set up the daemon's network namespace: ${stderr}`);
  }
  const { readFile } = await import("node:fs/promises");
  const pid = Number((await readFile(pidFile, "utf8").catch(() => "")).trim());
  return {
    net: { mode: "pasta", portDriver: "builtin" },
    stop: () => killQuietly(procs, pid > 1 ? pid : undefined),
  };
}

/** Starts the chosen stack on the namespaces of process `pid` (the daemon's unshare). */
export async function startRootlessNet(
  o: {
    mode: RootlessNetMode;
    program: string;
    pid: number;
    execRoot: string;
    portDriver: RootlessPortDriver;
  },
  procs: Processes,
): Promise<StartedNet> {
  const started = o.mode === "pasta" ? await startPasta(o, procs) : await startSlirp(o, procs);
  if (started.net.portDriver === "builtin") started.net.relaySocket = join(o.execRoot, "ports.sock");
  return started;
}

/** The launcher's half of the builtin port driver: host listeners by the daemon's forward ids. */
export class HostPorts {
  readonly #open = new Map<number, { close(): Promise<void> }>();
  readonly #relaySocket: string;

  constructor(relaySocket: string) {
    this.#relaySocket = relaySocket;
  }

  /** Listens on hostIp:port for forward `id`; the error text is Docker's when the port is taken. */
  async expose(id: number, f: { proto: string; hostIp: string; port: number }): Promise<void> {
    if (f.proto !== "tcp")
      throw new Error(
        `${f.proto} ports need the slirp4netns port driver (--rootless-port-driver slirp4netns); the builtin driver relays TCP`,
      );
    this.#open.set(
      id,
      await hostPortListener({ relaySocket: this.#relaySocket, hostIp: f.hostIp, hostPort: f.port }),
    );
  }

  async unexpose(id: number): Promise<void> {
    const l = this.#open.get(id);
    this.#open.delete(id);
    await l?.close().catch((e) => log("warn", "closing a forwarded host port failed", { err: e }));
  }

  closeAll(): void {
    for (const id of [...this.#open.keys()]) void this.unexpose(id);
  }
}
