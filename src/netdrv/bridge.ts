/**
 * The bridge driver: bridges, network namespaces and veth pairs, all through netlink. Every link it creates
 * carries an alias naming the daemon (`wharf:<tag>` on bridges, `wharf:<tag>:<container>` on veths), so start-up
 * can find and remove what a crashed run left behind without touching other daemons' links.
 */
import { mkdir, unlink, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { type Host, type IdMapLine, realHost } from "../host/index.ts";
import { type Cidr, parseIp } from "./ipam.ts";
import { type LinkInfo, Netlink } from "./netlink.ts";

/** What the driver asks of the host: route netlink sockets and network namespaces. */
export type BridgeHost = Pick<Host, "netlink" | "netns">;

/** One container interface to set up. */
export interface VethSpec {
  /** The container's netns file. */
  nsPath: string;
  bridge: string;
  /** Host-side name (veth…). */
  hostName: string;
  /** Name inside the container (eth0, eth1, …). */
  ifname: string;
  mac: string;
  ip: string;
  prefixLen: number;
  /** Default route via this address; none for internal networks or secondary interfaces. */
  gateway?: string;
  /** The endpoint's IPv6 address and prefix on a network with IPv6. */
  ip6?: string;
  prefixLen6?: number;
  /** The IPv6 default route's gateway; none for internal networks or secondary interfaces. */
  gateway6?: string;
  /** Extra addresses (--link-local-ip), each with its prefix. */
  extra?: { ip: string; prefixLen: number; v6: boolean }[];
  /** The link's owner tag, for crash cleanup. */
  owner: string;
  /** Both ends' MTU (the network's driver option); the kernel's default when absent. */
  mtu?: number;
}

/** Bridges, namespaces and veths of one daemon. */
export class BridgeDriver {
  readonly tag: string;
  readonly netnsDir: string;
  readonly #hostApi: BridgeHost;
  #host: Promise<Netlink> | undefined;

  constructor(opts: { tag: string; netnsDir: string; host?: BridgeHost }) {
    this.tag = opts.tag;
    this.netnsDir = opts.netnsDir;
    this.#hostApi = opts.host ?? realHost();
  }

  async #open(nsPath?: string): Promise<Netlink> {
    return new Netlink(await this.#hostApi.netlink.open(nsPath));
  }

  /** The socket in the daemon's own netns, opened once. */
  #nl(): Promise<Netlink> {
    this.#host ??= this.#open().catch((e) => {
      this.#host = undefined;
      throw e;
    });
    return this.#host;
  }

  /** The alias this daemon puts on its bridges. */
  get bridgeAlias(): string {
    return `wharf:${this.tag}`;
  }

  /** The owner alias of a container's veths. */
  vethAlias(containerId: string): string {
    return `wharf:${this.tag}:${containerId.slice(0, 12)}`;
  }

  /** Every link, for clean-up passes. */
  async links(): Promise<LinkInfo[]> {
    return (await this.#nl()).links();
  }

  /** The IPv4 address of an existing link, if any. */
  async linkAddress(name: string): Promise<{ address: string; prefixLen: number } | undefined> {
    const nl = await this.#nl();
    const index = await nl.linkIndex(name);
    if (index === undefined) return undefined;
    return (await nl.addresses(index))[0];
  }

  /**
   * Creates the bridge when missing, gives it the gateway address when it lacks it (and, on a network with
   * IPv6, its IPv6 gateway and fe80::1 as dockerd does), tags it and sets it up.
   */
  async ensureBridge(opts: {
    name: string;
    gateway: string;
    prefixLen: number;
    gateway6?: string;
    prefixLen6?: number;
  }): Promise<void> {
    const nl = await this.#nl();
    const index = (await nl.linkIndex(opts.name)) ?? (await nl.addBridge(opts.name));
    const addrs = await nl.addresses(index);
    if (!addrs.some((a) => a.address === opts.gateway && a.prefixLen === opts.prefixLen))
      await nl.addAddress(index, opts.gateway, opts.prefixLen);
    if (opts.gateway6 && opts.prefixLen6 !== undefined) {
      const addrs6 = await nl.addresses(index, 6);
      for (const [address, prefixLen] of [
        [opts.gateway6, opts.prefixLen6],
        ["fe80::1", 64],
      ] as const) {
        if (!addrs6.some((a) => a.address === address && a.prefixLen === prefixLen))
          await nl.addAddress6(index, address, prefixLen);
      }
    }
    await nl.setLink(index, { up: true, alias: this.bridgeAlias });
  }

  /** Deletes a link by name; a missing one is fine. */
  async deleteLink(name: string): Promise<void> {
    const nl = await this.#nl();
    const index = await nl.linkIndex(name);
    if (index === undefined) return;
    try {
      await nl.deleteLink(index);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "ENODEV") throw e;
    }
  }

  /** Destinations of the host's IPv4 routes, so new subnets avoid them. */
  async hostRoutes(): Promise<Cidr[]> {
    return (await (await this.#nl()).routes())
      .filter((r) => r.prefixLen > 0 && r.prefixLen < 32)
      .map((r) => ({ base: parseIp(r.dst) as number, prefixLen: r.prefixLen }));
  }

  /** A new network namespace for a container, bound at `<netnsDir>/<id>`. */
  async createNetns(id: string): Promise<string> {
    const path = join(this.netnsDir, id);
    await mkdir(this.netnsDir, { recursive: true });
    await this.removeNetns(path);
    await writeFile(path, "");
    await this.#hostApi.netns.createNetns(path);
    return path;
  }

  /**
   * A remapped container's network namespace (`--userns-remap`): owned by a new user namespace of these
   * mappings, bound at `<path>.user`, which the container then joins rather than making its own.
   */
  async createUserNetns(
    id: string,
    userns: {
      uidMappings: readonly IdMapLine[];
      gidMappings: readonly IdMapLine[];
      join?: string | undefined;
    },
  ): Promise<{ path: string; usernsPath: string }> {
    const path = join(this.netnsDir, id);
    await mkdir(this.netnsDir, { recursive: true });
    await this.removeNetns(path);
    await writeFile(path, "");
    const usernsPath = `${path}.user`;
    await this.#hostApi.netns.createUserNetns(path, { userPath: usernsPath, ...userns });
    return { path, usernsPath };
  }

  /** Unbinds and removes a netns file (and a user namespace bound beside it); the namespaces go with their last process. */
  async removeNetns(path: string): Promise<void> {
    for (const p of [path, `${path}.user`]) {
      await this.#hostApi.netns.removeNetns(p).catch(() => undefined);
      await unlink(p).catch(() => undefined);
    }
  }

  /** Sets the loopback of a netns up (containers with no network but `lo`). */
  async loopbackUp(nsPath: string): Promise<void> {
    const c = await this.#open(nsPath);
    try {
      await c.setLink(1, { up: true });
    } finally {
      c.close();
    }
  }

  /** Creates a veth pair into the container's netns and configures its end: address, up, default route. */
  async attach(v: VethSpec): Promise<void> {
    const nl = await this.#nl();
    const index = await nl.linkIndex(v.bridge);
    if (index === undefined) throw new Error(`bridge ${v.bridge} not found`);
    await this.deleteLink(v.hostName);
    await nl.addVeth({
      hostName: v.hostName,
      master: index,
      peerName: v.ifname,
      peerMac: v.mac,
      peerNs: v.nsPath,
      alias: v.owner,
      mtu: v.mtu,
    });
    const c = await this.#open(v.nsPath);
    try {
      const eth = await c.linkIndex(v.ifname);
      if (eth === undefined) throw new Error(`${v.ifname} missing in ${v.nsPath}`);
      await c.addAddress(eth, v.ip, v.prefixLen);
      if (v.ip6 && v.prefixLen6 !== undefined) await c.addAddress6(eth, v.ip6, v.prefixLen6);
      for (const x of v.extra ?? [])
        await (x.v6 ? c.addAddress6(eth, x.ip, x.prefixLen) : c.addAddress(eth, x.ip, x.prefixLen));
      await c.setLink(eth, { up: true });
      await c.setLink(1, { up: true });
      if (v.gateway) await c.addDefaultRoute(v.gateway, eth);
      if (v.gateway6) await c.addDefaultRoute(v.gateway6, eth);
    } finally {
      c.close();
    }
  }
}
