export type { ContainerNetworkRequest } from "./config.ts";
export type { ContainerLookup, CreatedNetworking, NetworkSetup } from "./endpoints.ts";
export { slirpPortProxy } from "./ports.ts";
export { NetworkService, type NetworkServiceOptions } from "./service.ts";
