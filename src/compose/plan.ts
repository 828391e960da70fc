/**
 * What `up` and `down` must do, computed from the model and the engine's current state as its list calls
 * return it — pure functions, so every decision (create, recreate, start, keep, scale, orphans) is testable
 * without a daemon. Commands carry the plans out through the client.
 */
import type { ContainerSummary } from "../apitypes/index.ts";
import {
  configHash,
  containerName,
  dependenciesOf,
  desiredReplicas,
  imageName,
  LABELS,
  startLevels,
  stopLevels,
  withDependencies,
} from "./model.ts";
import type { DependsOnConfig, Project, ServiceConfig } from "./types.ts";

/** A network or volume as the engine lists it. */
export interface EngineResource {
  Name: string;
  Id?: string;
  Labels?: Record<string, string> | null;
}

/** The engine state a plan starts from: the project's containers (all states), networks and volumes. */
export interface EngineState {
  containers: ContainerSummary[];
  networks: EngineResource[];
  volumes: EngineResource[];
  /** Current image ID per image reference, when known: a container made from another image is recreated. */
  images?: Record<string, string>;
}

/** A container of the project, from its labels. */
export interface ContainerRef {
  id: string;
  name: string;
  service: string;
  number: number;
  oneoff: boolean;
  state: string;
  hash: string;
  imageId: string;
}

/** Reads a listed container's compose labels. */
export function containerRef(c: ContainerSummary): ContainerRef {
  const l = c.Labels ?? {};
  return {
    id: c.Id,
    name: (c.Names?.[0] ?? c.Id).replace(/^\//, ""),
    service: l[LABELS.service] ?? "",
    number: Number(l[LABELS.number] ?? 0) || 0,
    oneoff: l[LABELS.oneoff] === "True",
    state: c.State ?? "",
    hash: l[LABELS.configHash] ?? "",
    imageId: l[LABELS.image] ?? c.ImageID ?? "",
  };
}

/** One thing to do to a service's containers. */
export type ContainerAction =
  | { kind: "create"; service: string; number: number; name: string }
  | { kind: "recreate"; service: string; number: number; name: string; container: ContainerRef }
  | { kind: "start"; service: string; container: ContainerRef }
  | { kind: "restart"; service: string; container: ContainerRef }
  | { kind: "keep"; service: string; container: ContainerRef }
  | { kind: "remove"; service: string; container: ContainerRef };

/** What to do for a network or volume. */
export interface ResourceAction {
  key: string;
  name: string;
  action: "create" | "exists" | "external";
  /** The engine object, when it exists. */
  id?: string;
}

/** A dependency to wait for before starting a service. */
export interface Wait {
  service: string;
  condition: DependsOnConfig["condition"];
  required: boolean;
}

/** The plan for one service. */
export interface ServicePlan {
  service: string;
  actions: ContainerAction[];
  waitFor: Wait[];
}

/** Everything `up` does, in order: resources, then services level by level. */
export interface UpPlan {
  networks: ResourceAction[];
  volumes: ResourceAction[];
  levels: ServicePlan[][];
  /** Containers of services the project no longer has. */
  orphans: ContainerRef[];
  /** True when orphans are to be removed (`--remove-orphans`), false when only reported. */
  removeOrphans: boolean;
  warnings: string[];
}

/** Options of `up` that change the plan. */
export interface UpOptions {
  /** Services named on the command line (default: all). */
  services?: string[];
  noDeps?: boolean;
  forceRecreate?: boolean;
  noRecreate?: boolean;
  /** Recreate dependencies too when forcing (`--always-recreate-deps`). */
  alwaysRecreateDeps?: boolean;
  removeOrphans?: boolean;
  scale?: Record<string, number>;
}

/** A plan that cannot be made (an external resource missing, a name clash). */
export class PlanError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "PlanError";
  }
}

function projectContainers(project: Project, state: EngineState): ContainerRef[] {
  return state.containers.filter((c) => c.Labels?.[LABELS.project] === project.name).map(containerRef);
}

/** Containers whose service is not (or no longer) in the project; disabled-by-profile services are not orphans. */
export function findOrphans(project: Project, state: EngineState): ContainerRef[] {
  return projectContainers(project, state).filter(
    (c) => !c.oneoff && !(c.service in project.services) && !(c.service in project.disabledServices),
  );
}

