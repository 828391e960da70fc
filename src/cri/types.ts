/**
 * The CRI messages as codec.ts decodes them (camelCase, defaults filled in, absent messages null) and as
 * handlers return them. int64 values wharf sends as nanosecond timestamps are decimal strings (exact).
 */

/** int64 as a handler may give it: a number, or a decimal string when it may exceed 2^53. */
export type Int64 = number | string;

export interface Int64Value {
  value: number;
}
export interface UInt64Value {
  value: Int64;
}

export interface DNSConfig {
  servers: string[];
  searches: string[];
  options: string[];
}

/** Protocol enum: 0 TCP, 1 UDP, 2 SCTP. */
export interface PortMapping {
  protocol: number;
  containerPort: number;
  hostPort: number;
  hostIp: string;
}

/** MountPropagation: 0 private, 1 host-to-container, 2 bidirectional. */
export interface Mount {
  containerPath: string;
  hostPath: string;
  readonly: boolean;
  selinuxRelabel: boolean;
  propagation: number;
}

/** NamespaceMode values. */
export const NamespaceMode = { POD: 0, CONTAINER: 1, NODE: 2, TARGET: 3 } as const;

export interface NamespaceOption {
  network: number;
  pid: number;
  ipc: number;
  targetId: string;
}

/** SecurityProfile.ProfileType: 0 RuntimeDefault, 1 Unconfined, 2 Localhost. */
export interface SecurityProfile {
  profileType: number;
  localhostRef: string;
}

export interface LinuxSandboxSecurityContext {
  namespaceOptions: NamespaceOption | null;
  runAsUser: Int64Value | null;
  runAsGroup: Int64Value | null;
  readonlyRootfs: boolean;
  supplementalGroups: number[];
  privileged: boolean;
  seccompProfilePath: string;
  seccomp: SecurityProfile | null;
  apparmor: SecurityProfile | null;
}

export interface LinuxContainerResources {
  cpuPeriod: number;
  cpuQuota: number;
  cpuShares: number;
  memoryLimitInBytes: number;
  oomScoreAdj: number;
  cpusetCpus: string;
  cpusetMems: string;
  unified: Record<string, string>;
  memorySwapLimitInBytes: number;
}

export interface LinuxPodSandboxConfig {
  cgroupParent: string;
  securityContext: LinuxSandboxSecurityContext | null;
  sysctls: Record<string, string>;
  overhead: LinuxContainerResources | null;
  resources: LinuxContainerResources | null;
}

export interface PodSandboxMetadata {
  name: string;
  uid: string;
  namespace: string;
  attempt: number;
}

export interface PodSandboxConfig {
  metadata: PodSandboxMetadata | null;
  hostname: string;
  logDirectory: string;
  dnsConfig: DNSConfig | null;
  portMappings: PortMapping[];
  labels: Record<string, string>;
  annotations: Record<string, string>;
  linux: LinuxPodSandboxConfig | null;
}

export interface ImageSpec {
  image: string;
  annotations: Record<string, string>;
  userSpecifiedImage?: string;
  runtimeHandler?: string;
}

export interface Capability {
  addCapabilities: string[];
  dropCapabilities: string[];
  addAmbientCapabilities: string[];
}

export interface LinuxContainerSecurityContext {
  capabilities: Capability | null;
  privileged: boolean;
  namespaceOptions: NamespaceOption | null;
  runAsUser: Int64Value | null;
  runAsUsername: string;
  runAsGroup: Int64Value | null;
  readonlyRootfs: boolean;
  supplementalGroups: number[];
  apparmorProfile: string;
  seccompProfilePath: string;
  noNewPrivs: boolean;
  maskedPaths: string[];
  readonlyPaths: string[];
  seccomp: SecurityProfile | null;
  apparmor: SecurityProfile | null;
}

export interface ContainerMetadata {
  name: string;
  attempt: number;
}

export interface ContainerConfig {
  metadata: ContainerMetadata | null;
  image: ImageSpec | null;
  command: string[];
  args: string[];
  workingDir: string;
  envs: { key: string; value: string }[];
  mounts: Mount[];
  devices: { containerPath: string; hostPath: string; permissions: string }[];
  labels: Record<string, string>;
  annotations: Record<string, string>;
  logPath: string;
  stdin: boolean;
  stdinOnce: boolean;
  tty: boolean;
  linux: {
    resources: LinuxContainerResources | null;
    securityContext: LinuxContainerSecurityContext | null;
  } | null;
}

/** PodSandboxState: 0 ready, 1 not ready. */
export const SandboxState = { READY: 0, NOTREADY: 1 } as const;
/** ContainerState values. */
export const ContainerState = { CREATED: 0, RUNNING: 1, EXITED: 2, UNKNOWN: 3 } as const;

export interface PodSandbox {
  id: string;
  metadata: PodSandboxMetadata;
  state: number;
  createdAt: Int64;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  runtimeHandler: string;
}

export interface PodSandboxStatus extends PodSandbox {
  network: { ip: string; additionalIps: { ip: string }[] } | null;
  linux: { namespaces: { options: NamespaceOption } } | null;
}

export interface Container {
  id: string;
  podSandboxId: string;
  metadata: ContainerMetadata;
  image: ImageSpec;
  imageRef: string;
  state: number;
  createdAt: Int64;
  labels: Record<string, string>;
  annotations: Record<string, string>;
}

export interface ContainerStatus {
  id: string;
  metadata: ContainerMetadata;
  state: number;
  createdAt: Int64;
  startedAt: Int64;
  finishedAt: Int64;
  exitCode: number;
  image: ImageSpec;
  imageRef: string;
  reason: string;
  message: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  mounts: Mount[];
  logPath: string;
  resources: { linux: Partial<LinuxContainerResources> } | null;
}

export interface Image {
  id: string;
  repoTags: string[];
  repoDigests: string[];
  size: Int64;
  uid: Int64Value | null;
  username: string;
  spec: ImageSpec | null;
  pinned: boolean;
}

export interface FilesystemUsage {
  timestamp: Int64;
  fsId: { mountpoint: string };
  usedBytes: UInt64Value;
  inodesUsed: UInt64Value;
}

export interface CpuUsage {
  timestamp: Int64;
  usageCoreNanoSeconds: UInt64Value | null;
  usageNanoCores: UInt64Value | null;
}

export interface MemoryUsage {
  timestamp: Int64;
  workingSetBytes: UInt64Value | null;
  availableBytes: UInt64Value | null;
  usageBytes: UInt64Value | null;
  rssBytes: UInt64Value | null;
  pageFaults: UInt64Value | null;
  majorPageFaults: UInt64Value | null;
}

export interface ContainerStats {
  attributes: {
    id: string;
    metadata: ContainerMetadata;
    labels: Record<string, string>;
    annotations: Record<string, string>;
  };
  cpu: CpuUsage | null;
  memory: MemoryUsage | null;
  writableLayer: FilesystemUsage | null;
}

export interface PodSandboxStats {
  attributes: {
    id: string;
    metadata: PodSandboxMetadata;
    labels: Record<string, string>;
    annotations: Record<string, string>;
  };
  linux: {
    cpu: CpuUsage | null;
    memory: MemoryUsage | null;
    network: unknown;
    process: { timestamp: Int64; processCount: UInt64Value } | null;
    containers: ContainerStats[];
  };
}

export interface AuthConfig {
  username: string;
  password: string;
  auth: string;
  serverAddress: string;
  identityToken: string;
  registryToken: string;
}
