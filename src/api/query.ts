import { InvalidParameterError } from "../errdefs/index.ts";

/** Docker's boolean query values: "1", "true", "True" are true; absent is `def`. */
export function qBool(q: URLSearchParams, key: string, def = false): boolean {
  const v = q.get(key);
  if (v === null || v === "") return def;
  return !["0", "false", "False", "FALSE", "no"].includes(v);
}

/** An integer query value; NaN is a 400. */
export function qInt(q: URLSearchParams, key: string): number | undefined {
  const v = q.get(key);
  if (v === null || v === "") return undefined;
  const n = Number(v);
  if (!Number.isFinite(n)) throw new InvalidParameterError(`invalid value for ${key}: ${v}`);
  return Math.trunc(n);
}

/** The `filters` parameter, in either of Docker's JSON forms, as key → values. */
export function qFilters(q: URLSearchParams): Record<string, string[]> {
  const raw = q.get("filters");
  if (!raw) return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    throw new InvalidParameterError(`invalid filter: ${raw}`);
  }
  if (!parsed || typeof parsed !== "object" || Array.isArray(parsed))
    throw new InvalidParameterError("invalid filter");
  const out: Record<string, string[]> = {};
  for (const [k, v] of Object.entries(parsed as Record<string, unknown>)) {
    if (Array.isArray(v)) out[k] = v.map(String);
    else if (v && typeof v === "object")
      out[k] = Object.keys(v).filter((x) => (v as Record<string, unknown>)[x]);
    else throw new InvalidParameterError(`invalid filter '${k}'`);
  }
  return out;
}

/** A UNIX time in seconds with optional fraction ("1700000000.123456789") as nanoseconds; RFC 3339 is accepted too. */
export function qTimeNs(q: URLSearchParams, key: string): bigint | undefined {
  const v = q.get(key);
  if (v === null || v === "" || v === "0") return undefined;
  const m = /^(\d+)(?:\.(\d{1,9}))?$/.exec(v);
  if (m) return BigInt(m[1]) * 1_000_000_000n + BigInt((m[2] ?? "").padEnd(9, "0"));
  const ms = Date.parse(v);
  if (Number.isNaN(ms)) throw new InvalidParameterError(`invalid value for ${key}: ${v}`);
  return BigInt(ms) * 1_000_000n;
}
