import type { EndpointSettings, NetworkSettings, Port } from "../apitypes/index.ts";
import type { MountOptions } from "../layer/index.ts";
import type { ContainerNetworkRequest, CreatedNetworking, NetworkSetup } from "../network/index.ts";
import type {
  AttachStreams,
  CreateOptions,
  ExitStatus,
  LogLine,
  RuntimeStats,
  SpecMount,
  SpecResources,
  TopResult,
} from "../runtime/index.ts";
import type { IdRange } from "../util/index.ts";
import type { ImageRunConfig } from "./config.ts";
import type { ExecRuntime } from "./exec.ts";

/** A container's overlay rootfs over the layers of `imageId`. */
export type RootfsMountOptions = MountOptions & { imageId: string };

/** What the container service needs from the image service. */
export interface ImageBackend {
  /** The image a container is created from; NotFoundError `No such image: x` when missing. */
  resolve(ref: string): Promise<{ id: string; config: ImageRunConfig; lowerDirs?: string[]; size?: number }>;
  /** `initDir` is stacked over the image's layers: files every container has that are not its changes. */
  mountRootfs(opts: RootfsMountOptions): Promise<void>;
  unmountRootfs(target: string): Promise<void>;
  retain(imageId: string): void;
  release(imageId: string): void;
}

/** What the container service needs from the runtime: runc under conmon, one shim per container. */
export interface RuntimeBackend extends ExecRuntime {
  /** `opts.runtime` is the configured OCI runtime to run it under (HostConfig.Runtime). */
  create(
    id: string,
    opts: Pick<
      CreateOptions,
      "bundleDir" | "spec" | "logPath" | "tty" | "openStdin" | "stdinOnce" | "runtime"
    >,
  ): Promise<{ pid: number; conmonPid: number }>;
  start(id: string): Promise<void>;
  kill(id: string, signal: number | string, opts?: { all?: boolean }): Promise<void>;
  /** `keepExit`: runc's state and cgroups only; conmon's exit record stays for a later delete. */
  delete(id: string, opts?: { force?: boolean; keepExit?: boolean }): Promise<void>;
  waitExit(id: string): Promise<ExitStatus>;
  attach(id: string): Promise<AttachStreams>;
  resize(id: string, size: { height: number; width: number }): Promise<void>;
  isAlive(id: string): Promise<boolean>;
  /** One stats frame; undefined when the container has no cgroup (not created, or gone). */
  stats(id: string): Promise<RuntimeStats | undefined>;
  pause(id: string): Promise<void>;
  unpause(id: string): Promise<void>;
  update(id: string, resources: SpecResources): Promise<void>;
  top(id: string, psArgs?: string): Promise<TopResult>;
  /** Makes conmon reopen the log file by path (after rotation renamed it). */
  reopenLog(id: string): Promise<void>;
}

/** Reads a container's log file. */
export type LogReader = (
  path: string,
  opts: { since?: bigint; until?: bigint; tail?: number; follow?: Promise<unknown> },
) => AsyncIterable<LogLine>;

/** What the container service needs from the volume service. */
export interface VolumeBackend {
  /** Creates a named volume, or returns the existing one. */
  create(opts: {
    Name?: string;
    Labels?: Record<string, string>;
  }): Promise<{ volume: { Name: string; Mountpoint: string } }>;
  createAnonymous(): Promise<{ Name: string; Mountpoint: string }>;
  isAnonymous(name: string): boolean;
  has(name: string): boolean;
  use(name: string, containerId: string): void;
  release(name: string, containerId: string): void;
  /** The host path to bind; mounts device-backed volumes on first use. */
  mountpoint(
    name: string,
    use?: { container: string; destination: string; rw: boolean; propagation: string },
  ): Promise<string>;
  unmount(name: string, containerId?: string): void;
  remove(name: string, opts?: { force?: boolean }): Promise<void>;
}

/** How a run is networked: the network service's type, re-exported for the container modules. */
export type { NetworkSetup };

/** What the container service needs from the network service. */
export interface NetworkBackend {
  /** Validates a new container's network settings (Docker's create errors) and records them. */
  createContainer(c: ContainerNetworkRequest): Promise<CreatedNetworking>;
  /**
   * Sets up networking before the spec is built. `o.userns` (a remapped container): the network namespace
   * is owned by a user namespace of these mappings, which the container joins (NetworkSetup.usernsPath).
   * `o.deferAttach`: answer once the netns and the addresses are there; NetworkSetup.ready tells the rest.
   */
  setup(
    id: string,
    o?: {
      userns?: { uidMappings: readonly IdRange[]; gidMappings: readonly IdRange[]; join?: string };
      deferAttach?: boolean;
    },
  ): Promise<NetworkSetup>;
  /** Undoes setup: at exit and after a failed start; safe to call twice. */
  teardown(id: string): Promise<void>;
  /** After a daemon restart, for a container that still runs: proxies and rules come back. */
  restore(id: string): Promise<void>;
  /** A container was renamed (its DNS names follow). */
  rename(id: string, name: string): Promise<void>;
  /** A link was removed (docker rm --link): the next start leaves it out. */
  unlink(id: string, alias: string): Promise<void>;
  /** Forgets a removed container. */
  forget(id: string): Promise<void>;
  settings(id: string): NetworkSettings;
  summary(id: string): { ports: Port[]; networks: Record<string, EndpointSettings> };
  /**
   * A number that changes whenever what `summary(id)` shows may have changed: the container list keeps each
   * entry's JSON until it does.
   */
  summaryVersion(id: string): number;
}

/** A mount start hands to the spec: a bind (the default) or a tmpfs. */
export type RunMount = SpecMount;

/** The image operations the lifecycle uses: a container holds its image while it exists. */
export type ImageRefs = Pick<ImageBackend, "retain" | "release">;

/** The image operations that mount and unmount a container's overlay rootfs. */
export type RootfsBackend = Pick<ImageBackend, "mountRootfs" | "unmountRootfs">;

/** The runtime operations that start, stop and remove a container's process. */
export type LifecycleRuntime = Pick<
  RuntimeBackend,
  "create" | "start" | "kill" | "delete" | "waitExit" | "attach" | "isAlive" | "unpause"
>;

/** The runtime operations of a running container's stdio. */
export type StdioRuntime = Pick<RuntimeBackend, "attach" | "resize">;

/** The runtime operations the supervisor uses. */
export type SupervisorRuntime = Pick<RuntimeBackend, "stats" | "top" | "pause" | "unpause" | "update">;

/** The network operations of a container's run: set up before the spec, torn down at exit. */
export type RunNetwork = Pick<NetworkBackend, "setup" | "teardown" | "restore" | "forget">;

/** The network operations create uses: validate and record the settings, or forget them on failure. */
export type CreateNetwork = Pick<NetworkBackend, "createContainer" | "forget">;

/** The network views inspect and list show. */
export type NetworkViews = Pick<NetworkBackend, "settings" | "summary" | "summaryVersion">;
