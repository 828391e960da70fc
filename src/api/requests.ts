/**
 * The shapes of the request bodies routes accept, declared against their wire types with validate.ts: each
 * field's Go type as dockerd decodes it, and the value rules Docker applies before any work starts (resource
 * ranges, restart policies, port and mount specs), with Docker's messages.
 */

import type {
  AuthConfig,
  ContainerConfig,
  ContainerCreateRequest,
  EndpointSettings,
  ExecCreateRequest,
  ExecStartRequest,
  HealthConfig,
  HostConfig,
  IpamConfig,
  Mount,
  NetworkConnectRequest,
  NetworkCreateRequest,
  NetworkDisconnectRequest,
  PortBinding,
  Resources,
  RestartPolicy,
  VolumeCreateRequest,
} from "../apitypes/index.ts";
import type { UpdateRequest } from "../container/index.ts";
import {
  any,
  array,
  bool,
  type Fields,
  int,
  map,
  type Shape,
  str,
  strSlice,
  struct,
  tuple,
} from "./validate.ts";

const strings = array(str());
const labels = map(str());
const MIN_MEMORY = 6 * 1024 * 1024;

/** Docker's restart policy rules (moby's ValidateRestartPolicy). */
function restartRule(p: Partial<RestartPolicy>): string | undefined {
  const name = p.Name ?? "";
  const count = p.MaximumRetryCount ?? 0;
  if (!["", "no", "always", "unless-stopped", "on-failure"].includes(name))
    return `invalid restart policy: unknown policy '${name}'; use one of 'no', 'always', 'on-failure', or 'unless-stopped'`;
  if (name === "on-failure" && count < 0)
    return "invalid restart policy: maximum retry count cannot be negative";
  if (name !== "on-failure" && count !== 0)
    return "invalid restart policy: maximum retry count can only be used with 'on-failure'";
  return undefined;
}

const restartPolicy = struct<RestartPolicy>(
  "RestartPolicy",
  { Name: str(), MaximumRetryCount: int("int") },
  restartRule,
);

/** `80`, `80/tcp`, `8000-8010/udp` (a port or range, then an optional protocol). */
function portRule(spec: string, allowEmpty: boolean): string | undefined {
  const port = spec.split("/")[0] ?? "";
  if (port === "" && allowEmpty) return undefined;
  const m = /^(\d+)(?:-(\d+))?$/.exec(port);
  const ok =
    m &&
    Number(m[1]) <= 65535 &&
    (m[2] === undefined || (Number(m[2]) <= 65535 && Number(m[2]) >= Number(m[1])));
  return ok ? undefined : `invalid port specification: ${JSON.stringify(port)}`;
}

const portBinding = struct<PortBinding>("PortBinding", {
  HostIp: str(),
  HostPort: str((p) => portRule(p, true)),
});

/** Docker's checks of one HostConfig.Mounts entry (moby's volume/mounts validation), before any is made. */
function mountRule(m: Partial<Mount>): string | undefined {
  const type = m.Type ?? "";
  const bad = (why: string) => `invalid mount config for type ${JSON.stringify(type)}: ${why}`;
  if (!["bind", "volume", "tmpfs", "npipe", "cluster", "image"].includes(type))
    return bad("mount type unknown");
  if (!m.Target) return bad("field Target must not be empty");
  if (!m.Target.startsWith("/")) return bad(`invalid mount path: '${m.Target}' mount path must be absolute`);
  if (type === "bind" && !m.Source) return bad("field Source must not be empty");
  if (type === "tmpfs" && m.Source) return bad("field Source must not be specified");
  if (type !== "bind" && m.BindOptions) return bad("field BindOptions must not be specified");
  if (type !== "volume" && m.VolumeOptions) return bad("field VolumeOptions must not be specified");
  if (type !== "tmpfs" && m.TmpfsOptions) return bad("field TmpfsOptions must not be specified");
  return undefined;
}

const mount = struct<Mount>(
  "Mount",
  {
    Target: str(),
    Source: str(),
    Type: str(),
    ReadOnly: bool(),
    Consistency: str(),
    BindOptions: struct<NonNullable<Mount["BindOptions"]>>("BindOptions", {
      Propagation: str(),
      NonRecursive: bool(),
      CreateMountpoint: bool(),
      ReadOnlyNonRecursive: bool(),
      ReadOnlyForceRecursive: bool(),
    }),
    VolumeOptions: struct<NonNullable<Mount["VolumeOptions"]>>("VolumeOptions", {
      NoCopy: bool(),
      Labels: labels,
      DriverConfig: struct<{ Name?: string; Options?: Record<string, string> }>("Driver", {
        Name: str(),
        Options: labels,
      }),
      Subpath: str(),
    }),
    TmpfsOptions: struct<NonNullable<Mount["TmpfsOptions"]>>("TmpfsOptions", {
      SizeBytes: int("int64", (n) =>
        n < 0 ? 'invalid mount config for type "tmpfs": invalid tmpfs size' : undefined,
      ),
      Mode: int("uint32"),
      Options: array(strings),
    }),
  },
  mountRule,
);

