/**
 * From the merged file to the canonical model: paths resolved against the project directory, commands
 * split into words, environment completed from env files and the shell, durations and byte sizes in one
 * form, default network and resource names, and the references between services and resources checked.
 */
import { homedir } from "node:os";
import { isAbsolute, join, resolve } from "node:path";
import type {
  BuildConfig,
  FileObjectConfig,
  NetworkConfig,
  Project,
  ServiceConfig,
  VolumeConfig,
} from "../types.ts";
import { toInt } from "./canonical.ts";
import { readEnvFile } from "./envfile.ts";
import { LoadError } from "./errors.ts";
import type { Lookup } from "./interpolate.ts";
import { formatDuration, parseBytes, parseDuration, shellSplit } from "./syntax.ts";
import { type Dict, isDict } from "./yaml.ts";

/** What normalisation needs besides the merged file. */
export interface NormalizeOptions {
  projectName: string;
  workingDir: string;
  configFiles: string[];
  environment: Record<string, string>;
  /** Profiles switched on (`*` for all). */
  profiles: string[];
  /** Services named on the command line: enabled whatever their profiles. */
  services?: string[];
  onWarning?: (message: string) => void;
  /** Leave relative paths as written (`config --no-path-resolution`). */
  noPathResolution?: boolean;
}

