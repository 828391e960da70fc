/** Docker's RFC 3339 times as CRI's nanoseconds since the epoch (decimal strings: they pass 2^53). */
import { parseRfc3339Ns } from "../util/index.ts";

/** Nanoseconds of an RFC 3339 time; "0" for Go's zero time (never started, not finished) or bad input. */
export function rfc3339ToNs(s: string | undefined): string {
  if (!s || s.startsWith("0001-01-01")) return "0";
  try {
    return parseRfc3339Ns(s).toString();
  } catch {
    return "0";
  }
}

/** Now, in nanoseconds, as a decimal string. */
export function nowNsString(): string {
  return (BigInt(Date.now()) * 1_000_000n).toString();
}
