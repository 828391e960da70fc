/**
 * Carrying plans out on the engine: images, networks, volumes, then services level by level, each
 * waiting for its dependencies' conditions. Shared by up, create, start, restart and run.
 */
import type { ContainerInspectResponse } from "../../apitypes/index.ts";
import { createBody } from "../convert.ts";
import { isNotFound } from "../engine.ts";
import { containerName, imageName, LABELS, resourceLabels } from "../model.ts";
import {
  type ContainerRef,
  containerRef,
  type EngineState,
  type ServicePlan,
  type UpPlan,
  type Wait,
} from "../plan.ts";
import type { Project, ServiceConfig } from "../types.ts";
import { buildService } from "./build.ts";
import type { ComposeContext } from "./context.ts";

/** Reads what the engine has for a project. */
export async function engineState(
  ctx: ComposeContext,
  project: Project,
): Promise<EngineState & { hasNetworks: boolean }> {
  const e = ctx.engine();
  const [containers, networks, volumes] = await Promise.all([
    e.projectContainers(project.name),
    e.networks(),
    e.volumes(),
  ]);
  const images: Record<string, string> = {};
  await Promise.all(
    Object.values(project.services).map(async (s) => {
      const ref = imageName(project.name, s);
      const id = await e.imageId(ref);
      if (id) images[ref] = id;
    }),
  );
  return {
    containers,
    networks: networks ?? [],
    volumes: volumes ?? [],
    images,
    hasNetworks: networks !== undefined,
  };
}

/** Options of image preparation. */
export interface ImageOptions {
  build?: boolean;
  noBuild?: boolean;
  pull?: "always" | "missing" | "never";
  quietPull?: boolean;
}

/** Makes sure each service's image is there: build, pull, or fail, following pull_policy and flags. */
export async function ensureImages(
  ctx: ComposeContext,
  project: Project,
  services: string[],
  opts: ImageOptions = {},
): Promise<Record<string, string>> {
  const e = ctx.engine();
  const ids: Record<string, string> = {};
  for (const n of services) {
    const svc = project.services[n];
    const ref = imageName(project.name, svc);
    // daily/weekly/every_<d> need the last pull's time, which the engine does not keep: pulled when missing.
    const given = opts.pull ?? (svc.pull_policy as string | undefined) ?? "missing";
    const policy = /^(daily|weekly|every_.+|if_not_present)$/.test(given) ? "missing" : given;
    let id = await e.imageId(ref);
    const mustBuild = svc.build && !opts.noBuild && (opts.build || policy === "build" || (!id && !svc.image));
    if (mustBuild) {
      id = await buildService(ctx, project, svc);
    } else if (policy === "always" || (policy === "missing" && !id)) {
      if (!id && svc.build && !svc.image) {
        throw new Error(
          `service "${n}" has neither an image nor a build context specified: image ${ref} not built`,
        );
      }
      if (svc.image) {
        if (!opts.quietPull) ctx.progress("Image", ref, "Pulling");
        let pulled = true;
        try {
          await e.pull(ref);
        } catch (err) {
          pulled = false;
          // A service that can be built is built when its image cannot be pulled, as docker compose does.
          if (svc.build && !opts.noBuild) {
            ctx.warn(`${n}: pull failed, building ${ref}: ${(err as Error).message}`);
          } else if (!id || policy !== "always") {
            throw new Error(`Error response from daemon: ${(err as Error).message}`);
          }
        }
        if (pulled && !opts.quietPull) ctx.progress("Image", ref, "Pulled");
        id =
          pulled || !svc.build || opts.noBuild ? await e.imageId(ref) : await buildService(ctx, project, svc);
      }
    }
    if (!id) {
      throw new Error(`Error response from daemon: No such image: ${ref}`);
    }
    ids[n] = id;
  }
  return ids;
}

/** Creates the networks and volumes a plan needs. */
export async function ensureResources(
  ctx: ComposeContext,
  project: Project,
  plan: UpPlan,
  hasNetworks: boolean,
): Promise<void> {
  const e = ctx.engine();
  if (hasNetworks) {
    for (const n of plan.networks) {
      if (n.action !== "create") continue;
      const def = project.networks[n.key];
      ctx.progress("Network", n.name, "Creating");
      await e.networkCreate({
        Name: n.name,
        Driver: def.driver,
        Internal: def.internal,
        Attachable: def.attachable,
        EnableIPv6: def.enable_ipv6,
        Options: def.driver_opts
          ? Object.fromEntries(Object.entries(def.driver_opts).map(([k, v]) => [k, String(v)]))
          : undefined,
        IPAM: def.ipam
          ? {
              Driver: def.ipam.driver,
              Config: def.ipam.config?.map((c) => ({
                Subnet: c.subnet,
                IPRange: c.ip_range,
                Gateway: c.gateway,
              })),
            }
          : undefined,
        Labels: { ...stringLabels(def.labels), ...resourceLabels(project, "network", n.key) },
      });
      ctx.progress("Network", n.name, "Created");
    }
  } else if (plan.networks.some((n) => n.action === "create")) {
    ctx.warn("the engine has no network API yet: containers join its default bridge network");
  }
  for (const v of plan.volumes) {
    if (v.action !== "create") continue;
    const def = project.volumes[v.key];
    ctx.progress("Volume", `"${v.name}"`, "Creating");
    await e.volumeCreate({
      Name: v.name,
      Driver: def.driver,
      DriverOpts: def.driver_opts
        ? Object.fromEntries(Object.entries(def.driver_opts).map(([k, x]) => [k, String(x)]))
        : undefined,
      Labels: { ...stringLabels(def.labels), ...resourceLabels(project, "volume", v.key) },
    });
    ctx.progress("Volume", `"${v.name}"`, "Created");
  }
}

