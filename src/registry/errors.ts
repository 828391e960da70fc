/** The error codes of the OCI Distribution Spec (and Docker's registry), with the status each is sent with. */
export const ERROR_STATUS = {
  BLOB_UNKNOWN: 404,
  BLOB_UPLOAD_INVALID: 400,
  BLOB_UPLOAD_UNKNOWN: 404,
  DIGEST_INVALID: 400,
  MANIFEST_BLOB_UNKNOWN: 400,
  MANIFEST_INVALID: 400,
  MANIFEST_UNKNOWN: 404,
  NAME_INVALID: 400,
  NAME_UNKNOWN: 404,
  SIZE_INVALID: 400,
  UNAUTHORIZED: 401,
  DENIED: 403,
  UNSUPPORTED: 405,
  RANGE_INVALID: 416,
  PAGINATION_NUMBER_INVALID: 400,
} as const;

/** One of the spec's error codes. */
export type ErrorCode = keyof typeof ERROR_STATUS;

/** A failure answered as `{"errors":[{code,message,detail}]}` with the code's status. */
export class RegistryError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly detail: unknown;
  constructor(code: ErrorCode, message: string, opts: { detail?: unknown; status?: number } = {}) {
    super(message);
    this.code = code;
    this.status = opts.status ?? ERROR_STATUS[code];
    this.detail = opts.detail;
  }

  /** The response body the spec prescribes. */
  body(): { errors: { code: string; message: string; detail?: unknown }[] } {
    const e: { code: string; message: string; detail?: unknown } = { code: this.code, message: this.message };
    if (this.detail !== undefined) e.detail = this.detail;
    return { errors: [e] };
  }
}
