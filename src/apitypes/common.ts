// Docker Engine API v1.47 wire shapes: progress streams, filters, stream framing. Field names are Docker's (swagger v1.47, moby's api/types).
// Types only: no runtime code, no imports of other wharf folders, so api/, client/ and services share them.

/**
 * One line of a JSON-lines progress stream (pull, push, import, load, build): Docker's `jsonmessage.JSONMessage`.
 * A line with `error`/`errorDetail` ends the operation with that error.
 */
export interface JSONMessage {
  stream?: string;
  status?: string;
  progress?: string;
  progressDetail?: ProgressDetail;
  id?: string;
  from?: string;
  time?: number;
  timeNano?: number;
  error?: string;
  errorDetail?: ErrorDetail;
  aux?: Record<string, unknown>;
}

/** Byte counts of one progress line. */
export interface ProgressDetail {
  current?: number;
  total?: number;
}

/** Error carried inside a JSON-lines progress stream. */
export interface ErrorDetail {
  code?: number;
  message?: string;
}

/**
 * The `filters` query parameter after JSON-decoding: `{"label":["k=v"],"status":["running"]}`;
 * old clients send the map form `{"label":{"k=v":true}}`.
 */
export type FiltersParam = Record<string, string[] | Record<string, boolean>>;

/** Stream numbers in the 8-byte header of a multiplexed attach/logs/exec stream. */
export type StdStreamType = 0 | 1 | 2;

/** Response to an API call that returns just an Id */
export interface IdResponse {
  Id: string;
}
