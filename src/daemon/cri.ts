/**
 * The CRI front end's wiring: the core over the daemon's container and image services, its gRPC server on
 * `--cri-socket`, and the streaming server for exec, attach and port-forward URLs.
 */
import { join } from "node:path";
import type { ContainerService } from "../container/index.ts";
import {
  CriServer,
  createCri,
  createStreamServer,
  type StreamServer,
  type StreamServerFactory,
} from "../cri/index.ts";
import type { Host } from "../host/index.ts";
import type { LocalImageService } from "../image/index.ts";
import { log } from "../util/index.ts";
import type { DaemonConfig } from "./config.ts";

/** The pause process of every pod: catatonit, which Debian's podman depends on. */
const PAUSE_BINARY = "/usr/bin/catatonit";

/** A running CRI front end. */
export interface CriFrontEnd {
  close(): Promise<void>;
}

/** Starts the CRI core and its servers on `socket`. */
export async function startCri(o: {
  socket: string;
  cfg: DaemonConfig;
  containers: ContainerService;
  images: LocalImageService;
  host: Host;
  reopenLog(id: string): Promise<void>;
  version: string;
  /** The streaming server's factory; src/cri/streaming's unless a test passes another. */
  streamFactory?: StreamServerFactory;
}): Promise<CriFrontEnd> {
  const { cfg } = o;
  const stateDir = join(cfg.dataRoot, "cri");
  const core = await createCri({
    containers: o.containers,
    images: o.images,
    host: o.host,
    reopenLog: o.reopenLog,
    stateDir,
    dataRoot: cfg.dataRoot,
    cni: { ...cfg.cni, ipamDir: join(stateDir, "ipam") },
    pauseBinary: PAUSE_BINARY,
    version: o.version,
  });
  const streams: StreamServer = await (o.streamFactory ?? createStreamServer)(core.streams, {
    address: cfg.criStreamAddress,
  });
  core.setStreamServer(streams);
  const server = new CriServer(core.handlers);
  await server.listen(o.socket);
  log("info", "CRI v1 serving", { socket: o.socket });
  return {
    async close() {
      await server.close();
      await streams?.close();
    },
  };
}
