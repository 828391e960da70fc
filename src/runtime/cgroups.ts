/**
 * Direct work on a container's cgroup v1 directories (`/sys/fs/cgroup/<controller><cgroupsPath>`, as runc's
 * cgroupfs driver lays them out): the processes in it, the freezer, and what the host supports. Reading
 * and writing these files is a few syscalls, where `runc` would be a process spawn.
 */
import { join } from "node:path";
import { ConflictError, isErrno, SystemError } from "../errdefs/index.ts";
import { type KernelFiles, realHost } from "../host/index.ts";
import type { OciResources } from "../oci/index.ts";

/** Root of the cgroup v1 hierarchies. */
export const CGROUP_ROOT = "/sys/fs/cgroup";

/** Where the cgroup files are: the hierarchy root (tests use a fixture tree) and the host's kernel files. */
export interface CgroupAccess {
  root?: string;
  /** realHost()'s when absent. */
  files?: KernelFiles;
}

function access(o: CgroupAccess): { root: string; files: KernelFiles } {
  return { root: o.root ?? CGROUP_ROOT, files: o.files ?? realHost().files };
}

/** The directory of `controller` for a container whose spec has `cgroupsPath`. */
export function cgroupDir(controller: string, cgroupsPath: string, root = CGROUP_ROOT): string {
  return join(root, controller, cgroupsPath);
}

/**
 * Host pids of every process in the cgroup and its sub-cgroups (containers running systemd make their own),
 * ascending. Undefined when the cgroup does not exist.
 */
export async function cgroupPids(cgroupsPath: string, o: CgroupAccess = {}): Promise<number[] | undefined> {
  const { root, files } = access(o);
  for (const ctl of ["pids", "memory", "cpu"]) {
    const pids: number[] = [];
    try {
      await collectPids(cgroupDir(ctl, cgroupsPath, root), { out: pids, files });
    } catch (e) {
      if (isErrno(e, "ENOENT")) continue;
      throw e;
    }
    return pids.sort((a, b) => a - b);
  }
  return undefined;
}

async function collectPids(dir: string, o: { out: number[]; files: KernelFiles }): Promise<void> {
  const [procs, subdirs] = await Promise.all([o.files.read(join(dir, "cgroup.procs")), o.files.subdirs(dir)]);
  for (const line of procs.split("\n")) {
    const n = Number.parseInt(line, 10);
    if (n > 0) o.out.push(n);
  }
  await Promise.all(subdirs.map((name) => collectPids(join(dir, name), o).catch(() => {})));
}

/** The cgroup v1 freezer state: THAWED, FREEZING or FROZEN; undefined when the cgroup is gone. */
export async function freezerState(cgroupsPath: string, o: CgroupAccess = {}): Promise<string | undefined> {
  const { root, files } = access(o);
  try {
    return (await files.read(join(cgroupDir("freezer", cgroupsPath, root), "freezer.state"))).trim();
  } catch (e) {
    if (isErrno(e, "ENOENT")) return undefined;
    throw e;
  }
}

/**
 * Freezes (FROZEN) or thaws (THAWED) every process of the cgroup and waits until the kernel reports the
 * state. A freeze can stall in FREEZING while a task sits in an uninterruptible sleep; like runc, it is
 * retried with a thaw in between, and given up (thawed again) after about two seconds.
 */
export async function setFreezer(
  cgroupsPath: string,
  state: "FROZEN" | "THAWED",
  o: CgroupAccess = {},
): Promise<void> {
  const { root, files } = access(o);
  const file = join(cgroupDir("freezer", cgroupsPath, root), "freezer.state");
  const deadline = Date.now() + 2000;
  for (let attempt = 0; ; attempt++) {
    try {
      await files.write(file, state);
    } catch (e) {
      if (isErrno(e, "ENOENT")) throw new ConflictError("container is not running", { cause: e });
      throw e;
    }
    // The kernel usually settles at once; when it does not, each retry waits a little longer.
    for (let i = 0; i < 10; i++) {
      const now = (await files.read(file)).trim();
      if (now === state) return;
      await new Promise((r) => setTimeout(r, Math.min(1 + attempt + i, 10)));
    }
    if (Date.now() > deadline) {
      if (state === "FROZEN") await files.write(file, "THAWED").catch(() => {});
      throw new SystemError(`cannot set the freezer to ${state}: the kernel still reports it in transition`);
    }
    if (state === "FROZEN") await files.write(file, "THAWED").catch(() => {});
  }
}

