// Docker Engine API v1.47 wire shapes: decoded query parameters. Field names are Docker's (swagger v1.47, moby's api/types).
// Types only: no runtime code, no imports of other wharf folders, so api/, client/ and services share them.
import type { FiltersParam } from "./common.ts";

// These are the decoded meanings; on the wire every value is a string, booleans as "1"/"0"/"true"/"false",
// and `filters` is a JSON-encoded FiltersParam.

/** Query of `POST /containers/create`. */
export interface ContainerCreateQuery {
  name?: string;
  platform?: string;
}

/** Query of `GET /containers/json`. */
export interface ContainerListQuery {
  all?: boolean;
  limit?: number;
  size?: boolean;
  filters?: FiltersParam;
}

/**
 * Query of `GET /containers/{id}/logs`. `since`/`until` are UNIX seconds, as a number or docker's
 * `"<seconds>.<nanoseconds>"` string; `tail` is a count or "all".
 */
export interface ContainerLogsQuery {
  follow?: boolean;
  stdout?: boolean;
  stderr?: boolean;
  since?: number | string;
  until?: number | string;
  timestamps?: boolean;
  tail?: string;
}

/** Query of `POST /containers/{id}/attach` (hijacked) and `GET /containers/{id}/attach/ws`. */
export interface ContainerAttachQuery {
  detachKeys?: string;
  logs?: boolean;
  stream?: boolean;
  stdin?: boolean;
  stdout?: boolean;
  stderr?: boolean;
}

/** Query of `POST /containers/{id}/stop` and `/restart`: `t` is seconds to wait before killing (-1: wait forever). */
export interface ContainerStopQuery {
  signal?: string;
  t?: number;
}

/** Query of `DELETE /containers/{id}`: `v` removes anonymous volumes, `force` kills a running container first. */
export interface ContainerRemoveQuery {
  v?: boolean;
  force?: boolean;
  link?: boolean;
}

/** Query of `GET /images/json`. */
export interface ImageListQuery {
  all?: boolean;
  filters?: FiltersParam;
  "shared-size"?: boolean;
  digests?: boolean;
  manifests?: boolean;
}

/** Query of `POST /images/create`: pull (`fromImage`) or import (`fromSrc`, "-" for the request body). */
export interface ImageCreateQuery {
  fromImage?: string;
  fromSrc?: string;
  repo?: string;
  tag?: string;
  message?: string;
  /** Dockerfile instructions applied to an imported image; repeated in the query string. */
  changes?: string[];
  platform?: string;
}

/** Query of `DELETE /images/{name}`. */
export interface ImageDeleteQuery {
  force?: boolean;
  noprune?: boolean;
}
