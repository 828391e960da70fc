export type { ContainerNetworkRequest } from "./config.ts";
export type { ContainerLookup, CreatedNetworking, NetworkSetup } from "./endpoints.ts";
export { forwardedPortProxy, type HostForward, slirpHostForward, slirpPortProxy } from "./ports.ts";
export { NetworkService, type NetworkServiceOptions } from "./service.ts";
