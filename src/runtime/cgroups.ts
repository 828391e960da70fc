/**
 * Direct work on a container's cgroup v1 directories (`/sys/fs/cgroup/<controller><cgroupsPath>`, as runc's
 * cgroupfs driver lays them out): the processes in it, the freezer, and what the host supports. Reading
 * and writing these files is a few syscalls, where `runc` would be a process spawn.
 */
import { accessSync } from "node:fs";
import { readdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { ConflictError, isErrno, SystemError } from "../errdefs/index.ts";

/** Root of the cgroup v1 hierarchies. */
export const CGROUP_ROOT = "/sys/fs/cgroup";

/** The directory of `controller` for a container whose spec has `cgroupsPath`. */
export function cgroupDir(controller: string, cgroupsPath: string, root = CGROUP_ROOT): string {
  return join(root, controller, cgroupsPath);
}

/**
 * Host pids of every process in the cgroup and its sub-cgroups (containers running systemd make their own),
 * ascending. Undefined when the cgroup does not exist.
 */
export async function cgroupPids(cgroupsPath: string, root = CGROUP_ROOT): Promise<number[] | undefined> {
  for (const ctl of ["pids", "memory", "cpu"]) {
    const pids: number[] = [];
    try {
      await collectPids(cgroupDir(ctl, cgroupsPath, root), pids);
    } catch (e) {
      if (isErrno(e, "ENOENT")) continue;
      throw e;
    }
    return pids.sort((a, b) => a - b);
  }
  return undefined;
}

async function collectPids(dir: string, out: number[]): Promise<void> {
  const [procs, entries] = await Promise.all([
    readFile(join(dir, "cgroup.procs"), "utf8"),
    readdir(dir, { withFileTypes: true }),
  ]);
  for (const line of procs.split("\n")) {
    const n = Number.parseInt(line, 10);
    if (n > 0) out.push(n);
  }
  await Promise.all(
    entries.filter((e) => e.isDirectory()).map((e) => collectPids(join(dir, e.name), out).catch(() => {})),
  );
}

/** The cgroup v1 freezer state: THAWED, FREEZING or FROZEN; undefined when the cgroup is gone. */
export async function freezerState(cgroupsPath: string, root = CGROUP_ROOT): Promise<string | undefined> {
  try {
    return (await readFile(join(cgroupDir("freezer", cgroupsPath, root), "freezer.state"), "utf8")).trim();
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
  root = CGROUP_ROOT,
): Promise<void> {
  const file = join(cgroupDir("freezer", cgroupsPath, root), "freezer.state");
  const deadline = Date.now() + 2000;
  for (let attempt = 0; ; attempt++) {
    try {
      await writeFile(file, state);
    } catch (e) {
      if (isErrno(e, "ENOENT")) throw new ConflictError("container is not running", { cause: e });
      throw e;
    }
    // The kernel usually settles at once; when it does not, each retry waits a little longer.
    for (let i = 0; i < 10; i++) {
      const now = (await readFile(file, "utf8")).trim();
      if (now === state) return;
      await new Promise((r) => setTimeout(r, Math.min(1 + attempt + i, 10)));
    }
    if (Date.now() > deadline) {
      if (state === "FROZEN") await writeFile(file, "THAWED").catch(() => {});
      throw new SystemError(`cannot set the freezer to ${state}: the kernel still reports it in transition`);
    }
    if (state === "FROZEN") await writeFile(file, "THAWED").catch(() => {});
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
export function cgroupFeatures(root = CGROUP_ROOT): CgroupFeatures {
  if (features && root === CGROUP_ROOT) return features;
  const has = (p: string): boolean => {
    try {
      accessSync(join(root, p));
      return true;
    } catch {
      return false;
    }
  };
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
  if (root === CGROUP_ROOT) features = f;
  return f;
}
