/**
 * Container and pod stats from the cgroup counters wharf's stats frames carry: CPU time (and cores in use
 * since the previous sample, as containerd keeps one), memory with the working set as kubelet counts it
 * (usage less inactive file pages), the writable layer's size; pods add the pause and their network.
 */
import type { StatsFrame } from "../apitypes/index.ts";
import type { ContainerService } from "../container/index.ts";
import type { Host } from "../host/index.ts";
import type { Containers } from "./containers.ts";
import { fromWharfLabels, parseMetadata, selects } from "./labels.ts";
import type { Sandboxes } from "./sandboxes.ts";
import type { ContainerMetadata, ContainerStats, CpuUsage, MemoryUsage, PodSandboxStats } from "./types.ts";

interface Sample {
  usage: bigint;
  at: bigint;
}

function u64(v: number | bigint | undefined): { value: string } {
  return { value: String(v ?? 0) };
}

/** CRI stats of wharf containers and pods. */
export class Stats {
  readonly #c: ContainerService;
  readonly #containers: Containers;
  readonly #sandboxes: Sandboxes;
  readonly #host: Host;
  readonly #prev = new Map<string, Sample>();
  readonly #dataRoot: string;

  constructor(o: {
    containers: ContainerService;
    cri: Containers;
    sandboxes: Sandboxes;
    host: Host;
    dataRoot: string;
  }) {
    this.#c = o.containers;
    this.#containers = o.cri;
    this.#sandboxes = o.sandboxes;
    this.#host = o.host;
    this.#dataRoot = o.dataRoot;
  }

  async #frame(id: string): Promise<StatsFrame | undefined> {
    for await (const f of this.#c.stats(id, { stream: false, oneShot: true })) return f;
    return undefined;
  }

