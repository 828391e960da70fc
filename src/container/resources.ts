import { availableParallelism } from "node:os";
import type { HostConfig, Resources, RestartPolicy } from "../apitypes/index.ts";
import { InvalidParameterError } from "../errdefs/index.ts";
import type { CgroupFeatures, SpecResources } from "../runtime/index.ts";

/** What the host's cgroups can limit; everything when the daemon passes nothing. */
export type HostLimits = Omit<CgroupFeatures, "freezer">;

const ALL_LIMITS: HostLimits = {
  memoryLimit: true,
  swapLimit: true,
  cpuShares: true,
  cpuCfs: true,
  cpuset: true,
  pidsLimit: true,
  blkioWeight: true,
};

const MIN_MEMORY = 6 * 1024 * 1024;

/** Parses a cpuset list ("0-2,4") into CPU numbers; undefined when malformed. */
function parseCpuset(s: string): number[] | undefined {
  const out: number[] = [];
  for (const part of s.split(",")) {
    const m = /^(\d+)(?:-(\d+))?$/.exec(part.trim());
    if (!m) return undefined;
    const a = Number(m[1]);
    const b = m[2] === undefined ? a : Number(m[2]);
    if (b < a) return undefined;
    for (let i = a; i <= b; i++) out.push(i);
  }
  return out;
}

/**
 * Docker's checks of a container's resources (create and update): errors for impossible values, warnings
 * (and discarded values) for limits the host cannot enforce. Mutates `r` where Docker drops a value.
 */
