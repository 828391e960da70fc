// Docker Engine API v1.47 wire shapes: version, info, events, auth, disk usage. Field names are Docker's (swagger v1.47, moby's api/types).
// Types only: no runtime code, no imports of other wharf folders, so api/, client/ and services share them.
import type { FiltersParam } from "./common.ts";
import type { ContainerSummary } from "./container.ts";
import type { ImageSummary } from "./image.ts";
import type { Volume } from "./volume.ts";

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

/** One component (Engine, runc, containerd, ...) in `GET /version`. */
export interface ComponentVersion {
  Name: string;
  Version: string;
  Details?: Record<string, string> | null;
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

/** IndexInfo contains information about a registry. */
export interface IndexInfo {
  Name?: string;
  Mirrors?: string[];
  Secure?: boolean;
  Official?: boolean;
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

/** Current local status of this node. */
export type LocalNodeState = "" | "inactive" | "pending" | "active" | "error" | "locked";

/** Represents a peer-node in the swarm */
export interface PeerNode {
  NodeID?: string;
  Addr?: string;
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

/** Query of `GET /events`: `since`/`until` are UNIX timestamps. */
export interface EventsQuery {
  since?: string;
  until?: string;
  filters?: FiltersParam;
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

/** An event as a service reports it: the bus adds the time and scope. */
export interface EventInput {
  Type: "container" | "image" | "network" | "volume" | "daemon" | "builder";
  Action: string;
  Actor: { ID: string; Attributes?: Record<string, string> };
}

/** Anything that reports events: services take this, not the bus (daemon/ passes the bus's emit in). */
export type EventSink = (e: EventInput) => void;

/** Actor describes something that generates events, like a container, network, */
export interface EventActor {
  ID: string;
  Attributes: Record<string, string>;
}

/** Registry credentials, sent base64url-encoded in `X-Registry-Auth`. */
export interface AuthConfig {
  username?: string;
  password?: string;
  email?: string;
  serveraddress?: string;
}

/** `POST /auth`. */
export interface AuthResponse {
  Status: string;
  IdentityToken?: string;
}

/** `GET /system/df`. */
export interface DiskUsage {
  LayersSize?: number;
  Images?: ImageSummary[] | null;
  Containers?: ContainerSummary[] | null;
  Volumes?: Volume[] | null;
  BuildCache?: BuildCacheRecord[] | null;
}

/** One build cache record of `GET /system/df`. */
export interface BuildCacheRecord {
  ID: string;
  Parents?: string[] | null;
  Type?: string;
  Description?: string;
  InUse: boolean;
  Shared: boolean;
  Size: number;
  CreatedAt?: string;
  LastUsedAt?: string | null;
  UsageCount?: number;
}