/** What this host's cgroup v1 setup can limit (Docker's `docker info` warnings and update checks use these). */
export interface CgroupFeatures {
  memoryLimit: boolean;
  /** memory.memsw.*: `--memory-swap` */
  swapLimit: boolean;
  cpuShares: boolean;
  /** cpu.cfs_quota_us / cfs_period_us: `--cpus`, `--cpu-quota`, `--cpu-period` */
  cpuCfs: boolean;
  cpuset: boolean;
  pidsLimit: boolean;
  /** blkio.weight or blkio.bfq.weight: `--blkio-weight` */
  blkioWeight: boolean;
  freezer: boolean;
}

let features: CgroupFeatures | undefined;

/** The host's cgroup features, probed once from the root cgroup's files. */
export function cgroupFeatures(o: CgroupAccess = {}): CgroupFeatures {
  const cached = o.root === undefined && o.files === undefined;
  if (features && cached) return features;
  const { root, files } = access(o);
  const has = (p: string): boolean => files.exists(join(root, p));
  const f: CgroupFeatures = {
    memoryLimit: has("memory/memory.limit_in_bytes"),
    swapLimit: has("memory/memory.memsw.limit_in_bytes"),
    cpuShares: has("cpu/cpu.shares"),
    cpuCfs: has("cpu/cpu.cfs_quota_us"),
    cpuset: has("cpuset/cpuset.cpus"),
    pidsLimit: has("pids"),
    blkioWeight: has("blkio/blkio.weight") || has("blkio/blkio.bfq.weight"),
    freezer: has("freezer"),
  };
  if (cached) features = f;
  return f;
}

/**
 * Writes new limits straight into a container's cgroup v1 files, for runtimes without an `update` of
 * their own (runsc: the limits then hold for the whole sandbox on the host). Only the fields given change.
 * Memory and swap go in the order the kernel accepts (memsw may never be below the limit).
 */
export async function writeCgroupLimits(
  cgroupsPath: string,
  res: OciResources,
  o: CgroupAccess = {},
): Promise<void> {
  const { root, files } = access(o);
  const put = async (controller: string, file: string, value: number | string): Promise<void> => {
    try {
      await files.write(join(cgroupDir(controller, cgroupsPath, root), file), String(value));
    } catch (e) {
      if (isErrno(e, "ENOENT")) throw new ConflictError("container is not running", { cause: e });
      throw e;
    }
  };
  const m = res.memory;
  if (m?.limit !== undefined && m.swap !== undefined) {
    try {
      await put("memory", "memory.limit_in_bytes", m.limit);
      await put("memory", "memory.memsw.limit_in_bytes", m.swap);
    } catch (e) {
      if (!isErrno(e, "EINVAL")) throw e;
      await put("memory", "memory.memsw.limit_in_bytes", m.swap);
      await put("memory", "memory.limit_in_bytes", m.limit);
    }
  } else if (m?.limit !== undefined) await put("memory", "memory.limit_in_bytes", m.limit);
  else if (m?.swap !== undefined) await put("memory", "memory.memsw.limit_in_bytes", m.swap);
  if (m?.reservation !== undefined) await put("memory", "memory.soft_limit_in_bytes", m.reservation);
  if (m?.swappiness !== undefined) await put("memory", "memory.swappiness", m.swappiness);
  const c = res.cpu;
  if (c?.shares !== undefined) await put("cpu", "cpu.shares", c.shares);
  if (c?.period !== undefined) await put("cpu", "cpu.cfs_period_us", c.period);
  if (c?.quota !== undefined) await put("cpu", "cpu.cfs_quota_us", c.quota);
  if (c?.cpus) await put("cpuset", "cpuset.cpus", c.cpus);
  if (c?.mems) await put("cpuset", "cpuset.mems", c.mems);
  if (res.pids?.limit !== undefined)
    await put("pids", "pids.max", res.pids.limit < 0 ? "max" : res.pids.limit);
  if (res.blockIO?.weight !== undefined) {
    await put("blkio", "blkio.weight", res.blockIO.weight).catch(() =>
      put("blkio", "blkio.bfq.weight", res.blockIO?.weight ?? 0),
    );
  }
}