export function checkResources(r: Resources, opts: { limits?: HostLimits } = {}): string[] {
  const host = opts.limits ?? ALL_LIMITS;
  const warnings: string[] = [];
  const mem = r.Memory ?? 0;
  if (mem > 0 && mem < MIN_MEMORY) throw new InvalidParameterError("Minimum memory limit allowed is 6MB");
  if (mem > 0 && !host.memoryLimit) {
    warnings.push(
      "Your kernel does not support memory limit capabilities or the cgroup is not mounted. Limitation discarded.",
    );
    r.Memory = 0;
    r.MemorySwap = -1;
  }
  const swap = r.MemorySwap ?? 0;
  if (swap > 0 && !host.swapLimit) {
    warnings.push(
      "Your kernel does not support swap limit capabilities or the cgroup is not mounted. Memory limited without swap.",
    );
    r.MemorySwap = -1;
  }
  if (mem > 0 && swap > 0 && swap < mem)
    throw new InvalidParameterError("Minimum memoryswap limit should be larger than memory limit, see usage");
  if (mem === 0 && swap > 0)
    throw new InvalidParameterError(
      "You should always set the Memory limit when using Memoryswap limit, see usage",
    );
  const swappiness = r.MemorySwappiness;
  if (
    swappiness !== undefined &&
    swappiness !== null &&
    swappiness !== -1 &&
    (swappiness < 0 || swappiness > 100)
  )
    throw new InvalidParameterError(`Invalid value: ${swappiness}, valid memory swappiness range is 0-100`);
  const resv = r.MemoryReservation ?? 0;
  if (resv > 0 && resv < MIN_MEMORY)
    throw new InvalidParameterError("Minimum memory reservation allowed is 6MB");
  if (mem > 0 && resv > 0 && mem < resv)
    throw new InvalidParameterError(
      "Minimum memory limit can not be less than memory reservation limit, see usage",
    );
  // Without the memory cgroup (a rootless daemon on cgroup v1) the other memory settings go too, as in dockerd.
  if (resv > 0 && !host.memoryLimit) {
    warnings.push(
      "Your kernel does not support memory soft limit capabilities or the cgroup is not mounted. Limitation discarded.",
    );
    r.MemoryReservation = 0;
  }
  if (swappiness !== undefined && swappiness !== null && swappiness !== -1 && !host.memoryLimit) {
    warnings.push(
      "Your kernel does not support memory swappiness capabilities or the cgroup is not mounted. Memory swappiness discarded.",
    );
    r.MemorySwappiness = undefined;
  }
  if (r.OomKillDisable && !host.memoryLimit) {
    warnings.push("Your kernel does not support OomKillDisable. OomKillDisable discarded.");
    r.OomKillDisable = false;
  }
  if (r.OomKillDisable && mem === 0)
    warnings.push(
      "OOM killer is disabled for the container, but no memory limit is set, this can result in the system running out of resources.",
    );
  const ncpu = availableParallelism();
  const nano = r.NanoCpus ?? 0;
  if (nano > 0 && (r.CpuPeriod ?? 0) > 0)
    throw new InvalidParameterError("Conflicting options: Nano CPUs and CPU Period cannot both be set");
  if (nano > 0 && (r.CpuQuota ?? 0) > 0)
    throw new InvalidParameterError("Conflicting options: Nano CPUs and CPU Quota cannot both be set");
  if (nano < 0 || nano > ncpu * 1e9)
    throw new InvalidParameterError(
      `Range of CPUs is from 0.01 to ${ncpu}.00, as there are only ${ncpu} CPUs available`,
    );
  const period = r.CpuPeriod ?? 0;
  if (period !== 0 && (period < 1000 || period > 1_000_000))
    throw new InvalidParameterError(
      "CPU cfs period can not be less than 1ms (i.e. 1000) or larger than 1s (i.e. 1000000)",
    );
  const quota = r.CpuQuota ?? 0;
  if (quota > 0 && quota < 1000)
    throw new InvalidParameterError("CPU cfs quota can not be less than 1ms (i.e. 1000)");
  if ((nano > 0 || quota > 0 || period > 0) && !host.cpuCfs) {
    warnings.push("Your kernel does not support CPU CFS scheduler. CPU period/quota discarded.");
    r.NanoCpus = 0;
    r.CpuQuota = 0;
    r.CpuPeriod = 0;
  }
  if ((r.CpuShares ?? 0) > 0 && !host.cpuShares) {
    warnings.push("Your kernel does not support CPU shares or the cgroup is not mounted. Shares discarded.");
    r.CpuShares = 0;
  }
  if ((r.CpusetCpus || r.CpusetMems) && !host.cpuset) {
    warnings.push("Your kernel does not support cpuset or the cgroup is not mounted. Cpuset discarded.");
    r.CpusetCpus = "";
    r.CpusetMems = "";
  }
  if (r.CpusetCpus) {
    const cpus = parseCpuset(r.CpusetCpus);
    if (!cpus) throw new InvalidParameterError(`Invalid value ${r.CpusetCpus} for cpuset cpus`);
    if (cpus.some((c) => c >= ncpu))
      throw new InvalidParameterError(
        `Requested CPUs are not available - requested ${r.CpusetCpus}, available: ${ncpu > 1 ? `0-${ncpu - 1}` : "0"}`,
      );
  }
  if (r.CpusetMems && !parseCpuset(r.CpusetMems))
    throw new InvalidParameterError(`Invalid value ${r.CpusetMems} for cpuset mems`);
  const weight = r.BlkioWeight ?? 0;
  if (weight > 0 && (weight < 10 || weight > 1000))
    throw new InvalidParameterError("Range of blkio weight is from 10 to 1000");
  if (weight > 0 && !host.blkioWeight) {
    warnings.push(
      "Your kernel does not support Block I/O weight or the cgroup is not mounted. Weight discarded.",
    );
    r.BlkioWeight = 0;
  }
  if ((r.PidsLimit ?? 0) > 0 && !host.pidsLimit) {
    warnings.push(
      "Your kernel does not support PIDs limit capabilities or the cgroup is not mounted. PIDs limit discarded.",
    );
    r.PidsLimit = 0;
  }
  return warnings;
}

