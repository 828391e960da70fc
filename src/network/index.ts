export type { ContainerLookup, NetworkSetup } from "./endpoints.ts";
export { NetworkService, type NetworkServiceOptions } from "./service.ts";
export type {
  NetworkConnectRequest,
  NetworkContainer,
  NetworkCreateRequest,
  NetworkDisconnectRequest,
  NetworkResource,
} from "./types.ts";
