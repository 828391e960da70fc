/** What the CRI core needs of the daemon: the same services as the Engine API, and a few runtime operations. */
import type { ContainerService } from "../container/index.ts";
import type { Host } from "../host/index.ts";
import type { LocalImageService } from "../image/index.ts";
import type { CniOptions } from "./cni.ts";
import type { StreamServer } from "./stream-runtime.ts";

/** The parts the CRI core drives; daemon/ builds them and passes them in. */
export interface CriDeps {
  containers: ContainerService;
  images: LocalImageService;
  host: Host;
  /** conmon re-opens a running container's log file (after kubelet rotated it). */
  reopenLog(id: string): Promise<void>;
  /** Where the CRI keeps pod state: `<data-root>/cri`. */
  stateDir: string;
  /** The data root, whose file system ImageFsInfo reports. */
  dataRoot: string;
  cni: CniOptions;
  /** Host binary run as each pod's pause process (catatonit's pause mode). */
  pauseBinary: string;
  /** wharf's version, for Version. */
  version: string;
}

/** The streaming server, once it is up (the daemon starts it after the core exists). */
export interface StreamHolder {
  server?: StreamServer;
}