const throttle = array(
  struct<{ Path?: string; Rate?: number }>("ThrottleDevice", { Path: str(), Rate: int("uint64") }),
);

/** The cgroup limits, shared by create and update: Go types plus Docker's ranges. */
const resourceFields: Partial<Fields<Resources>> = {
  CpuShares: int("int64"),
  Memory: int("int64", (n) =>
    n !== 0 && n < MIN_MEMORY ? "Minimum memory limit allowed is 6MB" : undefined,
  ),
  CgroupParent: str(),
  BlkioWeight: int("uint16", (n) =>
    n > 0 && (n < 10 || n > 1000) ? "Range of blkio weight is from 10 to 1000" : undefined,
  ),
  BlkioWeightDevice: array(
    struct<{ Path?: string; Weight?: number }>("WeightDevice", { Path: str(), Weight: int("uint16") }),
  ),
  BlkioDeviceReadBps: throttle,
  BlkioDeviceWriteBps: throttle,
  BlkioDeviceReadIOps: throttle,
  BlkioDeviceWriteIOps: throttle,
  CpuPeriod: int("int64"),
  CpuQuota: int("int64"),
  CpuRealtimePeriod: int("int64"),
  CpuRealtimeRuntime: int("int64"),
  CpusetCpus: str(),
  CpusetMems: str(),
  Devices: array(any("container.DeviceMapping")),
  DeviceCgroupRules: strings,
  DeviceRequests: array(any("container.DeviceRequest")),
  KernelMemoryTCP: int("int64"),
  MemoryReservation: int("int64", (n) => (n < 0 ? "Minimum memory reservation allowed is 6MB" : undefined)),
  MemorySwap: int("int64"),
  MemorySwappiness: int("int64"),
  NanoCpus: int("int64"),
  OomKillDisable: bool(),
  Init: bool(),
  PidsLimit: int("int64"),
  Ulimits: array(
    struct<{ Name?: string; Soft?: number; Hard?: number }>("Ulimit", {
      Name: str(),
      Soft: int("int64"),
      Hard: int("int64"),
    }),
  ),
  CpuCount: int("int64"),
  CpuPercent: int("int64"),
  IOMaximumIOps: int("uint64"),
  IOMaximumBandwidth: int("uint64"),
};

const hostConfig = struct<HostConfig>("HostConfig", {
  ...(resourceFields as Partial<Fields<HostConfig>>),
  Binds: strings,
  ContainerIDFile: str(),
  LogConfig: struct<NonNullable<HostConfig["LogConfig"]>>("LogConfig", { Type: str(), Config: labels }),
  NetworkMode: str(),
  PortBindings: map(array(portBinding), (k) => portRule(k, false)),
  RestartPolicy: restartPolicy,
  AutoRemove: bool(),
  VolumeDriver: str(),
  VolumesFrom: strings,
  Mounts: array(mount),
  ConsoleSize: tuple(2, int("uint")),
  Annotations: labels,
  CapAdd: strings,
  CapDrop: strings,
  CgroupnsMode: str(),
  Dns: strings,
  DnsOptions: strings,
  DnsSearch: strings,
  ExtraHosts: strings,
  GroupAdd: strings,
  IpcMode: str(),
  Cgroup: str(),
  Links: strings,
  OomScoreAdj: int("int", (n) =>
    n < -1000 || n > 1000 ? `Invalid value ${n}, range for oom score adj is [-1000, 1000]` : undefined,
  ),
  PidMode: str(),
  Privileged: bool(),
  PublishAllPorts: bool(),
  ReadonlyRootfs: bool(),
  SecurityOpt: strings,
  StorageOpt: labels,
  Tmpfs: labels,
  UTSMode: str(),
  UsernsMode: str(),
  ShmSize: int("int64", (n) => (n < 0 ? "SHM size can not be less than 0" : undefined)),
  Sysctls: labels,
  Runtime: str(),
  Isolation: str(),
  MaskedPaths: strings,
  ReadonlyPaths: strings,
});

const healthcheck = struct<HealthConfig>("HealthConfig", {
  Test: strings,
  Interval: int("int64"),
  Timeout: int("int64"),
  Retries: int("int"),
  StartPeriod: int("int64"),
  StartInterval: int("int64"),
});

const configFields: Partial<Fields<ContainerConfig>> = {
  Hostname: str(),
  Domainname: str(),
  User: str(),
  AttachStdin: bool(),
  AttachStdout: bool(),
  AttachStderr: bool(),
  ExposedPorts: map(any("struct {}"), (k) => portRule(k, false)),
  Tty: bool(),
  OpenStdin: bool(),
  StdinOnce: bool(),
  Env: strings,
  Cmd: strSlice(),
  Healthcheck: healthcheck,
  ArgsEscaped: bool(),
  Image: str(),
  Volumes: map(any("struct {}")),
  WorkingDir: str(),
  Entrypoint: strSlice(),
  NetworkDisabled: bool(),
  MacAddress: str(),
  OnBuild: strings,
  Labels: labels,
  StopSignal: str(),
  StopTimeout: int("int"),
  Shell: strSlice(),
};

