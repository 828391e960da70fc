/**
 * Docker Engine API v1.47 wire shapes, one declaration per concept, split by resource. Shared by the daemon's
 * `api/`, the `client/` and the services; types only. Optional fields (`?`) are ones Docker omits or a client
 * may leave out; required ones Docker always sends.
 */
export type * from "./common.ts";
export type * from "./container.ts";
export type * from "./exec.ts";
export type * from "./image.ts";
export type * from "./network.ts";
export type * from "./query.ts";
export type * from "./system.ts";
export type * from "./volume.ts";