function sortKeys<T>(o: Record<string, T>): Record<string, T> {
  return Object.fromEntries(Object.entries(o).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

function isRemoteContext(c: string): boolean {
  return /^(https?:\/\/|git@|git:\/\/|github\.com\/)/.test(c) || c.includes(".git#");
}

function expandHome(p: string): string {
  if (p === "~") return homedir();
  if (p.startsWith("~/")) return join(homedir(), p.slice(2));
  return p;
}

function durationField(o: Dict, key: string, path: string): void {
  if (o[key] === undefined || o[key] === null) return;
  try {
    o[key] = formatDuration(parseDuration(o[key] as string | number));
  } catch (err) {
    throw new LoadError(`${path}.${key}: ${(err as Error).message}`);
  }
}

function bytesField(o: Dict | undefined, key: string, path: string): void {
  if (!o || o[key] === undefined || o[key] === null) return;
  try {
    o[key] = parseBytes(o[key] as string | number);
  } catch (err) {
    throw new LoadError(`${path}.${key}: ${(err as Error).message}`);
  }
}

/** Normalises one service; `lookup` completes key-only environment entries and build args. */
async function normalizeService(
  name: string,
  raw: Dict,
  opts: NormalizeOptions & { lookup: Lookup },
): Promise<ServiceConfig> {
  const s: Dict = structuredClone(raw);
  const at = `services.${name}`;
  const abs = (p: string) => {
    const e = expandHome(p);
    return opts.noPathResolution || isAbsolute(e) ? e : resolve(opts.workingDir, e);
  };
  if (isDict(s.build)) {
    const b = s.build as BuildConfig;
    const ctx = typeof b.context === "string" ? b.context : ".";
    b.context = isRemoteContext(ctx) ? ctx : abs(ctx);
    if (b.dockerfile === undefined && b.dockerfile_inline === undefined) b.dockerfile = "Dockerfile";
    if (b.args) {
      for (const [k, v] of Object.entries(b.args)) if (v === null) b.args[k] = opts.lookup(k) ?? null;
    }
    bytesField(b, "shm_size", `${at}.build`);
  }
  for (const k of ["command", "entrypoint"]) {
    if (typeof s[k] === "string") s[k] = shellSplit(s[k] as string);
  }
  if (Array.isArray(s.env_file)) {
    s.env_file = (s.env_file as Dict[]).map((e) => ({ ...e, path: abs(String(e.path)) }));
  }
  // label_file entries under `labels`, later files over earlier ones; the result is plain labels.
  if (Array.isArray(s.label_file)) {
    const labels: Record<string, string> = {};
    for (const p of s.label_file.map((x) => abs(String(x)))) {
      for (const [k, v] of await readEnvFile(p, { lookup: opts.lookup, raw: true })) labels[k] = v ?? "";
    }
    s.labels = { ...labels, ...(isDict(s.labels) ? s.labels : {}) };
    delete s.label_file;
  }
  // env_file values first, then `environment` over them, key-only entries completed from the shell.
  if (Array.isArray(s.env_file) || s.environment !== undefined) {
    const env: Record<string, string | null> = {};
    for (const f of (s.env_file ?? []) as { path: string; required: boolean; format?: string }[]) {
      let vars: Map<string, string | undefined>;
      try {
        vars = await readEnvFile(f.path, { lookup: opts.lookup, raw: f.format === "raw" });
      } catch (err) {
        if (!f.required && err instanceof LoadError && err.message.includes("not found")) continue;
        throw err;
      }
      for (const [k, v] of vars) env[k] = v ?? opts.lookup(k) ?? null;
    }
    for (const [k, v] of Object.entries((s.environment ?? {}) as Record<string, string | null>)) {
      env[k] = v === null ? (opts.lookup(k) ?? null) : v;
    }
    s.environment = sortKeys(env);
  }
  if (isDict(s.labels)) s.labels = sortKeys(s.labels);
  if (Array.isArray(s.volumes)) {
    s.volumes = (s.volumes as Dict[]).map((v, i) => {
      const m: Dict = { ...v };
      if (m.type === "bind" && typeof m.source === "string") m.source = abs(m.source);
      if (isDict(m.tmpfs)) {
        m.tmpfs = { ...m.tmpfs };
        bytesField(m.tmpfs as Dict, "size", `${at}.volumes[${i}].tmpfs`);
      }
      return m;
    });
  }
  if (isDict(s.healthcheck)) {
    const h = s.healthcheck;
    for (const k of ["interval", "timeout", "start_period", "start_interval"])
      durationField(h, k, `${at}.healthcheck`);
  }
  durationField(s, "stop_grace_period", at);
  for (const k of ["mem_limit", "mem_reservation", "memswap_limit", "shm_size"]) bytesField(s, k, at);
  if (isDict(s.deploy)) {
    const r = s.deploy.resources;
    if (isDict(r)) {
      if (isDict(r.limits)) bytesField(r.limits, "memory", `${at}.deploy.resources.limits`);
      if (isDict(r.reservations)) bytesField(r.reservations, "memory", `${at}.deploy.resources.reservations`);
    }
    const replicas = s.deploy.replicas;
    if (replicas !== undefined && replicas !== null && s.scale !== undefined && s.scale !== replicas) {
      throw new LoadError(`${at}: can't set distinct values on 'scale' and 'deploy.replicas'`);
    }
  }
  if (s.pids_limit !== undefined) s.pids_limit = toInt(s.pids_limit, `${at}.pids_limit`);
  if (s.networks === undefined && s.network_mode === undefined) s.networks = { default: null };
  if (isDict(s.networks)) s.networks = sortKeys(s.networks);
  return { ...sortKeys(s), name } as ServiceConfig;
}

/** The number of containers a service runs (scale, else deploy.replicas, else 1). */
export function replicasOf(svc: ServiceConfig): number {
  return svc.scale ?? svc.deploy?.replicas ?? 1;
}

function resourceName(project: string, key: string, def: Dict): { name: string; external?: boolean } {
  let external = def.external;
  let name = typeof def.name === "string" ? def.name : undefined;
  // The legacy `external: {name: x}` form.
  if (isDict(external)) {
    if (typeof external.name === "string") name ??= external.name;
    external = true;
  }
  if (external === true) return { name: name ?? key, external: true };
  return { name: name ?? `${project}_${key}` };
}

function resources<T>(
  project: string,
  raw: unknown,
  extra?: (key: string, d: Dict) => void,
): Record<string, T> {
  const out: Record<string, T> = {};
  if (!isDict(raw)) return out;
  for (const [key, v] of Object.entries(raw)) {
    const def: Dict = isDict(v) ? { ...v } : {};
    const { name, external } = resourceName(project, key, def);
    def.name = name;
    if (external) def.external = true;
    else delete def.external;
    extra?.(key, def);
    out[key] = sortKeys(def) as T;
  }
  return sortKeys(out);
}

/** Decides which services profiles enable; explicitly named services switch their profiles on. */
function applyProfiles(
  services: Record<string, Dict>,
  active: string[],
  named: string[],
): { enabled: string[]; disabled: string[]; profiles: string[] } {
  const set = new Set(active);
  for (const n of named) {
    const p = services[n]?.profiles;
    if (Array.isArray(p)) for (const x of p) set.add(String(x));
  }
  const all = set.has("*");
  const enabled: string[] = [];
  const disabled: string[] = [];
  for (const [n, s] of Object.entries(services)) {
    const p = Array.isArray(s.profiles) ? s.profiles.map(String) : [];
    if (p.length === 0 || all || named.includes(n) || p.some((x) => set.has(x))) enabled.push(n);
    else disabled.push(n);
  }
  return { enabled, disabled, profiles: [...set].sort() };
}

/** Builds the Project from the merged file. */
export async function normalizeProject(merged: Dict, opts: NormalizeOptions): Promise<Project> {
  const lookup: Lookup = (k) => opts.environment[k];
  const rawServices: Record<string, Dict> = {};
  if (isDict(merged.services)) {
    for (const [n, s] of Object.entries(merged.services)) rawServices[n] = isDict(s) ? s : {};
  }
  for (const n of opts.services ?? []) {
    if (!(n in rawServices)) throw new LoadError(`no such service: ${n}`);
  }
  const { enabled, disabled, profiles } = applyProfiles(rawServices, opts.profiles, opts.services ?? []);
  const services: Record<string, ServiceConfig> = {};
  const disabledServices: Record<string, ServiceConfig> = {};
  for (const n of enabled.sort())
    services[n] = await normalizeService(n, rawServices[n], { ...opts, lookup });
  for (const n of disabled.sort()) {
    disabledServices[n] = await normalizeService(n, rawServices[n], { ...opts, lookup });
  }
  const p = opts.projectName;
  const networks = resources<NetworkConfig>(p, merged.networks);
  const usesDefault = Object.values(services).some((s) => s.networks && "default" in s.networks);
  if (usesDefault && !networks.default) networks.default = { name: `${p}_default` };
  const volumes = resources<VolumeConfig>(p, merged.volumes);
  const fileObject = (_key: string, d: Dict) => {
    if (typeof d.file === "string")
      d.file = opts.noPathResolution ? d.file : resolve(opts.workingDir, expandHome(d.file));
  };
  const secrets = resources<FileObjectConfig>(p, merged.secrets, fileObject);
  const configs = resources<FileObjectConfig>(p, merged.configs, fileObject);
  const extensions: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(merged)) if (k.startsWith("x-")) extensions[k] = v;
  const project: Project = {
    name: p,
    workingDir: opts.workingDir,
    configFiles: opts.configFiles,
    environment: opts.environment,
    services: sortKeys(services),
    disabledServices,
    networks: sortKeys(networks),
    volumes,
    secrets,
    configs,
    extensions,
    profiles,
  };
  checkReferences(project, opts.onWarning);
  return project;
}

function invalid(msg: string): LoadError {
  return new LoadError(`${msg}: invalid compose project`);
}

/** Every reference from a service names something the project defines (docker compose's consistency check). */
function checkReferences(project: Project, onWarning?: (m: string) => void): void {
  for (const [n, s] of Object.entries(project.services)) {
    for (const [dep, d] of Object.entries(s.depends_on ?? {})) {
      if (project.services[dep]) continue;
      if (!d.required) {
        onWarning?.(`service "${n}" depends on undefined service "${dep}": it is not required, ignoring`);
        delete s.depends_on?.[dep];
        continue;
      }
      throw invalid(`service "${n}" depends on undefined service "${dep}"`);
    }
    for (const l of (s.links ?? []) as string[]) {
      const target = String(l).split(":")[0];
      if (!project.services[target]) throw invalid(`service "${n}" depends on undefined service "${target}"`);
    }
    for (const net of Object.keys(s.networks ?? {})) {
      if (!project.networks[net]) throw invalid(`service "${n}" refers to undefined network ${net}`);
    }
    const mode = s.network_mode;
    if (typeof mode === "string" && mode.startsWith("service:")) {
      const target = mode.slice("service:".length);
      if (!project.services[target]) throw invalid(`service "${n}" depends on undefined service "${target}"`);
    }
    if (mode && s.networks && Object.keys(s.networks).length > 0) {
      throw new LoadError(`service ${n} declares mutually exclusive \`network_mode\` and \`networks\``);
    }
    for (const v of s.volumes ?? []) {
      if (v.type === "volume" && v.source && !project.volumes[v.source]) {
        throw invalid(`service "${n}" refers to undefined volume ${v.source}`);
      }
    }
    for (const sec of s.secrets ?? []) {
      if (!project.secrets[sec.source])
        throw invalid(`service "${n}" refers to undefined secret ${sec.source}`);
    }
    for (const c of s.configs ?? []) {
      if (!project.configs[c.source]) throw invalid(`service "${n}" refers to undefined config ${c.source}`);
    }
  }
}
