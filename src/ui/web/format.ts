// Numbers and times as the docker CLI prints them.

/** Bytes in docker's decimal units (`1.5MB`). */
export function bytes(n: number | undefined | null): string {
  if (n === undefined || n === null || n < 0) return "—";
  const units = ["B", "kB", "MB", "GB", "TB"];
  let v = n;
  let i = 0;
  while (v >= 1000 && i < units.length - 1) {
    v /= 1000;
    i++;
  }
  return `${i === 0 ? v : v.toFixed(v < 10 ? 2 : v < 100 ? 1 : 0)}${units[i]}`;
}

/** How long ago a unix time (seconds) was, in words (`3 minutes ago`). */
export function ago(unixSeconds: number): string {
  return `${duration(Date.now() / 1000 - unixSeconds)} ago`;
}

/** A duration in seconds in docker's human words. */
export function duration(s: number): string {
  if (s < 1) return "Less than a second";
  if (s < 60) return `${Math.floor(s)} seconds`;
  const m = s / 60;
  if (m < 60) return `${Math.floor(m)} minute${Math.floor(m) === 1 ? "" : "s"}`;
  const h = m / 60;
  if (h < 48) return `${Math.floor(h)} hour${Math.floor(h) === 1 ? "" : "s"}`;
  const d = h / 24;
  if (d < 14) return `${Math.floor(d)} days`;
  if (d < 60) return `${Math.floor(d / 7)} weeks`;
  if (d < 730) return `${Math.floor(d / 30)} months`;
  return `${Math.floor(d / 365)} years`;
}

/** The first 12 hex digits of an ID, without its `sha256:` prefix. */
export function shortId(id: string | undefined): string {
  return (id ?? "").replace(/^sha256:/, "").slice(0, 12);
}

/** A container's name without the leading slash. */
export function ctrName(names: string[] | undefined): string {
  return (names?.[0] ?? "").replace(/^\//, "");
}

/** Percentage with one decimal. */
export function pct(n: number | undefined): string {
  return n === undefined ? "—" : `${n.toFixed(1)}%`;
}
