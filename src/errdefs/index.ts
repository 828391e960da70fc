/**
 * Typed errors shared by every layer. Handlers throw these; the API maps them to HTTP status in one place
 * (api/errors.ts), so no code below the API ever picks a status code.
 */

/** Base of every wharf error; `kind` drives the HTTP status mapping. */
export class WharfError extends Error {
  readonly kind: ErrorKind;
  constructor(kind: ErrorKind, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.kind = kind;
    this.name = `${kind}Error`;
  }
}

/** The classes of failure Docker distinguishes by status code. */
export type ErrorKind =
  | "NotFound"
  | "InvalidParameter"
  | "Conflict"
  | "NotModified"
  | "Unauthorized"
  | "Forbidden"
  | "Unavailable"
  | "NotImplemented"
  | "TooMany"
  | "System";

/** A named object does not exist (404). */
export class NotFoundError extends WharfError {
  constructor(message: string, options?: { cause?: unknown }) {
    super("NotFound", message, options);
  }
}
/** The request is malformed or names an impossible value (400). */
export class InvalidParameterError extends WharfError {
  constructor(message: string, options?: { cause?: unknown }) {
    super("InvalidParameter", message, options);
  }
}
/** The object is in a state that forbids the operation (409). */
export class ConflictError extends WharfError {
  constructor(message: string, options?: { cause?: unknown }) {
    super("Conflict", message, options);
  }
}
/** The object is already in the requested state (304). */
export class NotModifiedError extends WharfError {
  constructor(message: string, options?: { cause?: unknown }) {
    super("NotModified", message, options);
  }
}
/** Credentials are missing or wrong (401). */
export class UnauthorizedError extends WharfError {
  constructor(message: string, options?: { cause?: unknown }) {
    super("Unauthorized", message, options);
  }
}
/** The operation is refused whatever the credentials (403). */
export class ForbiddenError extends WharfError {
  constructor(message: string, options?: { cause?: unknown }) {
    super("Forbidden", message, options);
  }
}
/** A dependency is not available now (503). */
export class UnavailableError extends WharfError {
  constructor(message: string, options?: { cause?: unknown }) {
    super("Unavailable", message, options);
  }
}
/** The feature is not implemented (501). */
export class NotImplementedError extends WharfError {
  constructor(message: string, options?: { cause?: unknown }) {
    super("NotImplemented", message, options);
  }
}
/** A client holds more of a bounded resource than it may (429); Docker has no such bound, so no status of its. */
export class TooManyRequestsError extends WharfError {
  constructor(message: string, options?: { cause?: unknown }) {
    super("TooMany", message, options);
  }
}
/** An unexpected failure of the host or the engine (500). */
export class SystemError extends WharfError {
  constructor(message: string, options?: { cause?: unknown }) {
    super("System", message, options);
  }
}

function isKind(kind: ErrorKind) {
  return (e: unknown): e is WharfError => e instanceof WharfError && e.kind === kind;
}
/** True when `e` is a NotFoundError. */
export const isNotFound = isKind("NotFound");
/** True when `e` is an InvalidParameterError. */
export const isInvalidParameter = isKind("InvalidParameter");
/** True when `e` is a ConflictError. */
export const isConflict = isKind("Conflict");
/** True when `e` is a NotModifiedError. */
export const isNotModified = isKind("NotModified");
/** True when `e` is an UnauthorizedError. */
export const isUnauthorized = isKind("Unauthorized");
/** True when `e` is a ForbiddenError. */
export const isForbidden = isKind("Forbidden");
/** True when `e` is an UnavailableError. */
export const isUnavailable = isKind("Unavailable");

/** Node's errno-carrying error, narrowed. */
export interface ErrnoError extends Error {
  code: string;
  errno?: number;
  syscall?: string;
  path?: string;
}

/** True when `e` is a Node system error with the given code (e.g. "ENOENT"). */
export function isErrno(e: unknown, code?: string): e is ErrnoError {
  return (
    e instanceof Error &&
    typeof (e as ErrnoError).code === "string" &&
    (!code || (e as ErrnoError).code === code)
  );
}
