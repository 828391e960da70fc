/**
 * A wharf daemon serving the CRI for one integration test file: its own CRI socket, CNI conf dir (wharf
 * writes its default network there), pod bridge and subnet, and a client; `stop()` removes every pod through
 * the CRI (so CNI DEL runs), then the daemon and the pod bridge.
 */
import { execFile } from "node:child_process";
import { join } from "node:path";
import { promisify } from "node:util";
import { CriClient } from "../../src/cri/index.ts";
import { freeSubnet, startDaemon, type TestDaemon } from "./daemon.ts";

const run = promisify(execFile);

/** A daemon with the CRI on, and a client on its socket. */
export interface CriTestDaemon {
  d: TestDaemon;
  cri: CriClient;
  criSocket: string;
  cniConfDir: string;
  /** The default pod network's bridge and subnet. */
  cniBridge: string;
  cniSubnet: string;
  /** kubelet's log_directory for pods of this file. */
  logDir: string;
  /** Kills the daemon (SIGKILL: pods keep running) and starts it again; the client reconnects. */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

let counter = 0;

/** Deletes NAT rules CNI tagged with these pods' IDs (comment `id: "<id>"`), and the chains they jumped to. */
export async function removeCniRules(ids: string[]): Promise<void> {
  if (!ids.length) return;
  const { stdout } = await run("iptables-save", ["-t", "nat"]).catch(() => ({ stdout: "" }));
  const chains = new Set<string>();
  for (const line of stdout.split("\n")) {
    if (!line.startsWith("-A ") || !ids.some((id) => line.includes(id))) continue;
    const jump = / -j (CNI-\S+)/.exec(line)?.[1];
    if (jump) chains.add(jump);
    // iptables-save quotes the comment; the argv form needs it unquoted.
    const args = line
      .slice(3)
      .match(/"(?:[^"\\]|\\.)*"|\S+/g)
      ?.map((a) => (a.startsWith('"') ? a.slice(1, -1).replace(/\\"/g, '"') : a));
    if (args) await run("iptables", ["-t", "nat", "-D", ...args]).catch(() => undefined);
  }
  for (const c of chains) {
    await run("iptables", ["-t", "nat", "-F", c]).catch(() => undefined);
    await run("iptables", ["-t", "nat", "-X", c]).catch(() => undefined);
  }
}

/** Waits until the CRI answers (the daemon binds it just before the Engine API). */
async function ready(cri: CriClient): Promise<void> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    try {
      await cri.runtime("Version", {}, { timeoutMs: 2000 });
      return;
    } catch (e) {
      if (Date.now() > deadline) throw e;
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}

/** Starts the daemon with `--cri-socket` and the CNI flags. */
export async function startCriDaemon(opts: { name?: string; args?: string[] } = {}): Promise<CriTestDaemon> {
  const subnet = await freeSubnet();
  const n = `${process.pid % 10000}${counter++}`;
  const cniBridge = `wc${n}`.slice(0, 15);
  // Outside the daemon's temp dir, which startDaemon makes only after the flags are given.
  const base = `/tmp/wt-cri-${n}-${Date.now()}`;
  const criSocket = join(base, "cri.sock");
  const cniConfDir = join(base, "net.d");
  const d = await startDaemon({
    name: opts.name ?? "cri",
    args: [
      "--cri-socket",
      criSocket,
      "--cni-conf-dir",
      cniConfDir,
      "--cni-bridge",
      cniBridge,
      "--cni-subnet",
      subnet,
      ...(opts.args ?? []),
    ],
  });
  let cri = new CriClient(criSocket);
  await ready(cri);
  const t: CriTestDaemon = {
    d,
    get cri() {
      return cri;
    },
    criSocket,
    cniConfDir,
    cniBridge,
    cniSubnet: subnet,
    logDir: join(base, "pods"),
    async restart() {
      cri.close();
      await d.restart();
      cri = new CriClient(criSocket);
      await ready(cri);
    },
    async stop() {
      try {
        const pods = await cri
          .runtime<{ items: { id: string }[] }>("ListPodSandbox", {})
          .catch(() => ({ items: [] }));
        for (const p of pods.items)
          await cri.runtime("RemovePodSandbox", { podSandboxId: p.id }).catch(() => undefined);
      } finally {
        cri.close();
        await d.stop();
        await run("ip", ["link", "del", cniBridge]).catch(() => undefined);
        await run("rm", ["-rf", base]).catch(() => undefined);
      }
    },
  };
  return t;
}
