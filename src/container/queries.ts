import type { ContainerInspectResponse, ContainerSummary } from "../api/types.ts";
import { InvalidParameterError, isNotFound } from "../errdefs/index.ts";
import { parseRfc3339Ns } from "../util/index.ts";
import { matchesFilters, validateFilters } from "./filters.ts";
import type { Registry } from "./registry.ts";
import { toInspect, toSummary } from "./view.ts";

/** GET /containers/{id}/json */
export function inspectContainer(r: Registry, ref: string): ContainerInspectResponse {
  const c = r.get(ref);
  const execIds = r.execs.idsOf(c.id);
  return {
    ...toInspect(c.record, c.state, {
      dir: r.dir(c.id),
      lowerDirs: [],
      networkSettings: r.o.network.settings(c.id),
    }),
    ExecIDs: execIds.length ? execIds : null,
  };
}

/** GET /containers/json */
export function listContainers(
  r: Registry,
  opts: { all?: boolean; limit?: number; filters?: Record<string, string[]> },
): ContainerSummary[] {
  const filters = opts.filters ?? {};
  validateFilters(filters);
  // Docker lists stopped containers without -a only when a status filter asks for them, or with -n.
  const all = opts.all || (opts.limit ?? 0) > 0 || "status" in filters;
  const lookupCreated = (ref: string): bigint => {
    try {
      return parseRfc3339Ns(r.get(ref).record.Created);
    } catch (e) {
      if (isNotFound(e)) throw new InvalidParameterError(`No such container: ${ref}`);
      throw e;
    }
  };
  let out = [...r.index.values()]
    .filter((c) => all || c.state.State.Running)
    .filter((c) =>
      matchesFilters(c.record, c.state, filters, {
        createdOf: lookupCreated,
        net: () => r.o.network.summary(c.id),
      }),
    )
    .sort((a, b) => (parseRfc3339Ns(b.record.Created) > parseRfc3339Ns(a.record.Created) ? 1 : -1));
  if (opts.limit && opts.limit > 0) out = out.slice(0, opts.limit);
  return out.map((c) => {
    const net = r.o.network.summary(c.id);
    return {
      ...toSummary(c.record, c.state),
      Ports: net.ports,
      NetworkSettings: { Networks: net.networks },
    };
  });
}

/** Number of containers by state, for /info. */
export function countContainers(r: Registry): {
  total: number;
  running: number;
  paused: number;
  stopped: number;
} {
  let running = 0;
  let paused = 0;
  for (const c of r.index.values()) {
    if (c.state.State.Paused) paused++;
    else if (c.state.State.Running) running++;
  }
  const total = r.index.size;
  return { total, running, paused, stopped: total - running - paused };
}

/** Whether some container uses this image, and whether one of those runs (for rmi's conflict rules). */
export function imageUse(
  r: Registry,
  imageId: string,
): { running: boolean; containerId: string } | undefined {
  let found: { running: boolean; containerId: string } | undefined;
  for (const c of r.index.values()) {
    if (c.record.Image !== imageId) continue;
    if (c.state.State.Running) return { running: true, containerId: c.id };
    found ??= { running: false, containerId: c.id };
  }
  return found;
}
