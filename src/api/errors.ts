import { type ErrorKind, WharfError } from "../errdefs/index.ts";

const statusByKind: Record<ErrorKind, number> = {
  NotFound: 404,
  InvalidParameter: 400,
  Conflict: 409,
  NotModified: 304,
  Unauthorized: 401,
  Forbidden: 403,
  Unavailable: 503,
  NotImplemented: 501,
  System: 500,
};

/** The one place an error becomes an HTTP status: typed errors by kind, anything else 500. */
export function statusFor(err: unknown): number {
  if (err instanceof WharfError) return statusByKind[err.kind];
  return 500;
}

/** The message a client sees: Docker shows the error text as is. */
export function messageFor(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}
