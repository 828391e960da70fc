// Docker Engine API v1.47 wire shapes: exec sessions and stats frames. Field names are Docker's (swagger v1.47, moby's api/types).
// Types only: no runtime code, no imports of other wharf folders, so api/, client/ and services share them.

/** `POST /containers/{id}/exec` body. */
export interface ExecCreateRequest {
  AttachStdin?: boolean;
  AttachStdout?: boolean;
  AttachStderr?: boolean;
  DetachKeys?: string;
  Detach?: boolean;
  Tty?: boolean;
  ConsoleSize?: [number, number] | null;
  Env?: string[] | null;
  Cmd?: string[] | null;
  Privileged?: boolean;
  User?: string;
  WorkingDir?: string;
}

/** `GET /exec/{id}/json`. */
export interface ExecInspect {
  CanRemove: boolean;
  ContainerID: string;
  DetachKeys: string;
  ExitCode: number | null;
  ID: string;
  OpenStderr: boolean;
  OpenStdin: boolean;
  OpenStdout: boolean;
  ProcessConfig: { arguments: string[]; entrypoint: string; privileged: boolean; tty: boolean; user: string };
  Running: boolean;
  Pid: number;
}

/**
 * One frame of `GET /containers/{id}/stats`. wharf sends every field dockerd sends on cgroup v1; fields are
 * optional because other daemons (cgroup v2, Windows) leave some out and the client reads those too.
 */
export interface StatsFrame {
  name?: string;
  id?: string;
  read?: string;
  preread?: string;
  pids_stats?: { current?: number; limit?: number };
  blkio_stats?: Record<string, BlkioStatEntry[] | null>;
  num_procs?: number;
  storage_stats?: Record<string, never>;
  cpu_stats?: CpuStats;
  precpu_stats?: CpuStats;
  memory_stats?: {
    usage?: number;
    max_usage?: number;
    limit?: number;
    failcnt?: number;
    stats?: Record<string, number>;
    commitbytes?: number;
    privateworkingset?: number;
  };
  networks?: Record<string, NetworkStats>;
}

/** One block-device counter of a stats frame. */
export interface BlkioStatEntry {
  major: number;
  minor: number;
  op: string;
  value: number;
}

/** One interface's counters of a stats frame. */
export interface NetworkStats {
  rx_bytes: number;
  rx_packets?: number;
  rx_errors?: number;
  rx_dropped?: number;
  tx_bytes: number;
  tx_packets?: number;
  tx_errors?: number;
  tx_dropped?: number;
}

/** CPU counters of a stats frame (`cpu_stats` and `precpu_stats`). */
export interface CpuStats {
  cpu_usage?: {
    total_usage?: number;
    percpu_usage?: number[] | null;
    usage_in_kernelmode?: number;
    usage_in_usermode?: number;
  };
  system_cpu_usage?: number;
  online_cpus?: number;
  throttling_data?: { periods: number; throttled_periods: number; throttled_time: number };
}

/** `POST /exec/{id}/start` body (Docker's ExecStartCheck). */
export interface ExecStartRequest {
  Detach?: boolean;
  Tty?: boolean;
  ConsoleSize?: [number, number] | null;
}
