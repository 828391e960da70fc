/**
 * Names, labels and ordering shared by every compose command: what docker compose calls things on the
 * engine (so `ps`, `down` and a later `up` find them again, from wharf or from docker compose itself) and
 * in which order services start and stop.
 */
import { createHash } from "node:crypto";
import { replicasOf } from "./load/index.ts";
import type { Project, ServiceConfig } from "./types.ts";

/** The version written into `com.docker.compose.version` and printed by `compose version`. */
export const COMPOSE_VERSION = "2.29.0-wharf";

/** The label keys docker compose sets and filters by. */
export const LABELS = {
  project: "com.docker.compose.project",
  service: "com.docker.compose.service",
  number: "com.docker.compose.container-number",
  oneoff: "com.docker.compose.oneoff",
  configHash: "com.docker.compose.config-hash",
  workingDir: "com.docker.compose.project.working_dir",
  configFiles: "com.docker.compose.project.config_files",
  environmentFile: "com.docker.compose.project.environment_file",
  version: "com.docker.compose.version",
  dependsOn: "com.docker.compose.depends_on",
  image: "com.docker.compose.image",
  network: "com.docker.compose.network",
  volume: "com.docker.compose.volume",
  replace: "com.docker.compose.replace",
} as const;

/** `<project>-<service>-<n>` unless the service sets container_name. */
export function containerName(project: string, svc: ServiceConfig, n: number): string {
  return svc.container_name ?? `${project}-${svc.name}-${n}`;
}

/** A one-off (`run`) container's name: `<project>-<service>-run-<12 hex>`. */
export function oneoffName(project: string, service: string, suffix: string): string {
  return `${project}-${service}-run-${suffix.slice(0, 12)}`;
}

/** The image name compose gives a built service without `image:` — `<project>-<service>`. */
export function imageName(project: string, svc: ServiceConfig): string {
  return svc.image ?? `${project}-${svc.name}`;
}

/** The engine name of a project network key. */
export function networkName(project: Project, key: string): string {
  return project.networks[key]?.name ?? `${project.name}_${key}`;
}

/** The engine name of a project volume key. */
export function volumeName(project: Project, key: string): string {
  return project.volumes[key]?.name ?? `${project.name}_${key}`;
}

function stable(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(stable);
  if (v && typeof v === "object") {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(v).sort()) {
      const x = (v as Record<string, unknown>)[k];
      if (x !== undefined) out[k] = stable(x);
    }
    return out;
  }
  return v;
}

/**
 * A stable hash of what the service's containers are made from. Fields that change how many containers
 * there are, how the image is obtained or what starts first (scale, replicas, build, pull_policy,
 * depends_on, profiles) are left out, so changing them never recreates a container.
 */
export function configHash(svc: ServiceConfig): string {
  const { scale: _s, build: _b, pull_policy: _p, depends_on: _d, profiles: _pr, deploy, ...rest } = svc;
  const copy: Record<string, unknown> = { ...rest };
  if (deploy) {
    const { replicas: _r, ...d } = deploy;
    if (Object.keys(d).length > 0) copy.deploy = d;
  }
  return createHash("sha256")
    .update(JSON.stringify(stable(copy)))
    .digest("hex");
}

/** `db:service_healthy:false,redis:service_started:true` — the depends_on label. */
export function dependsOnLabel(svc: ServiceConfig): string {
  return Object.entries(svc.depends_on ?? {})
    .map(([n, d]) => `${n}:${d.condition}:${d.restart === true}`)
    .join(",");
}

/** The compose labels of a service container (user labels are added by the caller). */
export function containerLabels(
  project: Project,
  svc: ServiceConfig,
  opts: { number: number; oneoff?: boolean; imageId?: string; envFiles?: string[] },
): Record<string, string> {
  const l: Record<string, string> = {
    [LABELS.project]: project.name,
    [LABELS.service]: svc.name,
    [LABELS.number]: String(opts.number),
    [LABELS.oneoff]: opts.oneoff ? "True" : "False",
    [LABELS.configHash]: configHash(svc),
    [LABELS.workingDir]: project.workingDir,
    [LABELS.configFiles]: project.configFiles.join(","),
    [LABELS.version]: COMPOSE_VERSION,
    [LABELS.dependsOn]: dependsOnLabel(svc),
  };
  if (opts.imageId) l[LABELS.image] = opts.imageId;
  if (opts.envFiles && opts.envFiles.length > 0) l[LABELS.environmentFile] = opts.envFiles.join(",");
  return l;
}

