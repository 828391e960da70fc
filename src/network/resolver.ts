/**
 * What the embedded DNS answers. An index per network maps each name a running endpoint answers to (the
 * container's name, short ID, hostname and the endpoint's aliases) to its addresses; connect, disconnect,
 * rename and teardown keep it current, so a query is a few map look-ups instead of a walk over every container.
 */
import type { NetworkRecord } from "./registry.ts";

/** A running endpoint as the resolver indexes it. */
export interface NamedEndpoint {
  containerId: string;
  networkId: string;
  ip: string;
  /** Its IPv6 address on a network with IPv6: answered to AAAA queries. */
  ip6?: string;
  /** The container's own names: name (no slash), short ID, hostname. */
  names: string[];
  /** The endpoint's network-scoped aliases. */
  aliases: string[];
  /** Its links (EndpointSettings.Links): alias → linked container's name, answered to this container only. */
  links?: Map<string, string>;
}

/**
 * The embedded DNS server's answer to one query: a known name's addresses of both families (the server picks
 * A or AAAA records; none of the asked family is NODATA), else where to forward, else a refusal.
 */
export type DnsAnswer = { addresses: string[] } | { forward: string[] } | { refuse: true };

/** How the resolver sees networks and containers it does not own. */
export interface ResolverOptions {
  /** A network by ID; undefined once removed. */
  network(id: string): NetworkRecord | undefined;
  /** A container's --dns servers, if it set any. */
  upstreams(containerId: string): string[] | undefined;
}

interface Entry {
  containerId: string;
  networkId: string;
  ip: string;
  ip6?: string;
  keys: Set<string>;
  names: string[];
  aliases: string[];
  links?: Map<string, string>;
}

function keysOf(names: string[], aliases: string[]): Set<string> {
  return new Set([...names, ...aliases].map((x) => x.toLowerCase()));
}

/** The name → address index of every network, and the answers built from it. */
export class Resolver {
  readonly #o: ResolverOptions;
  /** Endpoint by address: who asks, from a query's source. */
  readonly #byIp = new Map<string, Entry>();
  /** Container → network ID → its endpoint there. */
  readonly #byContainer = new Map<string, Map<string, Entry>>();
  /** Network ID → lower-cased name → addresses (in the order the endpoints came up). */
  readonly #names = new Map<string, Map<string, Set<string>>>();
  #hostResolvers: string[] = [];

  constructor(opts: ResolverOptions) {
    this.#o = opts;
  }

  /** The host's nameservers, for names no container answers to. */
  setHostResolvers(servers: string[]): void {
    this.#hostResolvers = [...servers];
  }

  /** Indexes an endpoint that came up (replacing the container's earlier endpoint on that network). */
  add(ep: NamedEndpoint): void {
    this.remove(ep.containerId, ep.networkId);
    const e: Entry = {
      ...ep,
      names: [...ep.names],
      aliases: [...ep.aliases],
      keys: keysOf(ep.names, ep.aliases),
    };
    this.#byIp.set(e.ip, e);
    if (e.ip6) this.#byIp.set(e.ip6, e);
    let mine = this.#byContainer.get(e.containerId);
    if (!mine) {
      mine = new Map();
      this.#byContainer.set(e.containerId, mine);
    }
    mine.set(e.networkId, e);
    this.#index(e);
  }

  /** Drops a container's endpoint on a network (disconnect, teardown). */
  remove(containerId: string, networkId: string): void {
    const mine = this.#byContainer.get(containerId);
    const e = mine?.get(networkId);
    if (!mine || !e) return;
    this.#unindex(e);
    mine.delete(networkId);
    if (!mine.size) this.#byContainer.delete(containerId);
    if (this.#byIp.get(e.ip) === e) this.#byIp.delete(e.ip);
    if (e.ip6 && this.#byIp.get(e.ip6) === e) this.#byIp.delete(e.ip6);
  }

  /** Drops every endpoint of a container. */
  removeContainer(containerId: string): void {
    for (const networkId of [...(this.#byContainer.get(containerId)?.keys() ?? [])])
      this.remove(containerId, networkId);
  }

  /** A container's own names changed (rename): its endpoints answer to the new ones from now on. */
  rename(containerId: string, names: string[]): void {
    for (const e of this.#byContainer.get(containerId)?.values() ?? []) {
      this.#unindex(e);
      e.names = [...names];
      e.keys = keysOf(e.names, e.aliases);
      this.#index(e);
    }
  }

  #index(e: Entry): void {
    let net = this.#names.get(e.networkId);
    if (!net) {
      net = new Map();
      this.#names.set(e.networkId, net);
    }
    for (const k of e.keys) {
      let ips = net.get(k);
      if (!ips) {
        ips = new Set();
        net.set(k, ips);
      }
      ips.add(e.ip);
      if (e.ip6) ips.add(e.ip6);
    }
  }

  #unindex(e: Entry): void {
    const net = this.#names.get(e.networkId);
    if (!net) return;
    for (const k of e.keys) {
      const ips = net.get(k);
      ips?.delete(e.ip);
      if (e.ip6) ips?.delete(e.ip6);
      if (ips && !ips.size) net.delete(k);
    }
    if (!net.size) this.#names.delete(e.networkId);
  }

  /** Addresses a name has on one network, bare or qualified with the network's name (`web.mynet`). */
  resolve(networkId: string, name: string, networkName?: string): string[] {
    const net = this.#names.get(networkId);
    if (!net) return [];
    const out = new Set(net.get(name) ?? []);
    const suffix = networkName ? `.${networkName.toLowerCase()}` : undefined;
    if (suffix && name.endsWith(suffix))
      for (const ip of net.get(name.slice(0, -suffix.length)) ?? []) out.add(ip);
    return [...out];
  }

  /** The container holding an address, as a query's source names it. */
  owner(ip: string): { containerId: string; networkId: string } | undefined {
    const e = this.#byIp.get(ip);
    return e && { containerId: e.containerId, networkId: e.networkId };
  }

  /**
   * Answers a query from `source`: names of containers on the user-defined networks the asker shares with
   * them; otherwise the asker's --dns (else the host's resolvers), or none at all when every such network is
   * internal. Sources that are not a running container are refused.
   */
  lookup(source: string, name: string): DnsAnswer {
    const who = this.#byIp.get(source);
    const mine = who && this.#byContainer.get(who.containerId);
    if (!who || !mine) return { refuse: true };
    const nets: NetworkRecord[] = [];
    for (const networkId of mine.keys()) {
      const n = this.#o.network(networkId);
      if (n && !n.Default) nets.push(n);
    }
    const addresses = new Set<string>();
    const q = name.toLowerCase();
    for (const n of nets) {
      // A link's alias names its container on that network for the linking container alone, as dockerd.
      const target = mine.get(n.Id)?.links?.get(q);
      for (const ip of this.resolve(n.Id, target ?? q, n.Name)) addresses.add(ip);
    }
    if (addresses.size) return { addresses: [...addresses] };
    if (nets.every((n) => n.Internal)) return { forward: [] };
    const own = this.#o.upstreams(who.containerId);
    return { forward: own?.length ? own : this.#hostResolvers };
  }
}
