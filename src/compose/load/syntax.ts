/** Parsers for the Compose short syntaxes: ports, volumes, durations, byte sizes, shell words. */

import { parseGoDuration, ramInBytes } from "../../util/index.ts";
import type { PortConfig } from "../types.ts";
import { LoadError } from "./errors.ts";

/** A port in long syntax, as the merged model holds it. */
type PortLong = PortConfig;

function portRange(s: string, what: string): [number, number] {
  const m = /^(\d+)(?:-(\d+))?$/.exec(s);
  if (!m) throw new LoadError(`invalid ${what} port: ${JSON.stringify(s)}`);
  const a = Number(m[1]);
  const b = m[2] === undefined ? a : Number(m[2]);
  if (a > 65535 || b > 65535 || b < a)
    throw new LoadError(`invalid ${what} port range: ${JSON.stringify(s)}`);
  return [a, b];
}

/**
 * Parses `[[IP:]HOST:]CONTAINER[/PROTOCOL]` (ranges allowed, IPv6 in brackets or bare) into long entries,
 * one per container port, as docker compose expands them.
 */
export function parsePortShort(spec: string | number): PortLong[] {
  const raw = String(spec).trim();
  let rest = raw;
  let protocol = "tcp";
  const slash = rest.lastIndexOf("/");
  if (slash >= 0) {
    protocol = rest.slice(slash + 1).toLowerCase();
    rest = rest.slice(0, slash);
    if (!protocol) throw new LoadError(`invalid proto: ${JSON.stringify(raw)}`);
  }
  let ip = "";
  let host = "";
  let container: string;
  if (rest.startsWith("[")) {
    const end = rest.indexOf("]");
    if (end < 0 || rest[end + 1] !== ":")
      throw new LoadError(`invalid port specification: ${JSON.stringify(raw)}`);
    ip = rest.slice(1, end);
    const parts = rest.slice(end + 2).split(":");
    if (parts.length !== 2) throw new LoadError(`invalid port specification: ${JSON.stringify(raw)}`);
    [host, container] = parts;
  } else {
    const parts = rest.split(":");
    if (parts.length === 1) container = parts[0];
    else if (parts.length === 2) [host, container] = parts;
    else {
      container = parts[parts.length - 1];
      host = parts[parts.length - 2];
      ip = parts.slice(0, -2).join(":");
    }
  }
  const [c0, c1] = portRange(container, "container");
  const out: PortLong[] = [];
  const entry = (target: number, published: string): PortLong => ({
    mode: "ingress",
    ...(ip ? { host_ip: ip } : {}),
    target,
    ...(published ? { published } : {}),
    protocol,
  });
  if (!host) {
    for (let t = c0; t <= c1; t++) out.push(entry(t, ""));
    return out;
  }
  const [h0, h1] = portRange(host, "host");
  if (c0 === c1) {
    out.push(entry(c0, h0 === h1 ? String(h0) : `${h0}-${h1}`));
    return out;
  }
  if (h1 - h0 !== c1 - c0) {
    throw new LoadError(`invalid ranges specified for container and host Ports: ${JSON.stringify(raw)}`);
  }
  for (let i = 0; i <= c1 - c0; i++) out.push(entry(c0 + i, String(h0 + i)));
  return out;
}

/** A volume mount in long syntax. */
export interface VolumeLong {
  type: string;
  source?: string;
  target: string;
  read_only?: boolean;
  consistency?: string;
  bind?: { propagation?: string; create_host_path?: boolean; selinux?: string; recursive?: string };
  volume?: { nocopy?: boolean; subpath?: string; labels?: Record<string, string> };
  tmpfs?: { size?: number | string; mode?: number | string };
  image?: { subpath?: string };
}

const PROPAGATION = new Set(["shared", "rshared", "slave", "rslave", "private", "rprivate"]);

/** True when a short-syntax volume source is a host path rather than a volume name. */
export function isHostPath(src: string): boolean {
  return src.startsWith("/") || src.startsWith(".") || src.startsWith("~");
}

