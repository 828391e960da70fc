import type { BlkioStatEntry, CpuStats, NetworkStats, StatsFrame } from "../apitypes/index.ts";
import type { RuntimeStats } from "../runtime/index.ts";
import { ZERO_TIME } from "../util/index.ts";

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

function zeroCpu(): CpuStats {
  return {
    cpu_usage: { total_usage: 0, usage_in_kernelmode: 0, usage_in_usermode: 0 },
    throttling_data: { periods: 0, throttled_periods: 0, throttled_time: 0 },
  };
}

function cpuJson(s: RuntimeStats): CpuStats {
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
): StatsFrame {
  const blkio: Record<string, BlkioStatEntry[] | null> = {};
  for (const k of BLKIO_KEYS) blkio[k] = null;
  const frame: StatsFrame = {
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
    const nets: Record<string, NetworkStats> = {};
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
