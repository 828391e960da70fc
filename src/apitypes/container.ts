// Docker Engine API v1.47 wire shapes: containers. Field names are Docker's (swagger v1.47, moby's api/types).
// Types only: no runtime code, no imports of other wharf folders, so api/, client/ and services share them.
import type { EndpointSettings, NetworkingConfig, NetworkSettings, Port, PortMap } from "./network.ts";

/** Body of `POST /containers/create`: the container config plus host and networking config. */
export interface ContainerCreateRequest extends ContainerConfig {
  HostConfig?: HostConfig;
  NetworkingConfig?: NetworkingConfig;
}

/** Configuration for a container that is portable between hosts. */
export interface ContainerConfig {
  Hostname?: string;
  Domainname?: string;
  User?: string;
  AttachStdin?: boolean;
  AttachStdout?: boolean;
  AttachStderr?: boolean;
  ExposedPorts?: Record<string, object> | null;
  Tty?: boolean;
  OpenStdin?: boolean;
  StdinOnce?: boolean;
  Env?: string[];
  Cmd?: string[];
  Healthcheck?: HealthConfig;
  ArgsEscaped?: boolean | null;
  Image?: string;
  Volumes?: Record<string, object>;
  WorkingDir?: string;
  Entrypoint?: string[];
  NetworkDisabled?: boolean | null;
  MacAddress?: string | null;
  OnBuild?: string[] | null;
  Labels?: Record<string, string>;
  StopSignal?: string | null;
  StopTimeout?: number | null;
  Shell?: string[] | null;
}

/** Container configuration that depends on the host we are running on */
export interface HostConfig extends Resources {
  Binds?: string[];
  ContainerIDFile?: string;
  LogConfig?: {
    /** "json-file", "local", "journald", "none", ...; the docker CLI sends "" for the daemon's default. */
    Type?: string;
    Config?: Record<string, string>;
  };
  NetworkMode?: string;
  PortBindings?: PortMap;
  RestartPolicy?: RestartPolicy;
  AutoRemove?: boolean;
  VolumeDriver?: string;
  VolumesFrom?: string[];
  Mounts?: Mount[];
  /** [height, width] of the TTY at creation. */
  ConsoleSize?: [number, number] | null;
  Annotations?: Record<string, string>;
  CapAdd?: string[];
  CapDrop?: string[];
  CgroupnsMode?: "private" | "host";
  Dns?: string[];
  DnsOptions?: string[];
  DnsSearch?: string[];
  ExtraHosts?: string[];
  GroupAdd?: string[];
  IpcMode?: string;
  Cgroup?: string;
  Links?: string[];
  OomScoreAdj?: number;
  PidMode?: string;
  Privileged?: boolean;
  PublishAllPorts?: boolean;
  ReadonlyRootfs?: boolean;
  SecurityOpt?: string[];
  StorageOpt?: Record<string, string>;
  Tmpfs?: Record<string, string>;
  UTSMode?: string;
  UsernsMode?: string;
  ShmSize?: number;
  Sysctls?: Record<string, string>;
  Runtime?: string;
  /** Linux: "" / "default", "process" (the host's kernel), "sandbox" or "hyperv" (a gVisor sandbox). */
  Isolation?: "default" | "process" | "hyperv" | "sandbox" | "";
  MaskedPaths?: string[];
  ReadonlyPaths?: string[];
}

/** A container's resources (cgroups config, ulimits, etc) */
export interface Resources {
  CpuShares?: number;
  Memory?: number;
  CgroupParent?: string;
  BlkioWeight?: number;
  BlkioWeightDevice?: {
    Path?: string;
    Weight?: number;
  }[];
  BlkioDeviceReadBps?: ThrottleDevice[];
  BlkioDeviceWriteBps?: ThrottleDevice[];
  BlkioDeviceReadIOps?: ThrottleDevice[];
  BlkioDeviceWriteIOps?: ThrottleDevice[];
  CpuPeriod?: number;
  CpuQuota?: number;
  CpuRealtimePeriod?: number;
  CpuRealtimeRuntime?: number;
  CpusetCpus?: string;
  CpusetMems?: string;
  Devices?: DeviceMapping[];
  DeviceCgroupRules?: string[];
  DeviceRequests?: DeviceRequest[];
  KernelMemoryTCP?: number;
  MemoryReservation?: number;
  MemorySwap?: number;
  MemorySwappiness?: number;
  NanoCpus?: number;
  OomKillDisable?: boolean;
  Init?: boolean | null;
  PidsLimit?: number | null;
  Ulimits?: {
    Name?: string;
    Soft?: number;
    Hard?: number;
  }[];
  CpuCount?: number;
  CpuPercent?: number;
  IOMaximumIOps?: number;
  IOMaximumBandwidth?: number;
}

/** Rate limit for one block device. */
export interface ThrottleDevice {
  Path?: string;
  Rate?: number;
}

/** A device mapping between the host and container */
export interface DeviceMapping {
  PathOnHost?: string;
  PathInContainer?: string;
  CgroupPermissions?: string;
}