  #cpu(id: string, f: StatsFrame | undefined, now: bigint): CpuUsage {
    const usage = BigInt(Math.trunc(f?.cpu_stats?.cpu_usage?.total_usage ?? 0));
    const prev = this.#prev.get(id);
    this.#prev.set(id, { usage, at: now });
    let nanoCores: bigint | undefined;
    if (prev && now > prev.at && usage >= prev.usage)
      nanoCores = ((usage - prev.usage) * 1_000_000_000n) / (now - prev.at);
    return {
      timestamp: now.toString(),
      usageCoreNanoSeconds: u64(usage),
      usageNanoCores: u64(nanoCores),
    };
  }

  /** `limited`: the container has a memory limit (without one containerd reports 0 bytes available). */
  #memory(f: StatsFrame | undefined, now: bigint, limited = false): MemoryUsage {
    const m = f?.memory_stats;
    const s = m?.stats ?? {};
    const usage = m?.usage ?? 0;
    const inactive = s.total_inactive_file ?? s.inactive_file ?? 0;
    const working = Math.max(0, usage - inactive);
    const limit = m?.limit ?? 0;
    return {
      timestamp: now.toString(),
      workingSetBytes: u64(working),
      availableBytes: u64(limited && limit ? Math.max(0, limit - working) : 0),
      usageBytes: u64(usage),
      rssBytes: u64(s.total_rss ?? s.rss ?? s.anon ?? 0),
      pageFaults: u64(s.total_pgfault ?? s.pgfault ?? 0),
      majorPageFaults: u64(s.total_pgmajfault ?? s.pgmajfault ?? 0),
    };
  }

  /** ContainerStats of one CRI container. */
  async container(id: string): Promise<ContainerStats> {
    const ins = this.#containers.inspect(id);
    const now = BigInt(Date.now()) * 1_000_000n;
    const f = ins.State.Running ? await this.#frame(ins.Id) : undefined;
    const sizes = await this.#c.sizes(ins.Id).catch(() => ({ SizeRw: 0 }));
    const { labels, annotations } = fromWharfLabels(ins.Config.Labels);
    return {
      attributes: {
        id: ins.Id,
        metadata: parseMetadata<ContainerMetadata>(ins.Config.Labels) ?? { name: "", attempt: 0 },
        labels,
        annotations,
      },
      cpu: this.#cpu(ins.Id, f, now),
      memory: this.#memory(f, now, (ins.HostConfig.Memory ?? 0) > 0),
      writableLayer: {
        timestamp: now.toString(),
        fsId: { mountpoint: `${this.#dataRoot}/containers` },
        usedBytes: u64(sizes.SizeRw ?? 0),
        inodesUsed: u64(0),
      },
    };
  }

  /** ListContainerStats with its filters: ID, sandbox, labels. */
  async listContainers(
    filter: { id: string; podSandboxId: string; labelSelector: Record<string, string> } | null,
  ): Promise<ContainerStats[]> {
    const list = this.#containers.list({
      id: filter?.id ?? "",
      podSandboxId: filter?.podSandboxId ?? "",
      state: null,
      labelSelector: filter?.labelSelector ?? {},
    });
    return Promise.all(list.map((c) => this.container(c.id)));
  }

  async #network(pid: number, now: bigint) {
    if (!pid) return null;
    let text: string;
    try {
      text = await this.#host.files.read(`/proc/${pid}/net/dev`);
    } catch {
      return null;
    }
    const interfaces = text
      .split("\n")
      .slice(2)
      .map((l) => l.trim())
      .filter((l) => l && !l.startsWith("lo:"))
      .map((l) => {
        const [name = "", rest = ""] = l.split(":");
        const n = rest.trim().split(/\s+/).map(Number);
        return {
          name: name.trim(),
          rxBytes: u64(n[0]),
          rxErrors: u64(n[2]),
          txBytes: u64(n[8]),
          txErrors: u64(n[10]),
        };
      });
    const def = interfaces.find((i) => i.name === "eth0") ?? interfaces[0] ?? null;
    return { timestamp: now.toString(), defaultInterface: def, interfaces };
  }

  /** PodSandboxStats: the pod's containers and the pause summed, its network from the pod's namespace. */
  async sandbox(id: string): Promise<PodSandboxStats> {
    const rec = this.#sandboxes.record(id);
    const ins = this.#sandboxes.inspect(rec.id);
    const now = BigInt(Date.now()) * 1_000_000n;
    const containers = await this.listContainers({ id: "", podSandboxId: rec.id, labelSelector: {} });
    const pause = ins.State.Running ? await this.#frame(rec.id) : undefined;
    const pauseCpu = this.#cpu(rec.id, pause, now);
    const pauseMem = this.#memory(pause, now);
    const sum = (vals: ({ value: number | string } | null | undefined)[]) =>
      u64(vals.reduce((a, v) => a + BigInt(v?.value ?? 0), 0n));
    const cpus = [pauseCpu, ...containers.map((c) => c.cpu)];
    const mems = [pauseMem, ...containers.map((c) => c.memory)];
    const { labels, annotations } = fromWharfLabels(ins.Config.Labels);
    return {
      attributes: {
        id: rec.id,
        metadata: rec.config.metadata ?? { name: "", uid: "", namespace: "", attempt: 0 },
        labels,
        annotations,
      },
      linux: {
        cpu: {
          timestamp: now.toString(),
          usageCoreNanoSeconds: sum(cpus.map((c) => c?.usageCoreNanoSeconds)),
          usageNanoCores: sum(cpus.map((c) => c?.usageNanoCores)),
        },
        memory: {
          timestamp: now.toString(),
          workingSetBytes: sum(mems.map((m) => m?.workingSetBytes)),
          availableBytes: null,
          usageBytes: sum(mems.map((m) => m?.usageBytes)),
          rssBytes: sum(mems.map((m) => m?.rssBytes)),
          pageFaults: sum(mems.map((m) => m?.pageFaults)),
          majorPageFaults: sum(mems.map((m) => m?.majorPageFaults)),
        },
        network: rec.hostNetwork ? null : await this.#network(ins.State.Pid, now),
        process: { timestamp: now.toString(), processCount: u64(pause?.pids_stats?.current ?? 0) },
        containers,
      },
    };
  }

  /** ListPodSandboxStats with its filters: ID prefix, labels. */
  async listSandboxes(
    filter: { id: string; labelSelector: Record<string, string> } | null,
  ): Promise<PodSandboxStats[]> {
    const pods = this.#sandboxes.list({ id: filter?.id ?? "", state: null, labelSelector: {} });
    const out: PodSandboxStats[] = [];
    for (const p of pods) {
      if (!selects(filter?.labelSelector, p.labels)) continue;
      out.push(await this.sandbox(p.id));
    }
    return out;
  }
}
