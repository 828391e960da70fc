export { type ClientOptions, decodePathStat, EngineClient } from "./client.ts";
export { ApiError, DaemonConnectionError, isApiError } from "./errors.ts";
export { DEFAULT_HOST, defaultHost, type HostAddress, parseHost, resolveHost } from "./host.ts";
export { type AuthOptions, encodeRegistryAuth } from "./resources.ts";
export {
  copyOutput,
  demuxFrames,
  encodeFrame,
  jsonLines,
  type OutputSinks,
  type StreamFrame,
} from "./stream.ts";
export {
  ClientResponse,
  encodeQuery,
  errorFromResponse,
  type QueryValue,
  type RequestOptions,
  type ResponseHeaders,
  readBody,
  type TlsOptions,
  Transport,
  type TransportOptions,
} from "./transport.ts";