/** Parses `[SOURCE:]TARGET[:MODE]` into a long volume entry (bind for paths, volume for names). */
export function parseVolumeShort(spec: string): VolumeLong {
  const parts = spec.split(":");
  if (parts.length > 3 || parts.some((p, i) => p === "" && i < 2)) {
    throw new LoadError(`invalid volume specification: ${JSON.stringify(spec)}`);
  }
  if (parts.length === 1) return { type: "volume", target: parts[0], volume: {} };
  const [source, target, mode = ""] = parts;
  const bind = isHostPath(source);
  const v: VolumeLong = bind
    ? { type: "bind", source, target, bind: { create_host_path: true } }
    : { type: "volume", source, target, volume: {} };
  for (const opt of mode.split(",").filter(Boolean)) {
    if (opt === "ro") v.read_only = true;
    else if (opt === "rw") v.read_only = undefined;
    else if (opt === "z" || opt === "Z") {
      if (v.bind) v.bind.selinux = opt;
    } else if (PROPAGATION.has(opt)) {
      if (v.bind) v.bind.propagation = opt;
    } else if (opt === "nocopy") {
      if (v.volume) v.volume.nocopy = true;
    } else if (opt === "consistent" || opt === "cached" || opt === "delegated") v.consistency = opt;
    else throw new LoadError(`invalid volume specification: ${JSON.stringify(spec)}: unknown option ${opt}`);
  }
  if (v.read_only === undefined) delete v.read_only;
  return v;
}

/** Parses a Go duration (`1m30s`, `1.5s`, `100ms`; a bare number means seconds, as compose-go reads it) into ns. */
export function parseDuration(v: string | number): number {
  if (typeof v === "number") return Math.round(v * 1e9);
  const s = v.trim();
  if (/^-?\d+(\.\d+)?$/.test(s)) return Math.round(Number(s) * 1e9);
  try {
    return parseGoDuration(s);
  } catch {
    throw new LoadError(`invalid duration ${JSON.stringify(v)}`);
  }
}

/** Formats ns as Go's Duration.String does (`1m30s`, `1.5s`, `100ms`, `0s`). */
export function formatDuration(ns: number): string {
  if (ns === 0) return "0s";
  const neg = ns < 0;
  let n = Math.abs(ns);
  let out: string;
  if (n < 1e3) out = `${n}ns`;
  else if (n < 1e6) out = `${trim(n / 1e3)}µs`;
  else if (n < 1e9) out = `${trim(n / 1e6)}ms`;
  else {
    const h = Math.floor(n / 3600e9);
    n -= h * 3600e9;
    const m = Math.floor(n / 60e9);
    n -= m * 60e9;
    const s = `${trim(n / 1e9)}s`;
    out = h > 0 ? `${h}h${m}m${s}` : m > 0 ? `${m}m${s}` : s;
  }
  return neg ? `-${out}` : out;
}

function trim(x: number): string {
  return String(Number(x.toFixed(9)));
}

/** Parses a byte size (`512`, `1k`, `300m`, `2gb`, `1.5GiB`), binary units as Docker reads them. */
export function parseBytes(v: string | number): number {
  if (typeof v === "number") return v;
  const n = ramInBytes(v);
  if (n === undefined) throw new LoadError(`invalid size: ${JSON.stringify(v)}`);
  return n;
}

/** Splits a command string into words as a POSIX shell would (quotes and backslashes; no expansion). */
export function shellSplit(s: string): string[] {
  const words: string[] = [];
  let cur = "";
  let inWord = false;
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (c === "'") {
      const end = s.indexOf("'", i + 1);
      if (end < 0)
        throw new LoadError(`invalid command line string: unterminated quote in ${JSON.stringify(s)}`);
      cur += s.slice(i + 1, end);
      i = end;
      inWord = true;
    } else if (c === '"') {
      let j = i + 1;
      for (; j < s.length && s[j] !== '"'; j++) {
        if (s[j] === "\\" && j + 1 < s.length && '"\\$`\n'.includes(s[j + 1])) j++;
        cur += s[j];
      }
      if (j >= s.length)
        throw new LoadError(`invalid command line string: unterminated quote in ${JSON.stringify(s)}`);
      i = j;
      inWord = true;
    } else if (c === "\\" && i + 1 < s.length) {
      cur += s[++i];
      inWord = true;
    } else if (c === " " || c === "\t" || c === "\n") {
      if (inWord) words.push(cur);
      cur = "";
      inWord = false;
    } else {
      cur += c;
      inWord = true;
    }
  }
  if (inWord) words.push(cur);
  return words;
}
