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