/** The labels of a project network or volume. */
export function resourceLabels(
  project: Project,
  kind: "network" | "volume",
  key: string,
): Record<string, string> {
  return {
    [LABELS.project]: project.name,
    [kind === "network" ? LABELS.network : LABELS.volume]: key,
    [LABELS.version]: COMPOSE_VERSION,
  };
}

/** A dependency cycle between services. */
export class DependencyCycleError extends Error {
  constructor(cycle: string[]) {
    super(`dependency cycle detected: ${cycle.join(" -> ")}`);
    this.name = "DependencyCycleError";
  }
}

/** The services a service waits for: depends_on, links, and `service:` network/ipc/pid modes. */
export function dependenciesOf(project: Project, svc: ServiceConfig): string[] {
  const deps = new Set(Object.keys(svc.depends_on ?? {}));
  for (const l of (svc.links ?? []) as string[]) deps.add(String(l).split(":")[0]);
  for (const mode of [svc.network_mode, svc.ipc, svc.pid]) {
    if (typeof mode === "string" && mode.startsWith("service:")) deps.add(mode.slice("service:".length));
  }
  for (const v of (svc.volumes_from ?? []) as string[]) {
    const s = String(v);
    if (!s.startsWith("container:")) deps.add(s.split(":")[0]);
  }
  return [...deps].filter((d) => d in project.services).sort();
}

/** Throws DependencyCycleError when services depend on each other in a loop. */
export function checkCycles(project: Project): void {
  const state = new Map<string, "visiting" | "done">();
  const stack: string[] = [];
  const visit = (n: string) => {
    if (state.get(n) === "done") return;
    if (state.get(n) === "visiting") throw new DependencyCycleError([...stack.slice(stack.indexOf(n)), n]);
    state.set(n, "visiting");
    stack.push(n);
    for (const d of dependenciesOf(project, project.services[n])) visit(d);
    stack.pop();
    state.set(n, "done");
  };
  for (const n of Object.keys(project.services).sort()) visit(n);
}

/** `names` plus everything they depend on, transitively (all services when `names` is empty). */
export function withDependencies(project: Project, names: string[]): string[] {
  if (names.length === 0) return Object.keys(project.services).sort();
  const out = new Set<string>();
  const add = (n: string) => {
    if (out.has(n) || !project.services[n]) return;
    out.add(n);
    for (const d of dependenciesOf(project, project.services[n])) add(d);
  };
  for (const n of names) add(n);
  return [...out].sort();
}

/** Services that depend on any of `names`, transitively (for stopping dependents first). */
export function dependents(project: Project, names: string[]): string[] {
  const out = new Set<string>();
  let grew = true;
  while (grew) {
    grew = false;
    for (const [n, s] of Object.entries(project.services)) {
      if (out.has(n) || names.includes(n)) continue;
      if (dependenciesOf(project, s).some((d) => names.includes(d) || out.has(d))) {
        out.add(n);
        grew = true;
      }
    }
  }
  return [...out].sort();
}

/**
 * Start order as levels: every service in a level depends only on services of earlier levels, so a level
 * can start in parallel. Restricted to `subset` when given (dependencies outside it are taken as met).
 */
export function startLevels(project: Project, subset?: string[]): string[][] {
  checkCycles(project);
  const todo = new Set(subset ?? Object.keys(project.services));
  const done = new Set<string>();
  const levels: string[][] = [];
  while (todo.size > 0) {
    const level = [...todo]
      .filter((n) => dependenciesOf(project, project.services[n]).every((d) => done.has(d) || !todo.has(d)))
      .sort();
    for (const n of level) {
      todo.delete(n);
    }
    for (const n of level) done.add(n);
    levels.push(level);
  }
  return levels;
}

/** Stop order: the reverse of start order (dependents first). */
export function stopLevels(project: Project, subset?: string[]): string[][] {
  return startLevels(project, subset).reverse();
}

/** How many containers `up` runs for a service, `--scale` first. */
export function desiredReplicas(svc: ServiceConfig, scale: Record<string, number> = {}): number {
  return scale[svc.name] ?? replicasOf(svc);
}
