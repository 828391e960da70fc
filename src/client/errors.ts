/** An error answer from the daemon: the HTTP status and the `message` of its `{"message": ...}` body. */
export class ApiError extends Error {
  /** HTTP status code of the response. */
  readonly statusCode: number;

  constructor(statusCode: number, message: string) {
    super(message);
    this.name = "ApiError";
    this.statusCode = statusCode;
  }
}

/** The daemon could not be reached at all (no socket, refused, unreachable). */
export class DaemonConnectionError extends Error {
  /** The host string that was tried, e.g. `unix:///run/wharf/wharf.sock`. */
  readonly host: string;

  constructor(host: string, cause: unknown) {
    super(`Cannot connect to the wharf daemon at ${host}. Is the wharf daemon running?`, { cause });
    this.name = "DaemonConnectionError";
    this.host = host;
  }
}

/** True when `err` is an ApiError with the given status (404: no such object, 409: conflict, ...). */
export function isApiError(err: unknown, statusCode?: number): err is ApiError {
  return err instanceof ApiError && (statusCode === undefined || err.statusCode === statusCode);
}