/** A request for devices to be sent to device drivers */
export interface DeviceRequest {
  Driver?: string;
  Count?: number;
  DeviceIDs?: string[];
  Capabilities?: string[][];
  Options?: Record<string, string>;
}

/** The behavior to apply when the container exits. The default is not to */
export interface RestartPolicy {
  Name?: "" | "no" | "always" | "unless-stopped" | "on-failure";
  MaximumRetryCount?: number;
}

/** A test to perform to check that the container is healthy. */
export interface HealthConfig {
  Test?: string[];
  Interval?: number;
  Timeout?: number;
  Retries?: number;
  StartPeriod?: number;
  StartInterval?: number;
}

/** A mount requested in `HostConfig.Mounts`. */
export interface Mount {
  Target?: string;
  Source?: string;
  Type?: MountType;
  ReadOnly?: boolean;
  Consistency?: string;
  BindOptions?: {
    Propagation?: "private" | "rprivate" | "shared" | "rshared" | "slave" | "rslave";
    NonRecursive?: boolean;
    CreateMountpoint?: boolean;
    ReadOnlyNonRecursive?: boolean;
    ReadOnlyForceRecursive?: boolean;
  };
  VolumeOptions?: {
    NoCopy?: boolean;
    Labels?: Record<string, string>;
    DriverConfig?: {
      Name?: string;
      Options?: Record<string, string>;
    };
    Subpath?: string;
  };
  TmpfsOptions?: {
    SizeBytes?: number;
    Mode?: number;
    Options?: string[][];
  };
}

/** The mount type. Available types: */
export type MountType = "bind" | "cluster" | "npipe" | "tmpfs" | "volume";

/** MountPoint represents a mount point configuration inside the container. */
export interface MountPoint {
  Type: MountType;
  Name?: string;
  Source: string;
  Destination: string;
  Driver?: string;
  Mode: string;
  RW: boolean;
  Propagation: string;
}

/** OK response to ContainerCreate operation */
export interface ContainerCreateResponse {
  Id: string;
  Warnings: string[];
}

/** One entry of `GET /containers/json`. */
export interface ContainerSummary {
  Id: string;
  Names: string[];
  Image: string;
  ImageID: string;
  Command: string;
  Created: number;
  Ports: Port[];
  SizeRw?: number;
  SizeRootFs?: number;
  Labels: Record<string, string>;
  State: string;
  Status: string;
  HostConfig: {
    NetworkMode?: string;
    Annotations?: Record<string, string> | null;
  };
  NetworkSettings: {
    Networks?: Record<string, EndpointSettings>;
  };
  Mounts: MountPoint[];
}

/** Body of `GET /containers/{id}/json`. */
export interface ContainerInspectResponse {
  Id: string;
  Created: string;
  Path: string;
  Args: string[];
  State: ContainerState;
  Image: string;
  ResolvConfPath: string;
  HostnamePath: string;
  HostsPath: string;
  LogPath: string;
  Name: string;
  RestartCount: number;
  Driver: string;
  Platform: string;
  MountLabel: string;
  ProcessLabel: string;
  AppArmorProfile: string;
  ExecIDs: string[] | null;
  HostConfig: HostConfig;
  GraphDriver: DriverData;
  SizeRw?: number;
  SizeRootFs?: number;
  Mounts: MountPoint[];
  Config: ContainerConfig;
  NetworkSettings: NetworkSettings;
}

/** ContainerState stores container's running state. It's part of ContainerJSONBase */
export interface ContainerState {
  Status: "created" | "running" | "paused" | "restarting" | "removing" | "exited" | "dead";
  Running: boolean;
  Paused: boolean;
  Restarting: boolean;
  OOMKilled: boolean;
  Dead: boolean;
  Pid: number;
  ExitCode: number;
  Error: string;
  StartedAt: string;
  FinishedAt: string;
  Health?: Health;
}

/** Health stores information about the container's healthcheck results. */
export interface Health {
  Status?: "none" | "starting" | "healthy" | "unhealthy";
  FailingStreak?: number;
  Log?: HealthcheckResult[];
}

/** HealthcheckResult stores information about a single run of a healthcheck probe */
export interface HealthcheckResult {
  Start?: string;
  End?: string;
  ExitCode?: number;
  Output?: string;
}

/** Information about the storage driver used to store the container's and */
export interface DriverData {
  Name: string;
  Data: Record<string, string>;
}

/** OK response to ContainerTop operation */
export interface ContainerTopResponse {
  Titles: string[];
  Processes: string[][];
}

/** `condition` of `POST /containers/{id}/wait`. */
export type WaitCondition = "not-running" | "next-exit" | "removed";

/** OK response to ContainerWait operation */
export interface ContainerWaitResponse {
  StatusCode: number;
  Error?: ContainerWaitExitError | null;
}

/** container waiting error, if any */
export interface ContainerWaitExitError {
  Message?: string;
}

/** `POST /containers/{id}/update` body. */
export interface ContainerUpdateRequest extends Resources {
  RestartPolicy?: RestartPolicy;
}

/** `POST /containers/prune`. */
export interface ContainerPruneResponse {
  ContainersDeleted: string[] | null;
  SpaceReclaimed: number;
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
