/**
 * Published ports: from a container's config to the bindings to set up, the proxies and DNAT rules that put
 * them in effect, and back to Docker's JSON.
 */
import type { Port, PortMap } from "../apitypes/index.ts";
import { ConflictError, InvalidParameterError } from "../errdefs/index.ts";
import { type Iptables, type PortProxy, slirpForward, tcpProxy, udpProxy } from "../netdrv/index.ts";
import { log } from "../util/index.ts";

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

/** Starts one proxy from a host address and port to a container's. */
export type ProxyFactory = (opts: {
  proto: "tcp" | "udp" | "sctp";
  hostIp: string;
  hostPort: number;
  target: string;
  targetPort: number;
}) => Promise<PortProxy>;

/** The userland proxies of netdrv: UDP for udp, TCP otherwise. */
export const defaultProxy: ProxyFactory = ({ proto, ...o }) => (proto === "udp" ? udpProxy : tcpProxy)(o);

/** Forwards a port from the host into a rootless daemon's network namespace (its port driver). */
export type HostForward = (f: {
  proto: "tcp" | "udp";
  hostIp: string;
  port: number;
}) => Promise<{ close(): Promise<void> }>;

/**
 * The ports of a rootless daemon: the proxy listens inside the daemon's network namespace on every address
 * (forwarded connections arrive on its tap device or its loopback, whatever host address was asked for),
 * and the port driver forwards the asked host address and the same port on the host to it.
 */
export function forwardedPortProxy(forward: HostForward, inner: ProxyFactory = defaultProxy): ProxyFactory {
  return async (o) => {
    if (o.proto === "sctp") throw new Error("sctp ports cannot be published by a rootless daemon");
    // The port drivers forward IPv4 only: the [::] twin of a binding (an IPv6 network's) holds nothing.
    if (o.hostIp.includes(":")) return { port: o.hostPort, close: async () => undefined };
    // Inside, one listener per port serves every host address: the error names the address asked for.
    const proxy = await inner({ ...o, hostIp: "" }).catch((e: Error) => {
      throw new Error(e.message.replace(/^Bind for \S+?:(\d+) /, `Bind for ${o.hostIp || "0.0.0.0"}:$1 `));
    });
    let fwd: Awaited<ReturnType<HostForward>>;
    try {
      fwd = await forward({ proto: o.proto, hostIp: o.hostIp || "0.0.0.0", port: proxy.port });
    } catch (e) {
      await proxy.close().catch(() => undefined);
      throw e;
    }
    return {
      port: proxy.port,
      async close() {
        await fwd
          .close()
          .catch((e) => log("warn", "removing a port forward from the host failed", { err: e }));
        await proxy.close();
      },
    };
  };
}

/** slirp4netns's port driver: its API forwards the host port to the namespace's tap address. */
export function slirpHostForward(apiSocket: string): HostForward {
  return async (f) => {
    try {
      return await slirpForward(apiSocket, {
        proto: f.proto,
        hostIp: f.hostIp,
        hostPort: f.port,
        guestPort: f.port,
      });
    } catch (e) {
      throw new Error(`Bind for ${f.hostIp}:${f.port} failed: ${(e as Error).message}`);
    }
  };
}

/** The ports of a rootless daemon under slirp4netns's port driver. */
export function slirpPortProxy(apiSocket: string, inner: ProxyFactory = defaultProxy): ProxyFactory {
  return forwardedPortProxy(slirpHostForward(apiSocket), inner);
}

/** The rule set a publisher writes: one per address family. */
export type PortRules = Pick<Iptables, "setPorts" | "hasPorts" | "sync">;

/**
 * A container's ports in effect: the proxies (which hold the host ports) and the DNAT rules to its address.
 * A container with an IPv6 address has each binding to every address twice, as dockerd 20.10 does: 0.0.0.0
 * to its IPv4 address and [::] to its IPv6 one, on the same host port.
 */
export class PortPublisher {
  readonly #proxies = new Map<string, PortProxy[]>();
  readonly #iptables: PortRules;
  readonly #ip6tables: PortRules | undefined;
  readonly #proxy: ProxyFactory;

  constructor(opts: { iptables: PortRules; ip6tables?: PortRules; proxy?: ProxyFactory }) {
    this.#iptables = opts.iptables;
    this.#ip6tables = opts.ip6tables;
    this.#proxy = opts.proxy ?? defaultProxy;
  }

  /** Whether a container has proxies up. */
  has(id: string): boolean {
    return this.#proxies.has(id);
  }

