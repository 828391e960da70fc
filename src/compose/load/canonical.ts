/**
 * Rewrites one file's short syntaxes into long ones, and strings that interpolation produced into the
 * numbers and booleans the fields mean, so that files merge field by field (the spec's unique keys need
 * the long forms: ports by {ip, target, published, protocol}, volumes by target). Paths stay as written.
 */
import { LoadError } from "./errors.ts";
import { childPath } from "./interpolate.ts";
import { parsePortShort, parseVolumeShort } from "./syntax.ts";
import { type Dict, isDict, Tagged } from "./yaml.ts";

/** Reads a boolean the way compose-go does: true/yes/y/on and false/no/n/off, any case. */
export function toBool(v: unknown, path: string): boolean {
  if (typeof v === "boolean") return v;
  const s = String(v).toLowerCase();
  if (["true", "yes", "y", "on"].includes(s)) return true;
  if (["false", "no", "n", "off"].includes(s)) return false;
  throw new LoadError(`${path}: invalid boolean: ${JSON.stringify(v)}`);
}

/** Reads an integer from a number or a decimal string. */
export function toInt(v: unknown, path: string): number {
  if (typeof v === "number" && Number.isInteger(v)) return v;
  if (typeof v === "string" && /^\s*[-+]?\d+\s*$/.test(v)) return Number.parseInt(v, 10);
  throw new LoadError(`${path}: invalid integer: ${JSON.stringify(v)}`);
}

/** Reads a float from a number or a string. */
export function toFloat(v: unknown, path: string): number {
  if (typeof v === "number") return v;
  if (typeof v === "string" && v.trim() !== "" && !Number.isNaN(Number(v))) return Number(v);
  throw new LoadError(`${path}: invalid number: ${JSON.stringify(v)}`);
}

/** Scalars in a list-or-dict as strings; a YAML null stays null (a key without a value). */
function scalarString(v: unknown): string | null {
  if (v === null || v === undefined) return null;
  if (typeof v === "object") return JSON.stringify(v);
  return String(v);
}

/** `["K=V", "K"]` or `{K: V}` → `{K: "V", K2: null}`. */
export function listOrDict(v: unknown, sep = "="): Record<string, string | null> {
  // A `!reset` inside the map stays a Tagged for the merge to act on.
  const out: Record<string, string | null> = {};
  if (Array.isArray(v)) {
    for (const item of v) {
      const s = String(item);
      const i = s.indexOf(sep);
      if (i < 0) out[s] = null;
      else out[s.slice(0, i)] = s.slice(i + 1);
    }
  } else if (isDict(v)) {
    for (const [k, x] of Object.entries(v))
      out[k] = x instanceof Tagged ? (x as unknown as string) : scalarString(x);
  }
  return out;
}

function extraHosts(v: unknown): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  const add = (host: string, ip: string) => {
    const prev = out[host];
    if (prev === undefined) out[host] = ip;
    else out[host] = [...(Array.isArray(prev) ? prev : [prev]), ip];
  };
  if (Array.isArray(v)) {
    for (const item of v) {
      const s = String(item);
      // `host=ip` is the newer form; `host:ip` splits at the first colon so IPv6 addresses survive.
      const i = s.includes("=") ? s.indexOf("=") : s.indexOf(":");
      if (i < 0) throw new LoadError(`invalid extra_hosts entry ${JSON.stringify(s)}: expected host:ip`);
      add(s.slice(0, i), s.slice(i + 1));
    }
  } else if (isDict(v)) {
    for (const [k, x] of Object.entries(v)) {
      if (Array.isArray(x)) for (const ip of x) add(k, String(ip));
      else add(k, String(x));
    }
  }
  return out;
}

function stringList(v: unknown): string[] {
  if (v === null || v === undefined) return [];
  return Array.isArray(v) ? v.map(String) : [String(v)];
}

/** Applies `fn` to a field's value, looking inside `!reset`/`!override`. */
function mapTagged(v: unknown, fn: (x: unknown) => unknown): unknown {
  if (v instanceof Tagged) return new Tagged(v.tag, v.value === null ? null : fn(v.value));
  return fn(v);
}

