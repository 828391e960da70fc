import { join } from "node:path";
import type { EventSink } from "../apitypes/index.ts";
import {
  ContainerFiles,
  ContainerIO,
  type ContainerService,
  containerService,
  createContainer,
  ExecManager,
  HealthMonitor,
  type HostLimits,
  type ImageBackend,
  Lifecycle,
  type LogReader,
  LogRotator,
  type NetworkBackend,
  Queries,
  Registry,
  type RuntimeBackend,
  type RuntimeChoice,
  type SpecDefaults,
  Storage,
  Supervisor,
  specBuilder,
  type VolumeBackend,
} from "../container/index.ts";

/**
 * Builds the container service from its parts, handing each only the dependencies it uses: the spec
 * builder and storage to the lifecycle, the runtime's stdio to I/O, its cgroup operations to the supervisor.
 */
export function wireContainers(o: {
  dataRoot: string;
  execRoot: string;
  tmpDir: string;
  cgroupParent: string;
  images: ImageBackend;
  runtime: RuntimeBackend;
  volumes: VolumeBackend;
  network: NetworkBackend;
  readLog: LogReader;
  events: EventSink;
  hostLimits?: HostLimits;
  /** The OCI runtimes containers may ask for. */
  runtimes?: RuntimeChoice;
  /** The daemon's confinement defaults for every container (seccomp profile, no-new-privileges, limits). */
  security?: SpecDefaults;
}): ContainerService {
  const { images, runtime, network, events } = o;
  const registry = new Registry({ root: join(o.dataRoot, "containers"), tmpDir: o.tmpDir, events, network });
  const idMap = o.security?.idMap;
  const storage = new Storage({ registry, rootfs: images, volumes: o.volumes, ...(idMap ? { idMap } : {}) });
  const execs = new ExecManager({ runtime, events, target: (ref) => registry.execTarget(ref) });
  const logs = new LogRotator({ runtime, readLog: o.readLog });
  const lifecycle = new Lifecycle({
    registry,
    storage,
    health: new HealthMonitor({ registry, runtime }),
    logs,
    runtime,
    network,
    images,
    spec: specBuilder({ cgroupParent: o.cgroupParent, ...o.security }),
    execs,
    bundleRoot: join(o.execRoot, "bundles"),
  });
  return containerService({
    registry,
    create: (req, opts) =>
      createContainer(
        { registry, storage, images, network, limits: o.hostLimits, runtimes: o.runtimes },
        req,
        opts,
      ),
    lifecycle,
    io: new ContainerIO({ registry, runtime, logs }),
    files: new ContainerFiles({ registry, storage, images, freezer: runtime, ...(idMap ? { idMap } : {}) }),
    supervisor: new Supervisor({ registry, runtime, limits: o.hostLimits }),
    queries: new Queries({ registry, network, execIds: (id) => execs.idsOf(id) }),
    execs,
  });
}
