import type { RuntimeStats } from "../runtime/index.ts";
import { ZERO_TIME } from "../util/index.ts";

/** Docker's CPU numbers of one frame (`cpu_stats` and `precpu_stats`). */
export interface CpuStatsJson {
  cpu_usage: {
    total_usage: number;
    percpu_usage?: number[];
    usage_in_kernelmode: number;
    usage_in_usermode: number;
  };
  system_cpu_usage?: number;
  online_cpus?: number;
  throttling_data: { periods: number; throttled_periods: number; throttled_time: number };
}

interface BlkioJson {
  major: number;
  minor: number;
  op: string;
  value: number;
}

/** One frame of GET /containers/{id}/stats, as dockerd sends it on cgroup v1. */
export interface StatsJson {
  read: string;
  preread: string;
  pids_stats: { current?: number; limit?: number };
  blkio_stats: Record<string, BlkioJson[] | null>;
  num_procs: number;
  storage_stats: Record<string, never>;
  cpu_stats: CpuStatsJson;
  precpu_stats: CpuStatsJson;
  memory_stats: {
    usage?: number;
    max_usage?: number;
    stats?: Record<string, number>;
    failcnt?: number;
    limit?: number;
  };
  name: string;
  id: string;
  networks?: Record<string, Record<string, number>>;
}

const BLKIO_KEYS = [
  "io_service_bytes_recursive",
  "io_serviced_recursive",
  "io_queue_recursive",
  "io_service_time_recursive",
  "io_wait_time_recursive",
  "io_merged_recursive",
  "io_time_recursive",
  "sectors_recursive",
] as const;

function zeroCpu(): CpuStatsJson {
  return {
    cpu_usage: { total_usage: 0, usage_in_kernelmode: 0, usage_in_usermode: 0 },
    throttling_data: { periods: 0, throttled_periods: 0, throttled_time: 0 },
  };
}

function cpuJson(s: RuntimeStats): CpuStatsJson {
  const c = s.cpu;
  return {
    cpu_usage: {
      total_usage: c.totalUsage,
      percpu_usage: c.percpuUsage,
      usage_in_kernelmode: c.usageInKernelmode,
      usage_in_usermode: c.usageInUsermode,
    },
    system_cpu_usage: c.systemCpuUsage,
    online_cpus: c.onlineCpus,
    throttling_data: {
      periods: c.throttling.periods,
      throttled_periods: c.throttling.throttledPeriods,
      throttled_time: c.throttling.throttledTime,
    },
  };
}

/**
 * A stats frame from the runtime's numbers and the previous frame's (`prev`, for precpu). Without `cur`
 * (created, stopped or gone) the frame is Docker's zeroed one. `networks` is left out for containers
 * without a network namespace of their own.
 */
export function statsFrame(
  cur: RuntimeStats | undefined,
  opts: { prev?: RuntimeStats; name: string; id: string; withNetworks: boolean },
): StatsJson {
  const blkio: Record<string, BlkioJson[] | null> = {};
  for (const k of BLKIO_KEYS) blkio[k] = null;
  const frame: StatsJson = {
    read: cur?.read ?? ZERO_TIME,
    preread: opts.prev?.read ?? ZERO_TIME,
    pids_stats: {},
    blkio_stats: blkio,
    num_procs: 0,
    storage_stats: {},
    cpu_stats: cur ? cpuJson(cur) : zeroCpu(),
    precpu_stats: opts.prev ? cpuJson(opts.prev) : zeroCpu(),
    memory_stats: {},
    name: opts.name,
    id: opts.id,
  };
  if (!cur) return frame;
  frame.pids_stats = { current: cur.pids.current, ...(cur.pids.limit ? { limit: cur.pids.limit } : {}) };
  const entry = (e: { major: number; minor: number; op: string; value: number }) => ({ ...e });
  blkio.io_service_bytes_recursive = cur.blkio.ioServiceBytesRecursive.map(entry);
  blkio.io_serviced_recursive = cur.blkio.ioServicedRecursive.map(entry);
  frame.memory_stats = {
    usage: cur.memory.usage,
    max_usage: cur.memory.maxUsage,
    stats: cur.memory.stats,
    failcnt: cur.memory.failcnt,
    limit: cur.memory.limit,
  };
  if (opts.withNetworks) {
    const nets: Record<string, Record<string, number>> = {};
    for (const [name, n] of Object.entries(cur.networks))
      nets[name] = {
        rx_bytes: n.rxBytes,
        rx_packets: n.rxPackets,
        rx_errors: n.rxErrors,
        rx_dropped: n.rxDropped,
        tx_bytes: n.txBytes,
        tx_packets: n.txPackets,
        tx_errors: n.txErrors,
        tx_dropped: n.txDropped,
      };
    if (Object.keys(nets).length) frame.networks = nets;
  }
  return frame;
}
