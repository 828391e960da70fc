import { readFileSync } from "node:fs";
import { cpus, hostname, release, totalmem } from "node:os";
import type { SystemInfo, SystemVersion } from "../apitypes/index.ts";
import type { KernelFiles } from "../host/index.ts";

/** The Docker Engine version wharf reports: clients compare it, so it has Docker's shape; Platform says wharf. */
export const ENGINE_VERSION = "27.5.1";
/** wharf's own version. */
export const WHARF_VERSION = "0.1.0";

function osName(): string {
  try {
    const text = readFileSync("/etc/os-release", "utf8");
    return /^PRETTY_NAME="?([^"\n]*)"?/m.exec(text)?.[1] ?? "Linux";
  } catch {
    return "Linux";
  }
}

/** GET /version. */
export function versionInfo(opts: {
  apiVersion: string;
  minApiVersion: string;
  runcVersion?: string;
}): SystemVersion {
  const details = {
    ApiVersion: opts.apiVersion,
    Arch: "amd64",
    BuildTime: "",
    Experimental: "false",
    GitCommit: "",
    GoVersion: `node ${process.version}`,
    KernelVersion: release(),
    MinAPIVersion: opts.minApiVersion,
    Os: "linux",
  };
  return {
    Platform: { Name: `wharf ${WHARF_VERSION}` },
    Components: [
      { Name: "Engine", Version: ENGINE_VERSION, Details: details },
      { Name: "runc", Version: opts.runcVersion ?? "", Details: { GitCommit: "" } },
    ],
    Version: ENGINE_VERSION,
    ApiVersion: opts.apiVersion,
    MinAPIVersion: opts.minApiVersion,
    GitCommit: "",
    GoVersion: `node ${process.version}`,
    Os: "linux",
    Arch: "amd64",
    KernelVersion: release(),
    BuildTime: "",
  };
}

/** The counts and settings GET /info reports. */
export interface InfoInput {
  id: string;
  dataRoot: string;
  containers: { total: number; running: number; paused: number; stopped: number };
  images: number;
  /** The configured OCI runtimes by name, as Docker lists them. */
  runtimes: Record<string, { path: string; runtimeArgs?: string[] }>;
  defaultRuntime: string;
  debug: boolean;
  eventListeners: number;
  cgroupVersion: "1" | "2";
  /** Where the cgroup files are probed. */
  files: KernelFiles;
  /** Docker's `name=...` entries (seccomp profile, no-new-privileges, ...); cgroupns alone when absent. */
  securityOptions?: string[];
  /** Daemon configuration warnings `docker info` prints. */
  warnings?: string[];
  /**
   * A rootless daemon: overlay with userxattr, and (`cgroups` false, as on cgroup v1) no cgroups, so no
   * limits and cgroup driver "none", as dockerd reports itself in rootless mode.
   */
  rootless?: { cgroups: boolean };
  /** The storage driver's name; overlay2 when absent. */
  driver?: string;
}

/** GET /info. */
export function systemInfo(i: InfoInput): SystemInfo {
  const has = (p: string) => {
    try {
      i.files.readSync(p);
      return true;
    } catch {
      return false;
    }
  };
  const v1 = i.cgroupVersion === "1";
  const limits = i.rootless?.cgroups !== false;
  return {
    ID: i.id,
    Containers: i.containers.total,
    ContainersRunning: i.containers.running,
    ContainersPaused: i.containers.paused,
    ContainersStopped: i.containers.stopped,
    Images: i.images,
    Driver: i.driver ?? "overlay2",
    DriverStatus: [
      ["Backing Filesystem", "extfs"],
      ["Supports d_type", "true"],
      ["Using metacopy", "false"],
      ["Native Overlay Diff", "true"],
      ["userxattr", i.rootless ? "true" : "false"],
    ],
    DockerRootDir: i.dataRoot,
    Plugins: {
      Volume: ["local"],
      Network: ["bridge", "host", "null"],
      Authorization: [],
      Log: ["json-file", "k8s-file", "local", "none"],
    },
    MemoryLimit: limits,
    SwapLimit: limits && (v1 ? has("/sys/fs/cgroup/memory/memory.memsw.limit_in_bytes") : true),
    KernelMemoryTCP: false,
    CpuCfsPeriod: limits,
    CpuCfsQuota: limits,
    CPUShares: limits,
    CPUSet: limits,
    PidsLimit: limits,
    OomKillDisable: limits && v1,
    IPv4Forwarding: true,
    BridgeNfIptables: true,
    BridgeNfIp6tables: true,
    Debug: i.debug,
    NFd: 0,
    NGoroutines: 0,
    SystemTime: new Date().toISOString(),
    LoggingDriver: "json-file",
    CgroupDriver: limits ? "cgroupfs" : "none",
    CgroupVersion: i.cgroupVersion,
    NEventsListener: i.eventListeners,
    KernelVersion: release(),
    OperatingSystem: osName(),
    OSVersion: "",
    OSType: "linux",
    Architecture: "x86_64",
    NCPU: cpus().length,
    MemTotal: totalmem(),
    IndexServerAddress: "",
    RegistryConfig: {
      AllowNondistributableArtifactsCIDRs: [],
      AllowNondistributableArtifactsHostnames: [],
      InsecureRegistryCIDRs: ["127.0.0.0/8", "::1/128"],
      IndexConfigs: {},
      Mirrors: [],
    },
    GenericResources: [],
    HttpProxy: "",
    HttpsProxy: "",
    NoProxy: "",
    Name: hostname(),
    Labels: [],
    ExperimentalBuild: false,
    ServerVersion: ENGINE_VERSION,
    Runtimes: Object.fromEntries(
      Object.entries(i.runtimes).map(([name, r]) => [
        name,
        { path: r.path, ...(r.runtimeArgs?.length ? { runtimeArgs: [...r.runtimeArgs] } : {}) },
      ]),
    ),
    DefaultRuntime: i.defaultRuntime,
    Swarm: {
      NodeID: "",
      NodeAddr: "",
      LocalNodeState: "inactive",
      ControlAvailable: false,
      Error: "",
      RemoteManagers: null,
    },
    LiveRestoreEnabled: true,
    Isolation: "",
    InitBinary: "catatonit",
    ContainerdCommit: { ID: "" },
    RuncCommit: { ID: "" },
    InitCommit: { ID: "" },
    SecurityOptions: i.securityOptions ?? ["name=cgroupns"],
    DefaultAddressPools: [],
    Warnings: i.warnings ?? [],
  };
}