function stringLabels(l: Record<string, string | null> | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(l ?? {})) if (v !== null) out[k] = v;
  return out;
}

/** Stops (with the service's grace period or `timeout`) and removes a container. */
export async function stopAndRemove(
  ctx: ComposeContext,
  c: ContainerRef,
  opts: { timeout?: number; volumes?: boolean } = {},
): Promise<void> {
  const e = ctx.engine();
  if (c.state === "running" || c.state === "paused" || c.state === "restarting") {
    ctx.progress("Container", c.name, "Stopping");
    await e.client.containerStop(c.id, { t: opts.timeout });
    ctx.progress("Container", c.name, "Stopped");
  }
  ctx.progress("Container", c.name, "Removing");
  try {
    await e.client.containerRemove(c.id, { force: true, v: opts.volumes ?? false });
  } catch (err) {
    if (!isNotFound(err)) throw err;
  }
  ctx.progress("Container", c.name, "Removed");
}

/** Names of a service's running containers, for `service:x` references. */
function serviceContainerLookup(
  project: Project,
  created: Map<string, string[]>,
): (s: string) => string | undefined {
  return (s) =>
    created.get(s)?.[0] ??
    (project.services[s] ? containerName(project.name, project.services[s], 1) : undefined);
}

/** Anonymous volumes of a container, by target, so a recreated container keeps them. */
async function anonymousVolumes(
  ctx: ComposeContext,
  svc: ServiceConfig,
  id: string,
): Promise<Record<string, string>> {
  const info = await ctx
    .engine()
    .client.containerInspect(id)
    .catch(() => undefined);
  const out: Record<string, string> = {};
  const anonTargets = new Set(
    (svc.volumes ?? []).filter((v) => v.type === "volume" && !v.source).map((v) => v.target),
  );
  for (const m of (
    info as ContainerInspectResponse & { Mounts?: { Type?: string; Name?: string; Destination?: string }[] }
  )?.Mounts ?? []) {
    if (m.Type === "volume" && m.Name && m.Destination && anonTargets.has(m.Destination))
      out[m.Destination] = m.Name;
  }
  return out;
}

/** Options of applying an up plan. */
export interface ApplyOptions {
  /** Start containers (false for `create`). */
  start: boolean;
  timeout?: number;
  hasNetworks: boolean;
  imageIds: Record<string, string>;
}

/** Carries an up plan out; returns the containers of the selected services, by service. */
export async function applyUp(
  ctx: ComposeContext,
  project: Project,
  plan: UpPlan,
  opts: ApplyOptions,
): Promise<Map<string, string[]>> {
  await ensureResources(ctx, project, plan, opts.hasNetworks);
  if (plan.removeOrphans)
    for (const c of plan.orphans) await stopAndRemove(ctx, c, { timeout: opts.timeout });
  const names = new Map<string, string[]>();
  const lookup = serviceContainerLookup(project, names);
  for (const level of plan.levels) {
    // Every service of a level finishes what it began before a failure ends the command, so nothing is left
    // half-made; later levels are not started.
    const results = await Promise.allSettled(
      level.map(async (sp) => {
        try {
          if (opts.start) await waitForDependencies(ctx, project, sp.waitFor, sp.service);
          await applyService(ctx, project, sp, { ...opts, lookup, names });
        } catch (err) {
          ctx.progress("Service", sp.service, "Error");
          throw err;
        }
      }),
    );
    const failed = results.find((r) => r.status === "rejected");
    if (failed) throw failed.reason;
  }
  return names;
}

