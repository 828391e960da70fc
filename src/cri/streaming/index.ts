/**
 * The CRI streaming server: the URLs of Exec, Attach and PortForward, served over SPDY/3.1 and WebSocket as
 * kubelet's streaming library does. The daemon builds it with createStreamServer (the seam's factory).
 */

export {
  decodeStatus,
  dialSpdy,
  type ForwardedConnection,
  forwardPort,
  type RemoteCommandOptions,
  type RemoteCommandResult,
  runRemoteCommand,
  StreamDialError,
} from "./client.ts";
export { createStreamServer, type StreamServerOptions, startStreamServer } from "./server.ts";
