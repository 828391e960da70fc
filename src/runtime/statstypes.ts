/** One line of a blkio statistics file: device, operation ("Read", "Write", "Sync", ...) and value. */
export interface BlkioEntry {
  major: number;
  minor: number;
  op: string;
  value: number;
}

/** Counters of one network interface, from /proc/<pid>/net/dev inside the container's namespace. */
export interface NetworkCounters {
  rxBytes: number;
  rxPackets: number;
  rxErrors: number;
  rxDropped: number;
  txBytes: number;
  txPackets: number;
  txErrors: number;
  txDropped: number;
}

/**
 * The raw numbers of one `docker stats` frame, read from the container's cgroup v1 files and its init's
 * /proc entries. Times are nanoseconds, sizes bytes. Fields the host lacks are zero / empty.
 */
export interface RuntimeStats {
  /** RFC 3339 with nanoseconds: when the numbers were read. */
  read: string;
  cpu: {
    /** cpuacct.usage */
    totalUsage: number;
    /** cpuacct.usage_percpu, one entry per possible CPU */
    percpuUsage: number[];
    /** cpuacct.stat user, converted from clock ticks */
    usageInUsermode: number;
    /** cpuacct.stat system, converted from clock ticks */
    usageInKernelmode: number;
    /** Sum of the host's CPU times from /proc/stat (Docker's system_cpu_usage). */
    systemCpuUsage: number;
    /** CPUs online on the host (the cpuN lines of /proc/stat). */
    onlineCpus: number;
    /** cpu.stat: nr_periods, nr_throttled, throttled_time */
    throttling: { periods: number; throttledPeriods: number; throttledTime: number };
  };
  memory: {
    /** memory.usage_in_bytes */
    usage: number;
    /** memory.max_usage_in_bytes */
    maxUsage: number;
    /** memory.limit_in_bytes, capped at the host's memory as Docker does for unlimited containers */
    limit: number;
    /** memory.failcnt */
    failcnt: number;
    /** memory.stat, every key */
    stats: Record<string, number>;
  };
  pids: {
    /** pids.current */
    current: number;
    /** pids.max; 0 when unlimited */
    limit: number;
  };
  blkio: {
    ioServiceBytesRecursive: BlkioEntry[];
    ioServicedRecursive: BlkioEntry[];
  };
  /** Per interface inside the container, loopback excluded; empty when the init is gone. */
  networks: Record<string, NetworkCounters>;
}

/** `top`: the header of the `ps` output and one row per container process, split as Docker splits it. */
export interface TopResult {
  titles: string[];
  processes: string[][];
}