function ports(v: unknown, path: string): unknown[] {
  if (!Array.isArray(v)) return [];
  const out: unknown[] = [];
  v.forEach((p, i) => {
    const at = childPath(path, i);
    if (typeof p === "number" || typeof p === "string") {
      try {
        out.push(...parsePortShort(p));
      } catch (err) {
        throw new LoadError(`${at}: ${(err as Error).message}`);
      }
      return;
    }
    if (!isDict(p)) return;
    const e: Dict = {};
    if (p.name !== undefined) e.name = p.name;
    e.mode = p.mode ?? "ingress";
    if (p.host_ip !== undefined && p.host_ip !== "") e.host_ip = String(p.host_ip);
    e.target = toInt(p.target, childPath(at, "target"));
    if (p.published !== undefined && p.published !== null && p.published !== "")
      e.published = String(p.published);
    e.protocol = p.protocol ?? "tcp";
    if (p.app_protocol !== undefined) e.app_protocol = p.app_protocol;
    for (const [k, x] of Object.entries(p)) if (k.startsWith("x-")) e[k] = x;
    out.push(e);
  });
  return out;
}

function volumes(v: unknown, path: string): unknown[] {
  if (!Array.isArray(v)) return [];
  return v.map((x, i) => {
    const at = childPath(path, i);
    if (typeof x === "string") {
      try {
        return parseVolumeShort(x);
      } catch (err) {
        throw new LoadError(`${at}: ${(err as Error).message}`);
      }
    }
    if (!isDict(x)) return x;
    const e: Dict = { ...x };
    if (e.read_only !== undefined) e.read_only = toBool(e.read_only, childPath(at, "read_only"));
    if (isDict(e.bind)) {
      const b: Dict = { ...e.bind };
      if (b.create_host_path !== undefined) b.create_host_path = toBool(b.create_host_path, `${at}.bind`);
      e.bind = b;
    }
    if (isDict(e.volume)) {
      const vo: Dict = { ...e.volume };
      if (vo.nocopy !== undefined) vo.nocopy = toBool(vo.nocopy, `${at}.volume`);
      if (vo.labels !== undefined) vo.labels = listOrDict(vo.labels);
      e.volume = vo;
    }
    return e;
  });
}

function fileRefs(v: unknown): unknown[] {
  if (!Array.isArray(v)) return [];
  return v.map((x) => (typeof x === "string" ? { source: x } : x));
}

function dependsOn(v: unknown, path: string): Dict {
  const out: Dict = {};
  if (Array.isArray(v)) {
    for (const s of v) out[String(s)] = { condition: "service_started", required: true };
  } else if (isDict(v)) {
    for (const [k, x] of Object.entries(v)) {
      const d: Dict = isDict(x) ? { ...x } : {};
      d.condition ??= "service_started";
      d.required = d.required === undefined ? true : toBool(d.required, childPath(path, k));
      if (d.restart !== undefined) d.restart = toBool(d.restart, childPath(path, k));
      out[k] = d;
    }
  }
  return out;
}

function envFiles(v: unknown, path: string): Dict[] {
  const list = Array.isArray(v) ? v : v === undefined || v === null ? [] : [v];
  return list.map((x, i) => {
    if (typeof x === "string") return { path: x, required: true };
    const d: Dict = isDict(x) ? { ...x } : {};
    d.required = d.required === undefined ? true : toBool(d.required, childPath(path, i));
    return d;
  });
}

function healthcheck(v: unknown, path: string): unknown {
  if (!isDict(v)) return v;
  const h: Dict = { ...v };
  if (typeof h.test === "string") h.test = ["CMD-SHELL", h.test];
  if (h.retries !== undefined) h.retries = toInt(h.retries, `${path}.retries`);
  if (h.disable !== undefined) h.disable = toBool(h.disable, `${path}.disable`);
  return h;
}

function build(v: unknown, path: string): unknown {
  if (typeof v === "string") return { context: v };
  if (!isDict(v)) return v;
  const b: Dict = { ...v };
  if (b.args !== undefined) b.args = listOrDict(b.args);
  if (b.labels !== undefined) b.labels = listOrDict(b.labels);
  if (b.extra_hosts !== undefined) b.extra_hosts = extraHosts(b.extra_hosts);
  for (const k of ["no_cache", "pull", "privileged"])
    if (b[k] !== undefined) b[k] = toBool(b[k], `${path}.${k}`);
  return b;
}

