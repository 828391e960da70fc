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
  TooMany: 429,
  System: 500,
};

/**
 * The one place an error becomes an HTTP status: the first typed error along the `cause` chain decides by its
 * kind (so a plain Error wrapping a NotFoundError is still a 404); with none, 500.
 */
export function statusFor(err: unknown): number {
  const seen = new Set<unknown>();
  for (let e: unknown = err; e instanceof Error && !seen.has(e); e = e.cause) {
    if (e instanceof WharfError) return statusByKind[e.kind];
    seen.add(e);
  }
  return 500;
}

/** The message a client sees: Docker shows the error text as is. */
export function messageFor(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}
