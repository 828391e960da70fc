// Docker's human-readable units (go-units) and time formats, so tables read the same as docker's.
import { parseGoDuration as goDurationNs, ramInBytes } from "../util/index.ts";

/** go-units' formatting lives in util/, shared with compose and the daemon's progress. */
export { formatG, humanSize } from "../util/index.ts";

function tzAbbrev(d: Date): string {
  if (d.getTimezoneOffset() === 0 && (process.env.TZ ?? "UTC").match(/^(UTC|Etc\/UTC|)$/)) return "UTC";
  const parts = new Intl.DateTimeFormat("en-US", { timeZoneName: "short" }).formatToParts(d);
  return parts.find((p) => p.type === "timeZoneName")?.value ?? "UTC";
}

/** Go's time.Time.String() in local time: `2024-01-02 15:04:05 +0000 UTC`. */
export function goTimeString(d: Date): string {
  const p = (n: number): string => String(n).padStart(2, "0");
  const off = -d.getTimezoneOffset();
  const sign = off >= 0 ? "+" : "-";
  const oh = p(Math.trunc(Math.abs(off) / 60));
  const om = p(Math.abs(off) % 60);
  return (
    `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ` +
    `${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())} ${sign}${oh}${om} ${tzAbbrev(d)}`
  );
}

/** Cuts `s` to `max` characters, ending in `…` when it was longer (docker's formatter.Ellipsis). */
export function ellipsis(s: string, max: number): string {
  const chars = [...s];
  if (chars.length <= max) return s;
  if (max <= 1) return chars.slice(0, max).join("");
  return `${chars.slice(0, max - 1).join("")}…`;
}

/** Short form of an ID: algorithm prefix dropped, first 12 hex digits. */
export function shortId(id: string): string {
  const i = id.indexOf(":");
  return (i >= 0 ? id.slice(i + 1) : id).slice(0, 12);
}

/** go-units RAMInBytes: `512m`, `1g`, `1.5GiB`, `100` (bytes); binary multiples. */
export function parseRamBytes(s: string): number {
  const n = ramInBytes(s);
  if (n === undefined) throw new Error(`invalid size: '${s}'`);
  return n;
}

/** Go's time.ParseDuration, in milliseconds: `10s`, `1m30s`, `1.5h`, `300ms`. */
export function parseGoDuration(s: string): number {
  return goDurationNs(s) / 1e6;
}

/**
 * Docker's timestamp argument (`logs --since`, `events --until`): a UNIX time, an RFC 3339 date, or a
 * Go duration meaning "that long ago". Returns the `seconds.nanoseconds` string the API takes.
 */
export function parseTimestampArg(value: string, now: number = Date.now()): string {
  if (/^\d+(\.\d{1,9})?$/.test(value)) return value;
  let ms: number | undefined;
  try {
    ms = now - parseGoDuration(value);
  } catch {
    ms = undefined;
  }
  let fracNs = "";
  if (ms === undefined) {
    const m = /^(\d{4}-\d{2}-\d{2})(?:T(\d{2}:\d{2}(?::\d{2})?)(\.\d+)?(Z|[+-]\d{2}:?\d{2})?)?$/.exec(value);
    if (!m) throw new Error(`failed to parse value as time or duration: "${value}"`);
    const time = m[2] ? (m[2].length === 5 ? `${m[2]}:00` : m[2]) : "00:00:00";
    // Docker reads a date without zone as local time.
    ms = Date.parse(`${m[1]}T${time}${m[4] ?? ""}`);
    if (Number.isNaN(ms)) throw new Error(`failed to parse value as time or duration: "${value}"`);
    fracNs = m[3] ? m[3].slice(1).padEnd(9, "0").slice(0, 9) : "";
  }
  const sec = Math.floor(ms / 1000);
  const ns = fracNs || String(Math.round((ms - sec * 1000) * 1e6)).padStart(9, "0");
  return `${sec}.${ns}`;
}