  /**
   * Binds a proxy per wanted binding (a range takes its first free port), recording each in `active` as it is
   * made, and installs the DNAT rules; Conflict with Docker's "driver failed programming external
   * connectivity" text when a port is taken. What was bound before a failure stays recorded, so the caller's
   * unpublish closes it.
   */
  async publish(c: {
    id: string;
    name: string;
    endpointId: string;
    ip: string;
    /** The endpoint's IPv6 address, when its network has IPv6. */
    ip6?: string;
    wanted: WantedBinding[];
    active: ActiveBinding[];
  }): Promise<void> {
    if (!c.wanted.length) return;
    const proxies: PortProxy[] = [];
    this.#proxies.set(c.id, proxies);
    try {
      for (const w of c.wanted) {
        const { proxy, port } = await this.#bind(w, targetFor(w.hostIp, c));
        proxies.push(proxy);
        c.active.push({ proto: w.proto, containerPort: w.containerPort, hostIp: w.hostIp, hostPort: port });
        if (c.ip6 && !w.hostIp) {
          const six = { ...w, hostIp: "::", hostPortLow: port, hostPortHigh: port };
          const bound = await this.#bind(six, c.ip6);
          proxies.push(bound.proxy);
          c.active.push({ proto: w.proto, containerPort: w.containerPort, hostIp: "::", hostPort: port });
        }
      }
    } catch (e) {
      throw new ConflictError(
        `driver failed programming external connectivity on endpoint ${c.name} (${c.endpointId}): ${(e as Error).message}`,
      );
    }
    this.#setRules(c.id, c.active, c);
    this.#syncSoon();
  }

  #setRules(id: string, active: ActiveBinding[], c: { ip: string; ip6?: string }): void {
    const all = active.map((p) => ({ ...p, containerIp: targetFor(p.hostIp, c) }));
    this.#iptables.setPorts(
      id,
      all.filter((p) => !p.containerIp.includes(":")),
    );
    this.#ip6tables?.setPorts(
      id,
      all.filter((p) => p.containerIp.includes(":")),
    );
  }

  async #bind(w: WantedBinding, target: string): Promise<{ proxy: PortProxy; port: number }> {
    const start = (hostPort: number) =>
      this.#proxy({ proto: w.proto, hostIp: w.hostIp, hostPort, target, targetPort: w.containerPort });
    if (w.hostPortLow === w.hostPortHigh) {
      const proxy = await start(w.hostPortLow);
      return { proxy, port: proxy.port };
    }
    let last: unknown;
    for (let p = w.hostPortLow; p <= w.hostPortHigh; p++) {
      try {
        return { proxy: await start(p), port: p };
      } catch (e) {
        last = e;
      }
    }
    throw last;
  }

  /** After a daemon restart: re-binds the ports a still-running container had, and sets its rules again. */
  async restore(id: string, c: { ip: string; ip6?: string; ports: ActiveBinding[] }): Promise<void> {
    if (!c.ports.length) return;
    const proxies: PortProxy[] = [];
    this.#proxies.set(id, proxies);
    for (const p of c.ports) {
      try {
        proxies.push(
          await this.#proxy({
            proto: p.proto,
            hostIp: p.hostIp,
            hostPort: p.hostPort,
            target: targetFor(p.hostIp, c),
            targetPort: p.containerPort,
          }),
        );
      } catch (e) {
        log("warn", "re-binding a published port failed", { id, port: p.hostPort, err: e });
      }
    }
    this.#setRules(id, c.ports, c);
  }

  /** Closes a container's proxies and drops its rules. Safe to call twice. */
  async unpublish(id: string): Promise<void> {
    const proxies = this.#proxies.get(id) ?? [];
    this.#proxies.delete(id);
    await Promise.all(proxies.map((p) => p.close().catch(() => undefined)));
    const six = this.#ip6tables?.hasPorts(id);
    if (six) this.#ip6tables?.setPorts(id, []);
    if (this.#iptables.hasPorts(id) || six) {
      this.#iptables.setPorts(id, []);
      this.#syncSoon();
    }
  }

  /**
   * Writes the rules without holding up start or exit: the proxy already listens on every published address,
   * so until the DNAT rules land the same clients are served through it (iptables-restore takes ~25 ms here).
   */
  #syncSoon(): void {
    this.#iptables.sync().catch((e) => log("error", "writing iptables rules failed", { err: e }));
    this.#ip6tables?.sync().catch((e) => log("error", "writing ip6tables rules failed", { err: e }));
  }
}

/** Where a binding on `hostIp` leads: an IPv6 host address to the IPv6 address when there is one. */
function targetFor(hostIp: string, c: { ip: string; ip6?: string }): string {
  return hostIp.includes(":") && c.ip6 ? c.ip6 : c.ip;
}
