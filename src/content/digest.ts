import { createHash } from "node:crypto";
import { InvalidParameterError } from "../errdefs/index.ts";

/** The only digest algorithm wharf stores blobs under; OCI allows others but registries and Docker use this one. */
export const DIGEST_ALGO = "sha256";

const digestRe = /^sha256:([a-f0-9]{64})$/;

/** Returns the hex part of a `sha256:<64 hex>` digest; anything else is an InvalidParameterError. */
export function digestHex(digest: string): string {
  const m = digestRe.exec(digest);
  if (!m) throw new InvalidParameterError(`invalid digest: ${JSON.stringify(digest)}`);
  return m[1];
}

/** True when `s` is a well-formed `sha256:<64 hex>` digest. */
export function isDigest(s: string): boolean {
  return digestRe.test(s);
}

/** The `sha256:<hex>` digest of some bytes. */
export function sha256Digest(data: string | Uint8Array): string {
  return `sha256:${createHash("sha256").update(data).digest("hex")}`;
}

/** Content did not match the digest (or size) it was announced with. */
export class DigestMismatchError extends InvalidParameterError {
  readonly expected: string;
  readonly actual: string;
  constructor(what: "digest" | "size", expected: string, actual: string) {
    super(`${what} mismatch: expected ${expected}, got ${actual}`);
    this.expected = expected;
    this.actual = actual;
  }
}