/** Docker's stored form of a new container's limits: swap twice the memory unless given; no pids limit as null. */
export function resourceDefaults(hc: HostConfig, opts: { limits?: HostLimits } = {}): void {
  const host = opts.limits ?? ALL_LIMITS;
  if ((hc.Memory ?? 0) > 0 && !hc.MemorySwap && host.swapLimit) hc.MemorySwap = (hc.Memory ?? 0) * 2;
  if (hc.PidsLimit !== undefined && hc.PidsLimit !== null && hc.PidsLimit <= 0) hc.PidsLimit = null;
}

/** The spec's cgroup limits of a container's HostConfig. */
export function specResources(hc: Resources): SpecResources {
  return {
    memory: hc.Memory || undefined,
    memorySwap: hc.MemorySwap || undefined,
    memoryReservation: hc.MemoryReservation || undefined,
    memorySwappiness: hc.MemorySwappiness ?? undefined,
    oomKillDisable: hc.OomKillDisable || undefined,
    cpuShares: hc.CpuShares || undefined,
    cpuQuota: hc.CpuQuota || undefined,
    cpuPeriod: hc.CpuPeriod || undefined,
    nanoCpus: hc.NanoCpus || undefined,
    cpusetCpus: hc.CpusetCpus || undefined,
    cpusetMems: hc.CpusetMems || undefined,
    pidsLimit: hc.PidsLimit || undefined,
    blkioWeight: hc.BlkioWeight || undefined,
  };
}

/** The body of POST /containers/{id}/update. */
export type UpdateRequest = Resources & { RestartPolicy?: RestartPolicy };

const UPDATABLE = [
  "CpuShares",
  "Memory",
  "MemoryReservation",
  "MemorySwap",
  "BlkioWeight",
  "CpuPeriod",
  "CpuQuota",
  "CpuRealtimePeriod",
  "CpuRealtimeRuntime",
  "CpusetCpus",
  "CpusetMems",
  "NanoCpus",
  "PidsLimit",
] as const;

/**
 * Docker's update rules: a field given non-zero replaces the stored one; memory above the stored swap
 * limit needs the swap updated too. Returns the new HostConfig and the limits to hand the runtime.
 */
export function mergeUpdate(
  hc: HostConfig,
  req: UpdateRequest,
): { hostConfig: HostConfig; changed: SpecResources } {
  const next: HostConfig = { ...hc };
  const changed: Resources = {};
  for (const k of UPDATABLE) {
    const v = req[k];
    if (v === undefined || v === null || v === 0 || v === "") continue;
    (next as Record<string, unknown>)[k] = v;
    (changed as Record<string, unknown>)[k] = v;
  }
  if (req.PidsLimit !== undefined && req.PidsLimit !== null && req.PidsLimit < 0) {
    next.PidsLimit = null;
    changed.PidsLimit = -1;
  }
  if ((changed.NanoCpus ?? 0) > 0) {
    next.CpuQuota = 0;
    next.CpuPeriod = 0;
  }
  if ((changed.CpuQuota ?? 0) > 0 || (changed.CpuPeriod ?? 0) > 0) next.NanoCpus = 0;
  const mem = next.Memory ?? 0;
  const swap = next.MemorySwap ?? 0;
  if (changed.Memory && !changed.MemorySwap && swap > 0 && mem > swap)
    throw new InvalidParameterError(
      "Memory limit should be smaller than already set memoryswap limit, update the memoryswap at the same time",
    );
  if (req.RestartPolicy?.Name !== undefined) {
    if (hc.AutoRemove && req.RestartPolicy.Name !== "no" && req.RestartPolicy.Name !== "")
      throw new InvalidParameterError(
        "Restart policy cannot be updated because AutoRemove is enabled for the container",
      );
    next.RestartPolicy = {
      Name: req.RestartPolicy.Name || "no",
      MaximumRetryCount: req.RestartPolicy.MaximumRetryCount ?? 0,
    };
  }
  const spec = specResources(changed);
  if (changed.PidsLimit === -1) spec.pidsLimit = -1;
  return { hostConfig: next, changed: spec };
}
