/**
 * JSON shapes of the Docker Engine API v1.47 used by the engine core, with Docker's exact field names
 * (from moby's api/docs/v1.47.yaml). Shared by the daemon's `api/` layer and the `client/`.
 * Types only: this module has no runtime code.
 *
 * Optional fields (`?`) are ones Docker omits or a client may leave out; required ones Docker always sends.
 */

/** Body of `POST /containers/create`: the container config plus host and networking config. */
export interface ContainerCreateRequest extends ContainerConfig {
  HostConfig?: HostConfig;
  NetworkingConfig?: NetworkingConfig;
}

/** Alias under the name Go gives it (`image.HistoryResponseItem`). */
export type HistoryResponseItem = ImageHistoryResponseItem;

/** One component (Engine, runc, containerd, ...) in `GET /version`. */
export interface ComponentVersion {
  Name: string;
  Version: string;
  Details?: Record<string, string> | null;
}

/**
 * One line of a JSON-lines progress stream (pull, push, import, load, build): Docker's `jsonmessage.JSONMessage`.
 * A line with `error`/`errorDetail` ends the operation with that error.
 */
export interface JSONMessage {
  stream?: string;
  status?: string;
  progress?: string;
  progressDetail?: ProgressDetail;
  id?: string;
  from?: string;
  time?: number;
  timeNano?: number;
  error?: string;
  errorDetail?: ErrorDetail;
  aux?: Record<string, unknown>;
}

/**
 * The `filters` query parameter after JSON-decoding: `{"label":["k=v"],"status":["running"]}`;
 * old clients send the map form `{"label":{"k=v":true}}`.
 */
export type FiltersParam = Record<string, string[] | Record<string, boolean>>;

/** Stream numbers in the 8-byte header of a multiplexed attach/logs/exec stream. */
export type StdStreamType = 0 | 1 | 2;

/** `condition` of `POST /containers/{id}/wait`. */
export type WaitCondition = "not-running" | "next-exit" | "removed";

// Query parameters. These are the decoded meanings; on the wire every value is a string,
// booleans as "1"/"0"/"true"/"false", and `filters` is a JSON-encoded FiltersParam.

/** Query of `POST /containers/create`. */
export interface ContainerCreateQuery {
  name?: string;
  platform?: string;
}

/** Query of `GET /containers/json`. */
export interface ContainerListQuery {
  all?: boolean;
  limit?: number;
  size?: boolean;
  filters?: FiltersParam;
}

/** Query of `GET /containers/{id}/json`. */
export interface ContainerInspectQuery {
  size?: boolean;
}

/**
 * Query of `GET /containers/{id}/logs`. `since`/`until` are UNIX seconds, as a number or docker's
 * `"<seconds>.<nanoseconds>"` string; `tail` is a count or "all".
 */
export interface ContainerLogsQuery {
  follow?: boolean;
  stdout?: boolean;
  stderr?: boolean;
  since?: number | string;
  until?: number | string;
  timestamps?: boolean;
  tail?: string;
}

/** Query of `POST /containers/{id}/attach` (hijacked) and `GET /containers/{id}/attach/ws`. */
export interface ContainerAttachQuery {
  detachKeys?: string;
  logs?: boolean;
  stream?: boolean;
  stdin?: boolean;
  stdout?: boolean;
  stderr?: boolean;
}

/** Query of `POST /containers/{id}/start`. */
export interface ContainerStartQuery {
  detachKeys?: string;
}

/** Query of `POST /containers/{id}/wait`. */
export interface ContainerWaitQuery {
  condition?: WaitCondition;
}

/** Query of `POST /containers/{id}/stop` and `/restart`: `t` is seconds to wait before killing (-1: wait forever). */
export interface ContainerStopQuery {
  signal?: string;
  t?: number;
}

/** Query of `POST /containers/{id}/kill`; the signal defaults to SIGKILL. */
export interface ContainerKillQuery {
  signal?: string;
}

/** Query of `DELETE /containers/{id}`: `v` removes anonymous volumes, `force` kills a running container first. */
export interface ContainerRemoveQuery {
  v?: boolean;
  force?: boolean;
  link?: boolean;
}

/** Query of `POST /containers/{id}/resize` and `/exec/{id}/resize`. */
export interface ContainerResizeQuery {
  h: number;
  w: number;
}

/** Query of `GET /containers/{id}/top`. */
export interface ContainerTopQuery {
  ps_args?: string;
}

/** Query of `GET /images/json`. */
export interface ImageListQuery {
  all?: boolean;
  filters?: FiltersParam;
  "shared-size"?: boolean;
  digests?: boolean;
  manifests?: boolean;
}

