export { CriCallError, CriClient } from "./client.ts";
export { type CniOptions, defaultNetworkList } from "./cni.ts";
export type { CriDeps } from "./deps.ts";
export { PAUSE_IMAGE } from "./pause.ts";
export { CriServer } from "./server.ts";
export { type CriCore, createCri } from "./service.ts";
export type {
  AttachStreamRequest,
  ExecStreamRequest,
  PortForwardStreamRequest,
  StreamIO,
  StreamRuntime,
  StreamServer,
  StreamServerFactory,
  TerminalSize,
} from "./stream-runtime.ts";
export { StreamTargetError } from "./stream-runtime.ts";
export { createStreamServer } from "./streaming/index.ts";
