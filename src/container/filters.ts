import { InvalidParameterError } from "../errdefs/index.ts";
import { nowNs, parseFilterTime, parseRfc3339Ns } from "../util/index.ts";
import type { ContainerRecord } from "./model.ts";
import type { State } from "./state.ts";

const KNOWN = new Set([
  "id",
  "name",
  "label",
  "status",
  "ancestor",
  "exited",
  "before",
  "since",
  "health",
  "network",
  "volume",
  "publish",
  "expose",
  "is-task",
  "isolation",
]);
const STATUSES = new Set(["created", "restarting", "running", "removing", "paused", "exited", "dead"]);

/** Refuses unknown filter keys and values with Docker's texts. */
export function validateFilters(filters: Record<string, string[]>): void {
  for (const [k, vals] of Object.entries(filters)) {
    if (!KNOWN.has(k)) throw new InvalidParameterError(`invalid filter '${k}'`);
    if (k === "status")
      for (const v of vals)
        if (!STATUSES.has(v)) throw new InvalidParameterError(`invalid filter 'status=${v}'`);
    if (k === "exited")
      for (const v of vals)
        if (!/^-?\d+$/.test(v)) throw new InvalidParameterError(`invalid filter 'exited=${v}'`);
  }
}

/** Docker's label filter: `key` requires the label, `key=value` its value. */
export function labelsMatch(labels: Record<string, string>, wanted: string[]): boolean {
  return wanted.every((w) => {
    const i = w.indexOf("=");
    if (i < 0) return w in labels;
    return labels[w.slice(0, i)] === w.slice(i + 1);
  });
}

/** Whether a container passes every filter (values of one key are alternatives; keys all must hold). */
export function matchesFilters(
  rec: ContainerRecord,
  st: State,
  filters: Record<string, string[]>,
  ctx: { createdOf: (ref: string) => bigint; net: () => ContainerNet },
): boolean {
  const { createdOf } = ctx;
  const any = (k: string, pred: (v: string) => boolean) => !filters[k]?.length || filters[k].some(pred);
  const name = rec.Name.slice(1);
  return (
    any("id", (v) => rec.Id.startsWith(v)) &&
    any("name", (v) => {
      try {
        return new RegExp(v).test(name) || new RegExp(v).test(rec.Name);
      } catch {
        return name.includes(v);
      }
    }) &&
    (!filters.label?.length || labelsMatch(rec.Config.Labels ?? {}, filters.label)) &&
    any("status", (v) => st.status === v) &&
    any("exited", (v) => st.status === "exited" && st.exitCode === Number(v)) &&
    any("ancestor", (v) => {
      const img = rec.Config.Image ?? "";
      const bare = img.replace(/:latest$/, "");
      return (
        img === v ||
        bare === v.replace(/:latest$/, "") ||
        rec.Image === v ||
        rec.Image.slice(7).startsWith(v.replace(/^sha256:/, ""))
      );
    }) &&
    any("before", (v) => parseRfc3339Ns(rec.Created) < createdOf(v)) &&
    any("since", (v) => parseRfc3339Ns(rec.Created) > createdOf(v)) &&
    any("health", (v) => (st.health?.Status ?? "none") === v) &&
    any("is-task", (v) => v === "false") &&
    any("volume", (v) => rec.MountPoints.some((m) => m.Name === v || m.Destination === v)) &&
    any("network", (v) => {
      const nets = ctx.net().networks;
      return Object.entries(nets).some(([n, e]) => n === v || (!!e.NetworkID && e.NetworkID.startsWith(v)));
    }) &&
    any("publish", (v) => {
      const want = portSpec(v, "publish");
      // dockerd matches the host side of a published port here, the container side under `expose`.
      return ctx.net().ports.some((p) => p.PublicPort !== undefined && want(p.PublicPort, p.Type));
    }) &&
    any("expose", (v) => {
      const want = portSpec(v, "expose");
      const exposed = Object.keys(rec.Config.ExposedPorts ?? {}).map((k) => k.split("/"));
      return (
        exposed.some(([port, proto]) => want(Number(port), proto ?? "tcp")) ||
        ctx.net().ports.some((p) => want(p.PrivatePort, p.Type))
      );
    })
  );
}

/** A container's attachments and ports, as the list shows them. */
export interface ContainerNet {
  networks: Record<string, { NetworkID?: string }>;
  ports: { PrivatePort: number; PublicPort?: number; Type: string }[];
}

/** `80`, `80/udp`, `8000-8080/tcp` as the publish/expose filters take them: a container port predicate. */
function portSpec(v: string, key: string): (port: number, proto: string) => boolean {
  const m = /^(\d+)(?:-(\d+))?(?:\/(tcp|udp|sctp))?$/.exec(v);
  if (!m) throw new InvalidParameterError(`invalid filter '${key}=${v}'`);
  const lo = Number(m[1]);
  const hi = m[2] ? Number(m[2]) : lo;
  const proto = m[3] ?? "tcp";
  return (port, p) => port >= lo && port <= hi && p === proto;
}

/** A prune `until` (see util's parseFilterTime), with the container routes' error text. */
export function untilToNs(v: string): bigint {
  const ns = parseFilterTime(v, nowNs());
  if (ns === undefined) throw new InvalidParameterError(`invalid filter 'until=${v}'`);
  return ns;
}