/** Query of `POST /images/create`: pull (`fromImage`) or import (`fromSrc`, "-" for the request body). */
export interface ImageCreateQuery {
  fromImage?: string;
  fromSrc?: string;
  repo?: string;
  tag?: string;
  message?: string;
  /** Dockerfile instructions applied to an imported image; repeated in the query string. */
  changes?: string[];
  platform?: string;
}

/** Query of `POST /images/{name}/tag`. */
export interface ImageTagQuery {
  repo?: string;
  tag?: string;
}

/** Query of `DELETE /images/{name}`. */
export interface ImageDeleteQuery {
  force?: boolean;
  noprune?: boolean;
}

/** Query of `GET /events`: `since`/`until` are UNIX timestamps. */
export interface EventsQuery {
  since?: string;
  until?: string;
  filters?: FiltersParam;
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
  Isolation?: "default" | "process" | "hyperv" | "";
  MaskedPaths?: string[];
  ReadonlyPaths?: string[];
}

/** NetworkingConfig represents the container's networking configuration for */
export interface NetworkingConfig {
  EndpointsConfig?: Record<string, EndpointSettings>;
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

/** OK response to ContainerWait operation */
export interface ContainerWaitResponse {
  StatusCode: number;
  Error?: ContainerWaitExitError | null;
}

/** One entry of `GET /images/json`. */
export interface ImageSummary {
  Id: string;
  ParentId: string;
  RepoTags: string[];
  RepoDigests: string[];
  Created: number;
  Size: number;
  SharedSize: number;
  Labels: Record<string, string>;
  Containers: number;
  Manifests?: ImageManifestSummary[];
}

/** Information about an image in the local image cache. */
export interface ImageInspect {
  Id: string;
  RepoTags: string[];
  RepoDigests: string[];
  Parent: string;
  Comment: string;
  Created: string | null;
  DockerVersion: string;
  Author: string;
  Config: ImageConfig;
  /** Removed from Docker's answer in API 1.45, but docker-compose 1.29 reads it (its Volumes) at any version. */
  ContainerConfig?: ImageConfig;
  Architecture: string;
  Variant?: string | null;
  Os: string;
  OsVersion?: string | null;
  Size: number;
  GraphDriver: DriverData;
  RootFS: {
    Type: string;
    Layers?: string[];
  };
  Metadata: {
    LastTagTime?: string | null;
  };
}

/** One entry of `DELETE /images/{name}`: either Untagged or Deleted is set. */
export interface ImageDeleteResponseItem {
  Untagged?: string;
  Deleted?: string;
}

/** individual image layer information in response to ImageHistory operation */
export interface ImageHistoryResponseItem {
  Id: string;
  Created: number;
  CreatedBy: string;
  Tags: string[];
  Size: number;
  Comment: string;
}

/** Response of Engine API: GET "/version" */
export interface SystemVersion {
  Platform?: {
    Name: string;
  };
  Components?: ComponentVersion[];
  Version: string;
  ApiVersion: string;
  MinAPIVersion: string;
  GitCommit: string;
  GoVersion: string;
  Os: string;
  Arch: string;
  KernelVersion?: string;
  Experimental?: boolean;
  BuildTime?: string;
}

/** Body of `GET /info`. */
export interface SystemInfo {
  ID?: string;
  Containers?: number;
  ContainersRunning?: number;
  ContainersPaused?: number;
  ContainersStopped?: number;
  Images?: number;
  Driver?: string;
  DriverStatus?: string[][];
  DockerRootDir?: string;
  Plugins?: PluginsInfo;
  MemoryLimit?: boolean;
  SwapLimit?: boolean;
  KernelMemoryTCP?: boolean;
  CpuCfsPeriod?: boolean;
  CpuCfsQuota?: boolean;
  CPUShares?: boolean;
  CPUSet?: boolean;
  PidsLimit?: boolean;
  OomKillDisable?: boolean;
  IPv4Forwarding?: boolean;
  BridgeNfIptables?: boolean;
  BridgeNfIp6tables?: boolean;
  Debug?: boolean;
  NFd?: number;
  NGoroutines?: number;
  SystemTime?: string;
  LoggingDriver?: string;
  CgroupDriver?: "cgroupfs" | "systemd" | "none";
  CgroupVersion?: "1" | "2";
  NEventsListener?: number;
  KernelVersion?: string;
  OperatingSystem?: string;
  OSVersion?: string;
  OSType?: string;
  Architecture?: string;
  NCPU?: number;
  MemTotal?: number;
  IndexServerAddress?: string;
  RegistryConfig?: RegistryServiceConfig;
  GenericResources?: GenericResources;
  HttpProxy?: string;
  HttpsProxy?: string;
  NoProxy?: string;
  Name?: string;
  Labels?: string[];
  ExperimentalBuild?: boolean;
  ServerVersion?: string;
  Runtimes?: Record<string, Runtime>;
  DefaultRuntime?: string;
  Swarm?: SwarmInfo;
  LiveRestoreEnabled?: boolean;
  Isolation?: "default" | "hyperv" | "process" | "";
  InitBinary?: string;
  ContainerdCommit?: Commit;
  RuncCommit?: Commit;
  InitCommit?: Commit;
  SecurityOptions?: string[];
  ProductLicense?: string;
  DefaultAddressPools?: {
    Base?: string;
    Size?: number;
  }[];
  Warnings?: string[];
  CDISpecDirs?: string[];
  Containerd?: ContainerdInfo;
}

/** Represents an error. */
export interface ErrorResponse {
  message: string;
}

/** Response to an API call that returns just an Id */
export interface IdResponse {
  Id: string;
}

/** EventMessage represents the information an event contains. */
export interface EventMessage {
  Type:
    | "builder"
    | "config"
    | "container"
    | "daemon"
    | "image"
    | "network"
    | "node"
    | "plugin"
    | "secret"
    | "service"
    | "volume";
  Action: string;
  Actor: EventActor;
  scope?: "local" | "swarm";
  time: number;
  timeNano: number;
}

/** One JSON line of `POST /images/create` (pull or import) progress. */
export interface CreateImageInfo {
  id?: string;
  error?: string;
  errorDetail?: ErrorDetail;
  status?: string;
  progress?: string;
  progressDetail?: ProgressDetail;
}

/** One JSON line of `POST /images/{name}/push` progress. */
export interface PushImageInfo {
  error?: string;
  status?: string;
  progress?: string;
  progressDetail?: ProgressDetail;
}

/** Registry credentials, sent base64url-encoded in `X-Registry-Auth`. */
export interface AuthConfig {
  username?: string;
  password?: string;
  email?: string;
  serveraddress?: string;
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

/** PortMap describes the mapping of container ports to host ports, using the */
export type PortMap = Record<string, PortBinding[] | null>;

/** The behavior to apply when the container exits. The default is not to */
export interface RestartPolicy {
  Name?: "" | "no" | "always" | "unless-stopped" | "on-failure";
  MaximumRetryCount?: number;
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

/** Configuration for a network endpoint. */
export interface EndpointSettings {
  IPAMConfig?: EndpointIPAMConfig;
  Links?: string[];
  MacAddress?: string;
  Aliases?: string[];
  DriverOpts?: Record<string, string> | null;
  NetworkID?: string;
  EndpointID?: string;
  Gateway?: string;
  IPAddress?: string;
  IPPrefixLen?: number;
  IPv6Gateway?: string;
  GlobalIPv6Address?: string;
  GlobalIPv6PrefixLen?: number;
  DNSNames?: string[];
}

/** An open port on a container */
export interface Port {
  IP?: string;
  PrivatePort: number;
  PublicPort?: number;
  Type: "tcp" | "udp" | "sctp";
}

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

/** container waiting error, if any */
export interface ContainerWaitExitError {
  Message?: string;
}

/** ImageManifestSummary represents a summary of an image manifest. */
export interface ImageManifestSummary {
  ID: string;
  Descriptor: OCIDescriptor;
  Available: boolean;
  Size: {
    Total: number;
    Content: number;
  };
  Kind: "image" | "attestation" | "unknown";
  ImageData?: {
    Platform: OCIPlatform;
    Containers: string[];
    Size: {
      Unpacked: number;
    };
  } | null;
  AttestationData?: {
    For: string;
  } | null;
}

/** Configuration of the image: the same fields as a container's config, used as its defaults. */
export type ImageConfig = ContainerConfig;

/** Information about the storage driver used to store the container's and */
export interface DriverData {
  Name: string;
  Data: Record<string, string>;
}

/** Available plugins per type. */
export interface PluginsInfo {
  Volume?: string[];
  Network?: string[];
  Authorization?: string[];
  Log?: string[];
}

/** RegistryServiceConfig stores daemon registry services configuration. */
export interface RegistryServiceConfig {
  AllowNondistributableArtifactsCIDRs?: string[];
  AllowNondistributableArtifactsHostnames?: string[];
  InsecureRegistryCIDRs?: string[];
  IndexConfigs?: Record<string, IndexInfo>;
  Mirrors?: string[];
}

/** User-defined resources can be either Integer resources (e.g, `SSD=3`) or */
export type GenericResources = {
  NamedResourceSpec?: {
    Kind?: string;
    Value?: string;
  };
  DiscreteResourceSpec?: {
    Kind?: string;
    Value?: number;
  };
}[];

/** Runtime describes an [OCI compliant](https://github.com/opencontainers/runtime-spec) */
export interface Runtime {
  path?: string;
  runtimeArgs?: string[] | null;
  status?: Record<string, string> | null;
}

/** Represents generic information about swarm. */
export interface SwarmInfo {
  NodeID?: string;
  NodeAddr?: string;
  LocalNodeState?: LocalNodeState;
  ControlAvailable?: boolean;
  Error?: string;
  RemoteManagers?: PeerNode[] | null;
  Nodes?: number | null;
  Managers?: number | null;
  /** Swarm cluster details; wharf has no swarm, so never set. */
  Cluster?: Record<string, unknown>;
}

/** Commit holds the Git-commit (SHA1) that a binary was built from, as */
export interface Commit {
  ID?: string;
  Expected?: string;
}

/** Information for connecting to the containerd instance that is used by the daemon. */
export interface ContainerdInfo {
  Address?: string;
  Namespaces?: {
    Containers?: string;
    Plugins?: string;
  };
}

/** Actor describes something that generates events, like a container, network, */
export interface EventActor {
  ID: string;
  Attributes: Record<string, string>;
}

/** Error carried inside a JSON-lines progress stream. */
export interface ErrorDetail {
  code?: number;
  message?: string;
}

/** Byte counts of one progress line. */
export interface ProgressDetail {
  current?: number;
  total?: number;
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

/** PortBinding represents a binding between a host IP address and a host */
export interface PortBinding {
  HostIp?: string;
  HostPort?: string;
}

/** The mount type. Available types: */
export type MountType = "bind" | "cluster" | "npipe" | "tmpfs" | "volume";

/** EndpointIPAMConfig represents an endpoint's IPAM configuration. */
export interface EndpointIPAMConfig {
  IPv4Address?: string;
  IPv6Address?: string;
  LinkLocalIPs?: string[];
}

/** A descriptor struct containing digest, media type, and size, as defined in */
export interface OCIDescriptor {
  mediaType?: string;
  digest?: string;
  size?: number;
}

/** Describes the platform which the image in the manifest runs on, as defined */
export interface OCIPlatform {
  architecture?: string;
  os?: string;
  "os.version"?: string;
  "os.features"?: string[];
  variant?: string;
}

/** IndexInfo contains information about a registry. */
export interface IndexInfo {
  Name?: string;
  Mirrors?: string[];
  Secure?: boolean;
  Official?: boolean;
}

/** Current local status of this node. */
export type LocalNodeState = "" | "inactive" | "pending" | "active" | "error" | "locked";

/** Represents a peer-node in the swarm */
export interface PeerNode {
  NodeID?: string;
  Addr?: string;
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

/** OK response to ContainerTop operation */
export interface ContainerTopResponse {
  Titles: string[];
  Processes: string[][];
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

/** NetworkSettings exposes the network settings in the API */
export interface NetworkSettings {
  Bridge?: string;
  SandboxID?: string;
  HairpinMode?: boolean;
  LinkLocalIPv6Address?: string;
  LinkLocalIPv6PrefixLen?: number;
  Ports: PortMap;
  SandboxKey?: string;
  SecondaryIPAddresses?: Address[] | null;
  SecondaryIPv6Addresses?: Address[] | null;
  EndpointID?: string;
  Gateway?: string;
  GlobalIPv6Address?: string;
  GlobalIPv6PrefixLen?: number;
  IPAddress?: string;
  IPPrefixLen?: number;
  IPv6Gateway?: string;
  MacAddress?: string;
  Networks: Record<string, EndpointSettings>;
}

/** Health stores information about the container's healthcheck results. */
export interface Health {
  Status?: "none" | "starting" | "healthy" | "unhealthy";
  FailingStreak?: number;
  Log?: HealthcheckResult[];
}

/** Address represents an IPv4 or IPv6 IP address. */
export interface Address {
  Addr?: string;
  PrefixLen?: number;
}

/** HealthcheckResult stores information about a single run of a healthcheck probe */
export interface HealthcheckResult {
  Start?: string;
  End?: string;
  ExitCode?: number;
  Output?: string;
}
