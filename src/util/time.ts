import { parseGoDuration } from "./duration.ts";
/** Docker's "never" timestamp. */
export const ZERO_TIME = "0001-01-01T00:00:00Z";

/**
 * RFC 3339 with nanoseconds, as Docker prints (`2024-01-02T03:04:05.123456789Z`).
 * `ns` is nanoseconds since the epoch as a bigint, so precision survives.
 */
export function rfc3339Nano(ns: bigint): string {
  const ms = Number(ns / 1_000_000n);
  const frac = (ns % 1_000_000_000n).toString().padStart(9, "0").replace(/0+$/, "");
  const base = new Date(ms).toISOString().slice(0, 19);
  return frac ? `${base}.${frac}Z` : `${base}Z`;
}

/** Now, in nanoseconds since the epoch (wall clock, with sub-millisecond digits from the monotonic clock). */
export function nowNs(): bigint {
  const wall = BigInt(Date.now()) * 1_000_000n;
  const sub = process.hrtime.bigint() % 1_000_000n;
  return wall + sub;
}

/** RFC 3339 with nanoseconds for now. */
export function nowRfc3339(): string {
  return rfc3339Nano(nowNs());
}

/** Parses RFC 3339 (with any fraction) into nanoseconds since the epoch; NaN-safe: throws on bad input. */
export function parseRfc3339Ns(s: string): bigint {
  const m = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.(\d{1,9}))?(Z|[+-]\d{2}:\d{2})$/.exec(s);
  if (!m) throw new Error(`invalid RFC 3339 time: ${s}`);
  const ms = Date.parse(`${m[1]}${m[3]}`);
  if (Number.isNaN(ms)) throw new Error(`invalid RFC 3339 time: ${s}`);
  const frac = BigInt((m[2] ?? "").padEnd(9, "0"));
  return BigInt(ms) * 1_000_000n + frac;
}

/**
 * A filter timestamp as Docker takes it (`until=` of prunes and lists): Unix seconds with an optional
 * fraction, an RFC 3339 date or date-time, or a Go duration counted back from `nowNs`. Nanoseconds since the
 * epoch; undefined when it is none of these, so each caller words its own error.
 */
export function parseFilterTime(value: string, nowNs: bigint): bigint | undefined {
  if (/^\d+(\.\d{1,9})?$/.test(value)) {
    const [s, frac = ""] = value.split(".");
    return BigInt(s) * 1_000_000_000n + BigInt(frac.padEnd(9, "0"));
  }
  if (/^[0-9.]+(ns|us|µs|μs|ms|s|m|h)/.test(value)) {
    try {
      return nowNs - BigInt(parseGoDuration(value));
    } catch {
      return undefined;
    }
  }
  if (/^\d{4}-\d{2}-\d{2}$/.test(value)) return BigInt(Date.parse(`${value}T00:00:00Z`)) * 1_000_000n;
  try {
    return parseRfc3339Ns(value);
  } catch {
    const ms = Date.parse(value);
    return Number.isNaN(ms) ? undefined : BigInt(ms) * 1_000_000n;
  }
}
