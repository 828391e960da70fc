/**
 * Container addresses on each network. Every network keeps the set of addresses its endpoints hold, so an
 * attach costs a look-up in that set instead of a walk over every endpoint of every container.
 */
import { ConflictError } from "../errdefs/index.ts";
import { formatIp, formatIp6, macAddress6, nextFree, nextFree6, parseIp, parseIp6 } from "../netdrv/index.ts";
import { addressing, addressing6, type NetworkRecord } from "./registry.ts";

/** Allocated IPv4 and IPv6 addresses, one set per network and family. */
export class Ipam {
  readonly #used = new Map<string, Set<number>>();
  readonly #used6 = new Map<string, Set<bigint>>();
  readonly #last6 = new Map<string, bigint>();
  /** The last address handed out per network: the next search starts after it, as Docker's allocator does. */
  readonly #last = new Map<string, number>();

  #set(networkId: string): Set<number> {
    let s = this.#used.get(networkId);
    if (!s) {
      s = new Set();
      this.#used.set(networkId, s);
    }
    return s;
  }

  /** Records an address an endpoint already holds (a container that kept running over a daemon restart). */
  mark(networkId: string, ip: string): void {
    const v = parseIp(ip);
    if (v !== undefined) this.#set(networkId).add(v);
  }

  /**
   * An address for a new endpoint on `n`: `wanted` (--ip) when it is free, else the next free one of the
   * network's range. Conflict when the address or the whole pool is taken.
   */
  allocate(n: NetworkRecord, wanted?: string): string {
    const a = addressing(n);
    if (!a) throw new Error(`network ${n.Name} has no subnet`);
    const used = this.#set(n.Id);
    // Auxiliary addresses (--aux-address) belong to hosts outside Docker: never handed to a container.
    const aux = new Set(Object.values(n.IPAM.Config[0]?.AuxiliaryAddresses ?? {}).map((ip) => parseIp(ip)));
    const taken = { has: (ip: number) => ip === a.gateway || used.has(ip) || aux.has(ip) };
    let ip: number | undefined;
    if (wanted) {
      ip = parseIp(wanted);
      if (ip === undefined) throw new Error(`invalid IPv4 address: ${wanted}`);
      if (taken.has(ip)) throw new ConflictError("Address already in use");
    } else {
      ip = nextFree({ subnet: a.subnet, range: a.range, used: taken, from: this.#last.get(n.Id) });
      if (ip === undefined)
        throw new ConflictError(
          `no available IPv4 addresses on this network's address pools: ${n.Name} (${n.Id})`,
        );
      this.#last.set(n.Id, ip);
    }
    used.add(ip);
    return formatIp(ip);
  }

  /** Gives an endpoint's address back. */
  release(networkId: string, ip: string): void {
    const v = parseIp(ip);
    const s = this.#used.get(networkId);
    if (v === undefined || !s) return;
    s.delete(v);
    if (!s.size) this.#used.delete(networkId);
  }

  /** Whether an address of a network is held by an endpoint. */
  inUse(networkId: string, ip: string): boolean {
    const v = parseIp(ip);
    return v !== undefined && !!this.#used.get(networkId)?.has(v);
  }

  /** The addresses endpoints hold on a network, in ascending order. */
  allocated(networkId: string): string[] {
    return [...(this.#used.get(networkId) ?? [])].sort((x, y) => x - y).map(formatIp);
  }

  /** Forgets a removed network's allocation cursor (its endpoints are all gone by then). */
  forgetNetwork(networkId: string): void {
    this.#used.delete(networkId);
    this.#last.delete(networkId);
    this.#used6.delete(networkId);
    this.#last6.delete(networkId);
  }

  #set6(networkId: string): Set<bigint> {
    let s = this.#used6.get(networkId);
    if (!s) {
      s = new Set();
      this.#used6.set(networkId, s);
    }
    return s;
  }

  /** Records an IPv6 address an endpoint already holds (restored containers). */
  mark6(networkId: string, ip: string): void {
    const v = parseIp6(ip);
    if (v !== undefined) this.#set6(networkId).add(v);
  }

  /**
   * An IPv6 address for a new endpoint on `n` (undefined when the network has no IPv6): `wanted` (--ip6) when
   * free, the MAC-derived one on a default bridge that builds them, else the next free one of the range.
   */
  allocate6(n: NetworkRecord, opts: { wanted?: string; mac: string }): string | undefined {
    const a = addressing6(n);
    if (!a) return undefined;
    const used = this.#set6(n.Id);
    const aux = new Set(
      n.IPAM.Config.flatMap((c) => Object.values(c.AuxiliaryAddresses ?? {})).map((ip) => parseIp6(ip)),
    );
    const taken = { has: (ip: bigint) => ip === a.gateway || used.has(ip) || aux.has(ip) };
    let ip: bigint | undefined;
    if (opts.wanted || n.MacIPv6) {
      ip = opts.wanted ? parseIp6(opts.wanted) : macAddress6(a.subnet, opts.mac);
      if (ip === undefined) throw new Error(`invalid IPv6 address: ${opts.wanted}`);
      if (taken.has(ip)) throw new ConflictError("Address already in use");
    } else {
      ip = nextFree6({ subnet: a.subnet, range: a.range, used: taken, from: this.#last6.get(n.Id) });
      if (ip === undefined)
        throw new ConflictError(
          `no available IPv6 addresses on this network's address pools: ${n.Name} (${n.Id})`,
        );
      this.#last6.set(n.Id, ip);
    }
    used.add(ip);
    return formatIp6(ip);
  }

  /** Gives an endpoint's IPv6 address back. */
  release6(networkId: string, ip: string): void {
    const v = parseIp6(ip);
    const s = this.#used6.get(networkId);
    if (v === undefined || !s) return;
    s.delete(v);
    if (!s.size) this.#used6.delete(networkId);
  }
}
