export type { ContainerLookup, NetworkSetup } from "./endpoints.ts";
export { NetworkService, type NetworkServiceOptions } from "./service.ts";