function planResources(
  project: Project,
  kind: "network" | "volume",
  keys: string[],
  existing: EngineResource[],
): ResourceAction[] {
  const defs = kind === "network" ? project.networks : project.volumes;
  return keys.map((key) => {
    const def = defs[key];
    const found = existing.find((r) => r.Name === def.name);
    if (def.external) {
      if (!found) {
        throw new PlanError(
          kind === "network"
            ? `network ${def.name} declared as external, but could not be found`
            : `external volume "${def.name}" not found`,
        );
      }
      return { key, name: def.name, action: "external", id: found.Id };
    }
    if (!found) return { key, name: def.name, action: "create" };
    // An existing one is used as it is, even one another project made (docker compose warns and does so).
    return { key, name: def.name, action: "exists", id: found.Id };
  });
}

/** What a service waits for before it starts: each dependency with its condition. */
export function waitsOf(project: Project, svc: ServiceConfig): Wait[] {
  return dependenciesOf(project, svc).map((d) => {
    const x = svc.depends_on?.[d];
    return { service: d, condition: x?.condition ?? "service_started", required: x?.required ?? true };
  });
}

/** Plans `up`. */
export function planUp(project: Project, state: EngineState, opts: UpOptions = {}): UpPlan {
  const targeted = opts.services && opts.services.length > 0 ? opts.services : Object.keys(project.services);
  for (const s of targeted) if (!project.services[s]) throw new PlanError(`no such service: ${s}`);
  const selected = opts.noDeps ? [...targeted].sort() : withDependencies(project, targeted);
  const warnings: string[] = [];
  const usedNetworks = new Set<string>();
  const usedVolumes = new Set<string>();
  for (const n of selected) {
    const svc = project.services[n];
    for (const k of Object.keys(svc.networks ?? {})) usedNetworks.add(k);
    for (const v of svc.volumes ?? []) if (v.type === "volume" && v.source) usedVolumes.add(v.source);
    if (svc.container_name && desiredReplicas(svc, opts.scale) > 1) {
      throw new PlanError(
        `services.${n}: can't set container_name and scale to more than 1 (container names must be unique)`,
      );
    }
  }
  const networks = planResources(project, "network", [...usedNetworks].sort(), state.networks);
  // Volumes are created even when no selected service uses them, as docker compose does.
  const volumes = planResources(
    project,
    "volume",
    [...new Set([...usedVolumes, ...Object.keys(project.volumes)])].sort(),
    state.volumes,
  );
  const mine = projectContainers(project, state).filter((c) => !c.oneoff);
  const changed = new Set<string>();
  const plans = new Map<string, ServicePlan>();
  for (const level of startLevels(project, selected)) {
    for (const n of level) {
      const svc = project.services[n];
      const isTarget = targeted.includes(n);
      const force = opts.forceRecreate && (isTarget || opts.alwaysRecreateDeps);
      const hash = configHash(svc);
      const wantImage = state.images?.[imageName(project.name, svc)];
      const current = mine
        .filter((c) => c.service === n)
        .sort((a, b) => a.number - b.number || a.name.localeCompare(b.name));
      const want = desiredReplicas(svc, opts.scale);
      const outdated = (c: ContainerRef) =>
        c.hash !== hash || (wantImage !== undefined && c.imageId !== "" && c.imageId !== wantImage);
      // Keep the best containers: up to date first, running first, then lowest numbers.
      const ranked = [...current].sort(
        (a, b) =>
          Number(outdated(a)) - Number(outdated(b)) ||
          Number(b.state === "running") - Number(a.state === "running") ||
          a.number - b.number,
      );
      const keep = ranked.slice(0, want).sort((a, b) => a.number - b.number);
      const actions: ContainerAction[] = [];
      for (const c of ranked.slice(want)) actions.push({ kind: "remove", service: n, container: c });
      const depChanged = Object.entries(svc.depends_on ?? {}).some(([d, x]) => x.restart && changed.has(d));
      for (const c of keep) {
        if (!opts.noRecreate && (force || outdated(c))) {
          actions.push({
            kind: "recreate",
            service: n,
            number: c.number,
            name: containerName(project.name, svc, c.number),
            container: c,
          });
        } else if (c.state !== "running") {
          actions.push({ kind: "start", service: n, container: c });
        } else if (depChanged) {
          actions.push({ kind: "restart", service: n, container: c });
        } else {
          actions.push({ kind: "keep", service: n, container: c });
        }
      }
      let next = Math.max(0, ...current.map((c) => c.number)) + 1;
      for (let i = keep.length; i < want; i++) {
        const number = next++;
        actions.push({ kind: "create", service: n, number, name: containerName(project.name, svc, number) });
      }
      if (actions.some((a) => a.kind === "create" || a.kind === "recreate")) changed.add(n);
      const waitFor = waitsOf(project, svc).filter((w) => selected.includes(w.service));
      plans.set(n, { service: n, actions, waitFor });
    }
  }
  const levels = startLevels(project, selected).map((l) => l.map((n) => plans.get(n) as ServicePlan));
  const orphans = findOrphans(project, state);
  if (orphans.length > 0 && !opts.removeOrphans) {
    const names = orphans.map((c) => c.name).join(", ");
    warnings.push(
      `Found orphan containers ([${names}]) for this project. If you removed or renamed this service in your compose file, you can run this command with the --remove-orphans flag to clean it up.`,
    );
  }
  return { networks, volumes, levels, orphans, removeOrphans: opts.removeOrphans === true, warnings };
}

