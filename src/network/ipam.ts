/**
 * Container addresses on each network. Every network keeps the set of addresses its endpoints hold, so an
 * attach costs a look-up in that set instead of a walk over every endpoint of every container.
 */
import { ConflictError } from "../errdefs/index.ts";
import { formatIp, nextFree, parseIp } from "../netdrv/index.ts";
import { addressing, type NetworkRecord } from "./registry.ts";

/** Allocated IPv4 addresses, one set per network. */
export class Ipam {
  readonly #used = new Map<string, Set<number>>();
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
  }
}