/** One network endpoint of a container (create's EndpointsConfig, network connect). */
const endpointSettings = struct<EndpointSettings>("network.EndpointSettings", {
  IPAMConfig: struct<NonNullable<EndpointSettings["IPAMConfig"]>>("network.EndpointIPAMConfig", {
    IPv4Address: str(),
    IPv6Address: str(),
    LinkLocalIPs: strings,
  }),
  Links: strings,
  Aliases: strings,
  MacAddress: str(),
  DriverOpts: labels,
  NetworkID: str(),
  EndpointID: str(),
  Gateway: str(),
  IPAddress: str(),
  IPPrefixLen: int("int"),
  IPv6Gateway: str(),
  GlobalIPv6Address: str(),
  GlobalIPv6PrefixLen: int("int"),
  DNSNames: strings,
});

/** POST /containers/create. */
export const containerCreateShape: Shape = struct<ContainerCreateRequest>("CreateRequest", {
  ...(configFields as Partial<Fields<ContainerCreateRequest>>),
  HostConfig: hostConfig,
  NetworkingConfig: struct<NonNullable<ContainerCreateRequest["NetworkingConfig"]>>("NetworkingConfig", {
    EndpointsConfig: map(endpointSettings),
  }),
});

/** POST /containers/{id}/update: the resources and the restart policy. */
export const containerUpdateShape: Shape = struct<UpdateRequest>("UpdateConfig", {
  ...(resourceFields as Partial<Fields<UpdateRequest>>),
  RestartPolicy: restartPolicy,
});

/** POST /containers/{id}/exec. */
export const execCreateShape: Shape = struct<ExecCreateRequest>("ExecOptions", {
  AttachStdin: bool(),
  AttachStdout: bool(),
  AttachStderr: bool(),
  ConsoleSize: tuple(2, int("uint")),
  DetachKeys: str(),
  Tty: bool(),
  Env: strings,
  Cmd: strings,
  Privileged: bool(),
  User: str(),
  WorkingDir: str(),
});

/** POST /exec/{id}/start. */
export const execStartShape: Shape = struct<ExecStartRequest>("types.ExecStartCheck", {
  Detach: bool(),
  Tty: bool(),
  ConsoleSize: tuple(2, int("uint")),
});

/** POST /commit: the image config to apply. */
export const commitConfigShape: Shape = struct<ContainerConfig>(
  "runconfig.ContainerConfigWrapper",
  configFields,
);

/** POST /auth. */
export const authConfigShape: Shape = struct<AuthConfig>("types.AuthConfig", {
  username: str(),
  password: str(),
  email: str(),
  serveraddress: str(),
});

/** POST /networks/create: Go types, plus dockerd's early checks (a name, parseable IPAM addresses). */
export const networkCreateShape: Shape = struct<NetworkCreateRequest>("types.NetworkCreateRequest", {
  Name: str(),
  CheckDuplicate: bool(),
  Driver: str(),
  Scope: str(),
  Internal: bool(),
  Attachable: bool(),
  Ingress: bool(),
  ConfigOnly: bool(),
  ConfigFrom: struct<NonNullable<NetworkCreateRequest["ConfigFrom"]>>("network.ConfigReference", {
    Network: str(),
  }),
  IPAM: struct<NonNullable<NetworkCreateRequest["IPAM"]>>("network.IPAM", {
    Driver: str(),
    Config: array(
      struct<IpamConfig>("network.IPAMConfig", {
        Subnet: str(),
        IPRange: str(),
        Gateway: str(),
        AuxiliaryAddresses: labels,
      }),
    ),
    Options: labels,
  }),
  EnableIPv4: bool(),
  EnableIPv6: bool(),
  Options: labels,
  Labels: labels,
});

/** POST /networks/{id}/connect. */
export const networkConnectShape: Shape = struct<NetworkConnectRequest>("types.NetworkConnect", {
  Container: str(),
  EndpointConfig: endpointSettings,
});

/** POST /networks/{id}/disconnect. */
export const networkDisconnectShape: Shape = struct<NetworkDisconnectRequest>("types.NetworkDisconnect", {
  Container: str(),
  Force: bool(),
});

/** POST /volumes/create. */
export const volumeCreateShape: Shape = struct<VolumeCreateRequest>("volume.VolumeCreateBody", {
  Name: str(),
  Driver: str(),
  DriverOpts: labels,
  Labels: labels,
});

/**
 * Turns the one-string form of Docker's StrSlice fields (`"Cmd": "ls"`, which dockerd accepts) into the
 * array the services take, once the body passed its shape.
 */
export function normalizeStrSlices<T extends object>(cfg: T): T {
  const o = cfg as Record<string, unknown>;
  for (const k of ["Cmd", "Entrypoint", "Shell"]) if (typeof o[k] === "string") o[k] = [o[k]];
  return cfg;
}
