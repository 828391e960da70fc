// Engine API shapes the client needs that api/types.ts does not carry (yet): exec, stats, archive,
// networks, volumes, prune reports, disk usage, auth. Field names are Docker's (swagger v1.47).
import type {
  ContainerSummary,
  HealthConfig,
  ImageDeleteResponseItem,
  ImageSummary,
  Resources,
  RestartPolicy,
} from "../api/types.ts";

/** `POST /containers/{id}/exec` body. */
export interface ExecCreateRequest {
  AttachStdin?: boolean;
  AttachStdout?: boolean;
  AttachStderr?: boolean;
  ConsoleSize?: [number, number] | null;
  DetachKeys?: string;
  Detach?: boolean;
  Tty?: boolean;
  Env?: string[];
  Cmd: string[];
  Privileged?: boolean;
  User?: string;
  WorkingDir?: string;
}

/** `GET /exec/{id}/json`. */
export interface ExecInspect {
  ID: string;
  Running: boolean;
  ExitCode: number | null;
  ProcessConfig?: { tty?: boolean; entrypoint?: string; arguments?: string[]; privileged?: boolean };
  OpenStdin?: boolean;
  OpenStderr?: boolean;
  OpenStdout?: boolean;
  ContainerID: string;
  Pid?: number;
}

/** One frame of `GET /containers/{id}/stats`. */
export interface StatsFrame {
  name?: string;
  id?: string;
  read?: string;
  preread?: string;
  pids_stats?: { current?: number; limit?: number };
  blkio_stats?: {
    io_service_bytes_recursive?: { major: number; minor: number; op: string; value: number }[] | null;
  };
  num_procs?: number;
  cpu_stats?: CpuStats;
  precpu_stats?: CpuStats;
  memory_stats?: {
    usage?: number;
    max_usage?: number;
    limit?: number;
    stats?: Record<string, number>;
    commitbytes?: number;
    privateworkingset?: number;
  };
  networks?: Record<string, { rx_bytes: number; tx_bytes: number }>;
}

/** CPU counters of a stats frame. */
export interface CpuStats {
  cpu_usage?: {
    total_usage?: number;
    percpu_usage?: number[] | null;
    usage_in_kernelmode?: number;
    usage_in_usermode?: number;
  };
  system_cpu_usage?: number;
  online_cpus?: number;
}

/** `POST /containers/{id}/update` body. */
export interface ContainerUpdateRequest extends Resources {
  RestartPolicy?: RestartPolicy;
}

/** One entry of `GET /containers/{id}/changes`: Kind 0 modified, 1 added, 2 deleted. */
export interface FilesystemChange {
  Path: string;
  Kind: 0 | 1 | 2;
}

/** The `X-Docker-Container-Path-Stat` header, base64 JSON. */
export interface PathStat {
  name: string;
  size: number;
  mode: number;
  mtime: string;
  linkTarget: string;
}

/** `POST /containers/prune`. */
export interface ContainerPruneResponse {
  ContainersDeleted: string[] | null;
  SpaceReclaimed: number;
}

/** `POST /images/prune`. */
export interface ImagePruneResponse {
  ImagesDeleted: ImageDeleteResponseItem[] | null;
  SpaceReclaimed: number;
}

/** `POST /volumes/prune`. */
export interface VolumePruneResponse {
  VolumesDeleted: string[] | null;
  SpaceReclaimed: number;
}

/** `POST /networks/prune`. */
export interface NetworkPruneResponse {
  NetworksDeleted: string[] | null;
}

/** `POST /build/prune`. */
export interface BuildCachePruneResponse {
  CachesDeleted: string[] | null;
  SpaceReclaimed: number;
}

/** A volume as the API shows it. */
export interface Volume {
  Name: string;
  Driver: string;
  Mountpoint: string;
  CreatedAt?: string;
  Status?: Record<string, unknown>;
  Labels: Record<string, string> | null;
  Scope: string;
  Options: Record<string, string> | null;
  UsageData?: { Size: number; RefCount: number } | null;
}

/** `POST /volumes/create` body. */
export interface VolumeCreateRequest {
  Name?: string;
  Driver?: string;
  DriverOpts?: Record<string, string>;
  Labels?: Record<string, string>;
}

/** `GET /volumes`. */
export interface VolumeListResponse {
  Volumes: Volume[] | null;
  Warnings: string[] | null;
}

/** IPAM settings of a network. */
export interface IPAM {
  Driver?: string;
  Config?: {
    Subnet?: string;
    IPRange?: string;
    Gateway?: string;
    AuxiliaryAddresses?: Record<string, string>;
  }[];
  Options?: Record<string, string> | null;
}

/** A network as the API shows it. */
export interface Network {
  Name: string;
  Id: string;
  Created: string;
  Scope: string;
  Driver: string;
  EnableIPv4?: boolean;
  EnableIPv6: boolean;
  IPAM: IPAM;
  Internal: boolean;
  Attachable: boolean;
  Ingress: boolean;
  Containers?: Record<string, { Name: string; EndpointID: string; MacAddress: string; IPv4Address: string }>;
  Options: Record<string, string> | null;
  Labels: Record<string, string> | null;
}

/** `POST /networks/create` body. */
export interface NetworkCreateRequest {
  Name: string;
  CheckDuplicate?: boolean;
  Driver?: string;
  Scope?: string;
  Internal?: boolean;
  Attachable?: boolean;
  Ingress?: boolean;
  ConfigOnly?: boolean;
  ConfigFrom?: { Network: string };
  EnableIPv4?: boolean;
  EnableIPv6?: boolean;
  IPAM?: IPAM;
  Options?: Record<string, string>;
  Labels?: Record<string, string>;
}

/** `POST /networks/{id}/connect` body. */
export interface NetworkConnectRequest {
  Container: string;
  EndpointConfig?: {
    IPAMConfig?: { IPv4Address?: string; IPv6Address?: string; LinkLocalIPs?: string[] };
    Links?: string[];
    Aliases?: string[];
    DriverOpts?: Record<string, string>;
  };
}

/** `GET /system/df`. */
export interface DiskUsage {
  LayersSize?: number;
  Images?: ImageSummary[] | null;
  Containers?: ContainerSummary[] | null;
  Volumes?: Volume[] | null;
  BuildCache?: { ID: string; Size: number; InUse: boolean; Shared: boolean; Type?: string }[] | null;
}

/** `POST /auth`. */
export interface AuthResponse {
  Status: string;
  IdentityToken?: string;
}

/** Query of `POST /build`. */
export interface BuildQuery {
  dockerfile?: string;
  t?: string[];
  extrahosts?: string;
  remote?: string;
  q?: boolean;
  nocache?: boolean;
  cachefrom?: string[];
  pull?: boolean;
  rm?: boolean;
  forcerm?: boolean;
  memory?: number;
  memswap?: number;
  cpushares?: number;
  cpusetcpus?: string;
  cpuperiod?: number;
  cpuquota?: number;
  buildargs?: Record<string, string>;
  shmsize?: number;
  squash?: boolean;
  labels?: Record<string, string>;
  networkmode?: string;
  platform?: string;
  target?: string;
  outputs?: string;
  version?: "1" | "2";
}

/** Query of `POST /commit`. */
export interface CommitQuery {
  container: string;
  repo?: string;
  tag?: string;
  comment?: string;
  author?: string;
  pause?: boolean;
  changes?: string[];
}

/** The config part of a commit body (Docker sends the container config overrides, usually empty). */
export interface CommitConfig {
  Healthcheck?: HealthConfig;
  [key: string]: unknown;
}