async function applyService(
  ctx: ComposeContext,
  project: Project,
  sp: ServicePlan,
  opts: ApplyOptions & { lookup: (s: string) => string | undefined; names: Map<string, string[]> },
): Promise<void> {
  const e = ctx.engine();
  const svc = project.services[sp.service];
  const mine: string[] = [];
  const create = async (number: number, name: string, anon?: Record<string, string>) => {
    const { body, extraNetworks } = createBody(svc, {
      project,
      number,
      name,
      imageId: opts.imageIds[sp.service],
      networks: opts.hasNetworks,
      serviceContainer: opts.lookup,
      anonymousVolumes: anon,
    });
    ctx.progress("Container", name, "Creating");
    const { Id } = await e.client.containerCreate(body, { name });
    for (const n of extraNetworks) await e.networkConnect(n.name, Id, n.endpoint);
    ctx.progress("Container", name, "Created");
    return Id;
  };
  const start = async (id: string, name: string) => {
    if (!opts.start) return;
    ctx.progress("Container", name, "Starting");
    await e.client.containerStart(id);
    ctx.progress("Container", name, "Started");
  };
  for (const a of sp.actions) {
    switch (a.kind) {
      case "remove":
        await stopAndRemove(ctx, a.container, { timeout: opts.timeout });
        break;
      case "create": {
        const id = await create(a.number, a.name);
        await start(id, a.name);
        mine.push(a.name);
        break;
      }
      case "recreate": {
        ctx.progress("Container", a.container.name, "Recreate");
        const anon = await anonymousVolumes(ctx, svc, a.container.id);
        if (a.container.state === "running")
          await e.client.containerStop(a.container.id, { t: opts.timeout });
        // Out of the way under a temporary name, so the new container can take the name.
        await e.rename(a.container.id, `${a.container.id.slice(0, 12)}_${a.container.name}`);
        const id = await create(a.number, a.name, anon);
        await e.client.containerRemove(a.container.id, { force: true });
        ctx.progress("Container", a.name, "Recreated");
        await start(id, a.name);
        mine.push(a.name);
        break;
      }
      case "start":
        await start(a.container.id, a.container.name);
        mine.push(a.container.name);
        break;
      case "restart":
        if (opts.start) {
          ctx.progress("Container", a.container.name, "Restarting");
          await e.client.containerRestart(a.container.id, { t: opts.timeout });
          ctx.progress("Container", a.container.name, "Started");
        }
        mine.push(a.container.name);
        break;
      case "keep":
        if (opts.start) ctx.progress("Container", a.container.name, "Running");
        mine.push(a.container.name);
        break;
    }
  }
  opts.names.set(sp.service, mine);
}

const POLL_MS = 200;

/** Waits until a container is running, healthy or exited 0, as `condition` asks. */
export async function waitCondition(
  ctx: ComposeContext,
  name: string,
  condition: Wait["condition"],
  opts: { timeoutMs?: number; service?: string } = {},
): Promise<void> {
  const e = ctx.engine();
  const deadline = opts.timeoutMs ? Date.now() + opts.timeoutMs : undefined;
  if (condition === "service_completed_successfully") {
    const { result } = await e.client.containerWait(name, { condition: "not-running" });
    const r = await result;
    if (r.StatusCode !== 0)
      throw new Error(
        `service ${JSON.stringify(opts.service ?? name)} didn't complete successfully: exit ${r.StatusCode}`,
      );
    return;
  }
  for (;;) {
    const info = await e.client.containerInspect(name);
    const st = info.State;
    if (condition === "service_started") {
      if (st?.Running || st?.Status === "exited") return;
    } else {
      const health = st?.Health?.Status;
      if (!st?.Health) throw new Error(`container ${name} has no healthcheck configured`);
      if (health === "healthy") return;
      if (health === "unhealthy")
        throw new Error(`dependency failed to start: container ${name} is unhealthy`);
      if (st && !st.Running)
        throw new Error(`dependency failed to start: container ${name} exited (${st.ExitCode})`);
    }
    if (deadline && Date.now() > deadline) throw new Error(`timeout waiting for ${name}`);
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
}

/** Waits for each dependency's containers to meet the dependency's condition. */
export async function waitForDependencies(
  ctx: ComposeContext,
  project: Project,
  waits: Wait[],
  service: string,
): Promise<void> {
  if (waits.length === 0) return;
  const all = (await ctx.engine().projectContainers(project.name, { oneoff: false })).map(containerRef);
  await Promise.all(
    waits.map(async (w) => {
      const cs = all.filter((c) => c.service === w.service);
      for (const c of cs) {
        if (w.condition !== "service_started") ctx.progress("Container", c.name, "Waiting");
        try {
          await waitCondition(ctx, c.name, w.condition, { service: w.service });
        } catch (err) {
          if (!w.required) {
            ctx.warn(`optional dependency "${w.service}" of "${service}" failed: ${(err as Error).message}`);
            continue;
          }
          throw err;
        }
        if (w.condition === "service_healthy") ctx.progress("Container", c.name, "Healthy");
        if (w.condition === "service_completed_successfully") ctx.progress("Container", c.name, "Exited");
      }
    }),
  );
}

/** Lists a project's containers as refs, optionally for some services only. */
export async function projectRefs(
  ctx: ComposeContext,
  project: string,
  opts: { services?: string[]; oneoff?: boolean; all?: boolean } = {},
): Promise<ContainerRef[]> {
  const list = await ctx.engine().projectContainers(project, { oneoff: opts.oneoff, all: opts.all ?? true });
  return list
    .map(containerRef)
    .filter((c) => opts.all !== false || c.state === "running" || c.state === "paused")
    .filter((c) => !opts.services || opts.services.length === 0 || opts.services.includes(c.service))
    .sort((a, b) => a.service.localeCompare(b.service) || a.number - b.number);
}

/** The label filter value that selects a project's containers. */
export function projectFilter(project: string): string {
  return `${LABELS.project}=${project}`;
}
