/**
 * The Compose Specification's merge rules, for `-f a.yaml -f b.yaml` and for `extends`: mappings merge
 * key by key, sequences append, with the spec's exceptions — command/entrypoint/healthcheck.test are
 * replaced; ports, volumes, secrets and configs merge by their unique keys; `!reset` drops a value and
 * `!override` replaces it. Inputs are in canonical syntax (canonical.ts), so list-or-dict fields are dicts.
 */
import { type Dict, isDict, Tagged, untag } from "./yaml.ts";

type Rule = (base: unknown, over: unknown, path: string) => unknown;

const replace: Rule = (_base, over) => untag(over);

function keyed(key: (x: unknown) => string): Rule {
  return (base, over) => {
    if (!Array.isArray(base) || !Array.isArray(over)) return untag(over);
    const out = [...base];
    for (const item of over.map(untag)) {
      const k = key(item);
      const i = out.findIndex((x) => key(x) === k);
      if (i >= 0) out[i] = item;
      else out.push(item);
    }
    return out;
  };
}

function appendUnique(base: unknown, over: unknown): unknown {
  if (!Array.isArray(base) || !Array.isArray(over)) return untag(over);
  const out = [...base];
  for (const item of over.map(untag)) {
    if (!out.some((x) => JSON.stringify(x) === JSON.stringify(item))) out.push(item);
  }
  return out;
}

function field(x: unknown, name: string): string {
  return isDict(x) && x[name] !== undefined && x[name] !== null ? String(x[name]) : "";
}

const portKey = (x: unknown) =>
  `${field(x, "host_ip")}|${field(x, "target")}|${field(x, "published")}|${field(x, "protocol") || "tcp"}`;
/** Where a secret or config lands: `/run/secrets/<source>` and `/<source>` when no target is given. */
function fileTargetKey(prefix: string): (x: unknown) => string {
  return (x) => {
    const target = field(x, "target") || field(x, "source");
    return target.startsWith("/") ? target : `${prefix}${target}`;
  };
}
const targetKey = (x: unknown) => (isDict(x) ? field(x, "target") || field(x, "source") : String(x));
const deviceKey = (x: unknown) => {
  if (isDict(x)) return field(x, "target") || field(x, "source");
  const parts = String(x).split(":");
  return parts[1] ?? parts[0];
};
const blkioKey = (x: unknown) => field(x, "path");

/** Service fields with their own rule; the rest follow the generic mapping/sequence/scalar rules. */
const SERVICE_RULES: Record<string, Rule> = {
  command: replace,
  entrypoint: replace,
  "healthcheck.test": replace,
  ports: keyed(portKey),
  volumes: keyed(targetKey),
  secrets: keyed(fileTargetKey("/run/secrets/")),
  configs: keyed(fileTargetKey("/")),
  devices: keyed(deviceKey),
  "blkio_config.device_read_bps": keyed(blkioKey),
  "blkio_config.device_read_iops": keyed(blkioKey),
  "blkio_config.device_write_bps": keyed(blkioKey),
  "blkio_config.device_write_iops": keyed(blkioKey),
  "blkio_config.weight_device": keyed(blkioKey),
  cap_add: appendUnique,
  cap_drop: appendUnique,
  expose: appendUnique,
  external_links: appendUnique,
  security_opt: appendUnique,
  device_cgroup_rules: appendUnique,
  links: appendUnique,
  profiles: appendUnique,
  "build.tags": appendUnique,
  "build.cache_from": appendUnique,
  // Per-key values of these maps are scalars: a later file replaces a value rather than merging into it.
  ulimits: (base, over) => mergeMaps(base, over, () => replace),
};

function mergeMaps(base: unknown, over: unknown, ruleFor: (key: string) => Rule | undefined): unknown {
  if (!isDict(base) || !isDict(over)) return untag(over);
  const out: Dict = { ...base };
  for (const [k, v] of Object.entries(over)) {
    if (v instanceof Tagged) {
      if (v.tag === "reset") delete out[k];
      else out[k] = untag(v.value);
      continue;
    }
    if (!(k in out) || out[k] === undefined) {
      out[k] = untag(v);
      continue;
    }
    const rule = ruleFor(k);
    out[k] = rule ? rule(out[k], v, k) : mergeGeneric(out[k], v);
  }
  return out;
}

/** Mapping: merged; sequence: appended; scalar (or differing kinds): replaced. */
function mergeGeneric(base: unknown, over: unknown): unknown {
  if (over instanceof Tagged) return over.tag === "reset" ? undefined : untag(over.value);
  if (isDict(base) && isDict(over)) return mergeMaps(base, over, () => undefined);
  if (Array.isArray(base) && Array.isArray(over)) return [...base, ...over.map(untag)];
  return untag(over);
}

function serviceRule(prefix: string): (key: string) => Rule | undefined {
  return (key) => {
    const path = prefix ? `${prefix}.${key}` : key;
    const rule = SERVICE_RULES[path];
    if (rule) return rule;
    if (path === "logging") return mergeLogging;
    // Recurse with the path so nested rules (healthcheck.test, build.tags, ...) apply.
    return (base, over) =>
      isDict(base) && isDict(over) ? mergeMaps(base, over, serviceRule(path)) : mergeGeneric(base, over);
  };
}

/** A logging block with another driver replaces the options; the same driver merges them. */
const mergeLogging: Rule = (base, over) => {
  if (!isDict(base) || !isDict(over)) return untag(over);
  const od = over.driver;
  if (od !== undefined && base.driver !== undefined && od !== base.driver) return untag(over);
  return mergeMaps(base, over, () => undefined);
};

/** Merges one service definition over another (later file, or local over an `extends` base). */
export function mergeService(base: Dict, over: Dict): Dict {
  return mergeMaps(base, over, serviceRule("")) as Dict;
}

/** The services of two files: by name, each service merged by the service rules. */
const mergeServices: Rule = (base, over) =>
  isDict(base) && isDict(over)
    ? mergeMaps(base, over, () => (b, o) => (isDict(b) && isDict(o) ? mergeService(b, o) : untag(o)))
    : mergeGeneric(base, over);

/** Merges a later file over the merge of the earlier ones. */
export function mergeFiles(base: Dict, over: Dict): Dict {
  return mergeMaps(base, over, (key) => (key === "services" ? mergeServices : undefined)) as Dict;
}