function ulimits(v: unknown, path: string): unknown {
  if (!isDict(v)) return v;
  const out: Dict = {};
  for (const [k, x] of Object.entries(v)) {
    if (isDict(x)) {
      out[k] = { soft: toInt(x.soft, `${path}.${k}.soft`), hard: toInt(x.hard, `${path}.${k}.hard`) };
    } else out[k] = toInt(x, `${path}.${k}`);
  }
  return out;
}

function deploy(v: unknown, path: string): unknown {
  if (!isDict(v)) return v;
  const d: Dict = { ...v };
  if (d.replicas !== undefined && d.replicas !== null) d.replicas = toInt(d.replicas, `${path}.replicas`);
  if (d.labels !== undefined) d.labels = listOrDict(d.labels);
  return d;
}

const SERVICE_BOOLS = ["init", "privileged", "read_only", "stdin_open", "tty", "oom_kill_disable"];
const SERVICE_INTS = ["scale", "cpu_count", "cpu_percent", "oom_score_adj", "mem_swappiness", "pids_limit"];
const LIST_OR_DICT = ["environment", "labels", "annotations", "sysctls"];
const STRING_LISTS = ["dns", "dns_search", "tmpfs", "label_file"];

/** Canonical syntax of one service (see the file comment). */
export function canonicalService(svc: Dict, path: string): Dict {
  const out: Dict = {};
  for (const [k, raw] of Object.entries(svc)) {
    const at = childPath(path, k);
    out[k] = mapTagged(raw, (v) => {
      if (SERVICE_BOOLS.includes(k)) return toBool(v, at);
      if (SERVICE_INTS.includes(k)) return toInt(v, at);
      if (LIST_OR_DICT.includes(k)) return listOrDict(v);
      if (STRING_LISTS.includes(k)) return stringList(v);
      switch (k) {
        case "cpus":
          return toFloat(v, at);
        case "build":
          return build(v, at);
        case "ports":
          return ports(v, at);
        case "expose":
          return Array.isArray(v) ? v.map(String) : v;
        case "volumes":
          return volumes(v, at);
        case "secrets":
        case "configs":
          return fileRefs(v);
        case "depends_on":
          return dependsOn(v, at);
        case "networks":
          return Array.isArray(v) ? Object.fromEntries(v.map((n) => [String(n), null])) : v;
        case "env_file":
          return envFiles(v, at);
        case "extra_hosts":
          return extraHosts(v);
        case "healthcheck":
          return healthcheck(v, at);
        case "ulimits":
          return ulimits(v, at);
        case "deploy":
          return deploy(v, at);
        case "extends":
          return typeof v === "string" ? { service: v } : v;
        default:
          return v;
      }
    });
  }
  return out;
}

const RESOURCE_BOOLS = ["external", "internal", "attachable", "enable_ipv6", "enable_ipv4"];

function canonicalResources(v: unknown, path: string): unknown {
  if (!isDict(v)) return v;
  const out: Dict = {};
  for (const [name, def] of Object.entries(v)) {
    if (!isDict(def)) {
      out[name] = def;
      continue;
    }
    const d: Dict = { ...def };
    for (const k of RESOURCE_BOOLS) {
      if (d[k] !== undefined && !isDict(d[k])) d[k] = toBool(d[k], `${path}.${name}.${k}`);
    }
    if (d.labels !== undefined) d.labels = listOrDict(d.labels);
    out[name] = d;
  }
  return out;
}

/** Canonical syntax of a whole file. */
export function canonicalFile(file: Dict): Dict {
  const out: Dict = { ...file };
  if (isDict(file.services)) {
    const services: Dict = {};
    for (const [name, svc] of Object.entries(file.services)) {
      services[name] = isDict(svc) ? canonicalService(svc, `services.${name}`) : svc;
    }
    out.services = services;
  }
  for (const k of ["networks", "volumes", "secrets", "configs"]) {
    if (file[k] !== undefined) out[k] = mapTagged(file[k], (v) => canonicalResources(v, k));
  }
  return out;
}
