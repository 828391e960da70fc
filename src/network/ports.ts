/** Published ports: from a container's config to the bindings to set up, and back to Docker's JSON. */
import type { Port, PortMap } from "../api/types.ts";
import { InvalidParameterError } from "../errdefs/index.ts";

/** One wanted binding before a host port is chosen: hostPortLow..High (0 = ephemeral). */
export interface WantedBinding {
  proto: "tcp" | "udp" | "sctp";
  containerPort: number;
  hostIp: string;
  hostPortLow: number;
  hostPortHigh: number;
}

/** One binding in effect. */
export interface ActiveBinding {
  proto: "tcp" | "udp" | "sctp";
  containerPort: number;
  hostIp: string;
  hostPort: number;
}

function splitKey(key: string): { port: number; proto: "tcp" | "udp" | "sctp" } {
  const [p, proto = "tcp"] = key.split("/");
  const port = Number(p);
  if (!Number.isInteger(port) || port < 1 || port > 65535)
    throw new InvalidParameterError(`invalid port: ${key}`);
  if (proto !== "tcp" && proto !== "udp" && proto !== "sctp")
    throw new InvalidParameterError(`invalid proto: ${proto}`);
  return { port, proto };
}

function hostRange(s: string | undefined): [number, number] {
  if (!s) return [0, 0];
  const m = /^(\d+)(?:-(\d+))?$/.exec(s);
  if (!m) throw new InvalidParameterError(`invalid port specification: "${s}"`);
  const lo = Number(m[1]);
  const hi = Number(m[2] ?? m[1]);
  if (lo > 65535 || hi > 65535 || hi < lo)
    throw new InvalidParameterError(`invalid port specification: "${s}"`);
  return [lo, hi];
}

/**
 * The bindings a container asks for: every PortBindings entry, and with PublishAllPorts every exposed port
 * (an ephemeral host port each). Validates as create does.
 */
export function wantedBindings(opts: {
  exposed?: Record<string, object> | null;
  bindings?: PortMap | null;
  publishAll?: boolean;
}): WantedBinding[] {
  const out: WantedBinding[] = [];
  const bound = new Set<string>();
  for (const [key, list] of Object.entries(opts.bindings ?? {})) {
    const { port, proto } = splitKey(key);
    for (const b of list ?? []) {
      const [lo, hi] = hostRange(b.HostPort);
      out.push({ proto, containerPort: port, hostIp: b.HostIp ?? "", hostPortLow: lo, hostPortHigh: hi });
      bound.add(`${port}/${proto}`);
    }
  }
  if (opts.publishAll) {
    for (const key of Object.keys(opts.exposed ?? {})) {
      const { port, proto } = splitKey(key);
      if (bound.has(`${port}/${proto}`)) continue;
      out.push({ proto, containerPort: port, hostIp: "", hostPortLow: 0, hostPortHigh: 0 });
    }
  }
  return out;
}

/** NetworkSettings.Ports: each exposed or bound port, with its bindings or null. */
export function portMap(opts: { exposed?: Record<string, object> | null; active: ActiveBinding[] }): PortMap {
  const out: PortMap = {};
  for (const key of Object.keys(opts.exposed ?? {})) {
    const { port, proto } = splitKey(key);
    out[`${port}/${proto}`] = null;
  }
  for (const b of opts.active) {
    const key = `${b.containerPort}/${b.proto}`;
    const list = out[key] ?? [];
    list.push({ HostIp: b.hostIp || "0.0.0.0", HostPort: String(b.hostPort) });
    out[key] = list;
  }
  return out;
}

/** The `Ports` of a container list entry. */
export function portList(opts: { exposed?: Record<string, object> | null; active: ActiveBinding[] }): Port[] {
  const out: Port[] = [];
  const published = new Set(opts.active.map((b) => `${b.containerPort}/${b.proto}`));
  for (const b of opts.active)
    out.push({
      IP: b.hostIp || "0.0.0.0",
      PrivatePort: b.containerPort,
      PublicPort: b.hostPort,
      Type: b.proto,
    });
  for (const key of Object.keys(opts.exposed ?? {})) {
    const { port, proto } = splitKey(key);
    if (!published.has(`${port}/${proto}`)) out.push({ PrivatePort: port, Type: proto });
  }
  return out;
}