/** Options of `down`. */
export interface DownOptions {
  removeOrphans?: boolean;
  volumes?: boolean;
  rmi?: "local" | "all";
  /** Only these services' containers (`compose down svc`); resources are then left alone. */
  services?: string[];
}

/** Everything `down` removes. */
export interface DownPlan {
  /** Containers level by level: dependents first. */
  levels: ContainerRef[][];
  orphans: ContainerRef[];
  networks: { key: string; name: string; id?: string }[];
  volumes: { key: string; name: string }[];
  images: string[];
  warnings: string[];
}

/** Plans `down`: what `up` made, and nothing else (external resources and other projects' stay). */
export function planDown(project: Project, state: EngineState, opts: DownOptions = {}): DownPlan {
  const all = projectContainers(project, state);
  const only = opts.services && opts.services.length > 0 ? new Set(opts.services) : undefined;
  const known = (c: ContainerRef) => c.service in project.services || c.service in project.disabledServices;
  const orphans = all.filter((c) => !c.oneoff && !known(c));
  const ours = all.filter((c) => (known(c) || c.oneoff) && (!only || only.has(c.service)));
  const levels: ContainerRef[][] = [];
  const byService = (names: string[]) =>
    ours.filter((c) => names.includes(c.service)).sort((a, b) => a.number - b.number);
  for (const level of stopLevels(
    project,
    Object.keys(project.services).filter((s) => !only || only.has(s)),
  )) {
    const cs = byService(level);
    if (cs.length > 0) levels.push(cs);
  }
  const rest = ours.filter((c) => !levels.some((l) => l.includes(c)));
  if (rest.length > 0) levels.unshift(rest);
  const warnings: string[] = [];
  if (opts.removeOrphans && orphans.length > 0) levels.unshift(orphans);
  else if (orphans.length > 0) {
    warnings.push(
      `Found orphan containers ([${orphans.map((c) => c.name).join(", ")}]) for this project. If you removed or renamed this service in your compose file, you can run this command with the --remove-orphans flag to clean it up.`,
    );
  }
  if (only) return { levels, orphans, networks: [], volumes: [], images: [], warnings };
  const networks = Object.entries(project.networks)
    .filter(([, n]) => !n.external)
    .flatMap(([key, n]) => {
      const found = state.networks.find(
        (x) => x.Name === n.name && (x.Labels?.[LABELS.project] ?? project.name) === project.name,
      );
      return found ? [{ key, name: n.name, id: found.Id }] : [];
    });
  const volumes = opts.volumes
    ? Object.entries(project.volumes)
        .filter(([, v]) => !v.external)
        .flatMap(([key, v]) => {
          const found = state.volumes.find(
            (x) => x.Name === v.name && (x.Labels?.[LABELS.project] ?? project.name) === project.name,
          );
          return found ? [{ key, name: v.name }] : [];
        })
    : [];
  const images = new Set<string>();
  if (opts.rmi) {
    for (const svc of [...Object.values(project.services), ...Object.values(project.disabledServices)]) {
      if (opts.rmi === "all" || !svc.image) images.add(imageName(project.name, svc));
    }
  }
  return { levels, orphans, networks, volumes, images: [...images].sort(), warnings };
}
