/**
 * The network service: Docker's network API (create, list, inspect, remove, prune, connect, disconnect) and
 * container networking for the container service (set up before start, torn down at exit).
 */
import { join } from "node:path";
import type {
  EndpointSettings,
  EventSink,
  NetworkConnectRequest,
  NetworkCreateRequest,
  NetworkResource,
  NetworkSettings,
  Port,
} from "../apitypes/index.ts";
import { ForbiddenError, InvalidParameterError } from "../errdefs/index.ts";
import { type Host, realHost } from "../host/index.ts";
import {
  BridgeDriver,
  DnsServer,
  formatCidr,
  formatCidr6,
  formatIp,
  formatIp6,
  Iptables,
} from "../netdrv/index.ts";
import { log, nowNs, parseFilterTime, parseRfc3339Ns } from "../util/index.ts";
import type { ContainerNetworkRequest } from "./config.ts";
import {
  type ContainerLookup,
  type CreatedNetworking,
  Endpoints,
  type NetworkSetup,
  type SetupUserns,
} from "./endpoints.ts";
import type { ProxyFactory } from "./ports.ts";
import { addressing, addressing6, type NetworkRecord, NetworkRegistry } from "./registry.ts";

/** The network service's settings and collaborators. */
export interface NetworkServiceOptions {
  dataRoot: string;
  execRoot: string;
  tmpDir: string;
  /** The default bridge device (--bridge); also the tag on every chain and link this daemon owns. */
  bridge: string;
  /** --bip */
  bip?: string;
  /** --ipv6: the default bridge has IPv6 (addresses from --fixed-cidr-v6 when given). */
  ipv6?: boolean;
  /** --fixed-cidr-v6 */
  fixedCidrV6?: string;
  events: EventSink;
  /** The kernel side; the real host unless a test passes a fake. */
  host?: NetworkHost;
  /** Starts published ports' proxies; netdrv's own unless given (a rootless daemon's forward from the host). */
  proxy?: ProxyFactory;
}

/** What networking does to the host: netlink and namespaces, iptables, and a few files (/proc/sys, resolv.conf). */
export type NetworkHost = Pick<Host, "netlink" | "netns" | "iptables" | "ip6tables" | "files">;

const FILTERS = new Set(["driver", "id", "label", "name", "scope", "type", "dangling"]);

/** Docker's networks on the kernel's bridges. */
export class NetworkService {
  readonly #o: NetworkServiceOptions;
  readonly #host: NetworkHost;
  readonly #driver: BridgeDriver;
  readonly #iptables: Iptables;
  readonly #ip6tables: Iptables;
  #forwarding6 = false;
  readonly #nets: NetworkRegistry;
  readonly #eps: Endpoints;
  readonly #dns: DnsServer;
  /** Change stamps behind summaryVersion: one sequence, per container and for every container at once. */
  #seq = 0;
  #epoch = 0;
  readonly #stamps = new Map<string, number>();

  constructor(opts: NetworkServiceOptions) {
    this.#o = opts;
    this.#host = opts.host ?? realHost();
    this.#driver = new BridgeDriver({
      tag: opts.bridge,
      netnsDir: join(opts.execRoot, "netns"),
      host: this.#host,
    });
    this.#iptables = new Iptables(opts.bridge, this.#host.iptables);
    this.#ip6tables = new Iptables(opts.bridge, this.#host.ip6tables, { family: 6 });
    this.#nets = new NetworkRegistry({
      root: join(opts.dataRoot, "networks"),
      tmpDir: opts.tmpDir,
      driver: this.#driver,
    });
    this.#eps = new Endpoints({
      root: join(opts.dataRoot, "network-sandboxes"),
      tmpDir: opts.tmpDir,
      networks: this.#nets,
      driver: this.#driver,
      iptables: this.#iptables,
      ip6tables: this.#ip6tables,
      events: opts.events,
      files: this.#host.files,
      ...(opts.proxy ? { proxy: opts.proxy } : {}),
    });
    this.#dns = new DnsServer(({ source, name }) => this.#eps.lookup(source, name));
  }

  /** Loads networks, brings their bridges up, removes bridges a crash left, enables forwarding. */
  async init(containers: ContainerLookup): Promise<void> {
    this.#eps.setContainers(containers);
    await this.#nets.init({
      bridge: this.#o.bridge,
      bip: this.#o.bip,
      ipv6: this.#o.ipv6,
      fixedCidrV6: this.#o.fixedCidrV6,
    });
    await this.#eps.init();
    for (const b of await this.#nets.staleBridges()) {
      log("info", "removing stale bridge", { bridge: b });
      await this.#driver.deleteLink(b);
    }
    for (const n of this.#nets.all()) if (n.Driver === "bridge") await this.#bringUp(n);
    // Containers reach the outside and published ports are reached from outside through forwarding.
    await this.#host.files
      .write("/proc/sys/net/ipv4/ip_forward", "1")
      .catch((e) => log("warn", "could not enable IP forwarding", { err: e }));
  }

  /** After the container service reconnected to running containers: rules in, leftovers out. */
  async ready(): Promise<void> {
    await this.#eps.gc();
    await this.#syncRules();
  }

  /** Writes both families' rules (ip6tables only once a network has IPv6). */
  async #syncRules(): Promise<void> {
    await Promise.all([this.#iptables.sync(), this.#ip6tables.sync()]);
  }

  async #bringUp(n: NetworkRecord): Promise<void> {
    const a = addressing(n);
    if (!a || !n.Bridge) return;
    const a6 = addressing6(n);
    await this.#driver.ensureBridge({
      name: n.Bridge,
      gateway: formatGateway(n),
      prefixLen: a.subnet.prefixLen,
      ...(a6 ? { gateway6: formatIp6(a6.gateway), prefixLen6: a6.subnet.prefixLen } : {}),
    });
    this.#iptables.setNetwork(n.Id, { bridge: n.Bridge, subnet: formatCidr(a.subnet), internal: n.Internal });
    if (a6) {
      this.#ip6tables.setNetwork(n.Id, {
        bridge: n.Bridge,
        subnet: formatCidr6(a6.subnet),
        internal: n.Internal,
      });
      await this.#enableForwarding6();
    }
    if (!n.Default) {
      await this.#dns
        .listen(formatGateway(n))
        .catch((e) => log("warn", "embedded DNS could not listen", { network: n.Name, err: e }));
    }
  }

  /** IPv6 forwarding on, as dockerd's bridge driver turns it on for a network with IPv6 (once per process). */
  async #enableForwarding6(): Promise<void> {
    if (this.#forwarding6) return;
    this.#forwarding6 = true;
    for (const f of ["default", "all"])
      await this.#host.files
        .write(`/proc/sys/net/ipv6/conf/${f}/forwarding`, "1")
        .catch((e) => log("warn", "could not enable IPv6 forwarding", { err: e }));
  }

  /** Stops the DNS server (proxies and rules stay: containers keep running). */
  close(): void {
    this.#dns.close();
  }

  #emit(action: string, n: NetworkRecord): void {
    this.#o.events({
      Type: "network",
      Action: action,
      Actor: { ID: n.Id, Attributes: { name: n.Name, type: n.Driver } },
    });
  }

  /** POST /networks/create */
  async create(
    req: NetworkCreateRequest,
    opts: { allowDuplicateName?: boolean } = {},
  ): Promise<{ Id: string; Warning: string }> {
    if (!req || typeof req !== "object") throw new InvalidParameterError("invalid network config");
    const same = this.#nets.all().find((o) => o.Name === req.Name);
    const n = await this.#nets.build(req, opts);
    await this.#nets.save(n);
    try {
      await this.#bringUp(n);
      await this.#syncRules();
    } catch (e) {
      await this.#destroy(n).catch(() => undefined);
      throw e;
    }
    this.#emit("create", n);
    const Warning = same ? `Network with name ${same.Name} (id : ${same.Id}) already exists` : "";
    return { Id: n.Id, Warning };
  }

  async #destroy(n: NetworkRecord): Promise<void> {
    this.#iptables.deleteNetwork(n.Id);
    this.#ip6tables.deleteNetwork(n.Id);
    if (n.Bridge) {
      this.#dns.unlisten(formatGateway(n));
      await this.#driver.deleteLink(n.Bridge);
    }
    await this.#nets.delete(n.Id);
    // Entries that named the network leave it out now.
    this.#epoch = ++this.#seq;
    await this.#syncRules();
  }

  /** GET /networks/{id} */
  inspect(ref: string): NetworkResource {
    return this.#resource(this.#nets.get(ref), true);
  }

  #resource(n: NetworkRecord, withContainers: boolean): NetworkResource {
    const containers: NetworkResource["Containers"] = {};
    if (withContainers) {
      for (const { doc, ep, cfg } of this.#eps.attached(n.Id)) {
        containers[doc.Id] = {
          Name: doc.Name,
          EndpointID: cfg?.EndpointID ?? doc.Runtime?.SandboxID ?? "",
          MacAddress: ep?.Mac ?? "",
          IPv4Address: ep ? `${ep.IP}/${ep.PrefixLen}` : "",
          IPv6Address: ep?.IP6 ? `${ep.IP6}/${ep.PrefixLen6}` : "",
        };
      }
    }
    return {
      Name: n.Name,
      Id: n.Id,
      Created: n.Created,
      Scope: "local",
      Driver: n.Driver,
      EnableIPv6: n.EnableIPv6,
      IPAM: n.IPAM,
      Internal: n.Internal,
      Attachable: n.Attachable,
      Ingress: false,
      ConfigFrom: { Network: "" },
      ConfigOnly: false,
      Containers: containers,
      Options: n.Options,
      Labels: n.Labels,
    };
  }

  /** GET /networks */
  list(filters: Record<string, string[]> = {}): NetworkResource[] {
    for (const k of Object.keys(filters))
      if (!FILTERS.has(k)) throw new InvalidParameterError(`invalid filter '${k}'`);
    return this.#nets
      .all()
      .filter((n) => this.#matches(n, filters))
      .sort((a, b) => (parseRfc3339Ns(a.Created) < parseRfc3339Ns(b.Created) ? -1 : 1))
      .map((n) => this.#resource(n, false));
  }

  #matches(n: NetworkRecord, f: Record<string, string[]>): boolean {
    const builtin = ["bridge", "host", "none"].includes(n.Name);
    const any = (key: string, test: (v: string) => boolean) => !f[key]?.length || f[key].some(test);
    return (
      any("driver", (v) => n.Driver === v) &&
      any("id", (v) => n.Id.startsWith(v)) &&
      any("name", (v) => n.Name.includes(v)) &&
      any("scope", (v) => v === "local") &&
      any("type", (v) => {
        if (v !== "custom" && v !== "builtin")
          throw new InvalidParameterError(`invalid filter: 'type'='${v}'`);
        return v === "custom" ? !builtin : builtin;
      }) &&
      any("dangling", (v) =>
        ["true", "1"].includes(v)
          ? !builtin && this.#eps.attached(n.Id).length === 0
          : builtin || this.#eps.attached(n.Id).length > 0,
      ) &&
      (f.label ?? []).every((l) => {
        const i = l.indexOf("=");
        return i < 0 ? l in n.Labels : n.Labels[l.slice(0, i)] === l.slice(i + 1);
      })
    );
  }

  /** DELETE /networks/{id} */
  async remove(ref: string): Promise<void> {
    const n = this.#nets.get(ref);
    if (["bridge", "host", "none"].includes(n.Name) && (n.Default || n.Driver !== "bridge"))
      throw new ForbiddenError(`${n.Name} is a pre-defined network and cannot be removed`);
    if (this.#eps.attached(n.Id).length)
      throw new ForbiddenError(
        `error while removing network: network ${n.Name} id ${n.Id} has active endpoints`,
      );
    await this.#destroy(n);
    this.#emit("destroy", n);
  }

  /** POST /networks/prune: user networks without running containers. */
  async prune(filters: Record<string, string[]> = {}): Promise<{ NetworksDeleted: string[] }> {
    const deleted: string[] = [];
    for (const n of this.#nets.all()) {
      if (["bridge", "host", "none"].includes(n.Name) || this.#eps.attached(n.Id).length) continue;
      if (!this.#pruneMatch(n, filters)) continue;
      await this.#destroy(n);
      this.#emit("destroy", n);
      deleted.push(n.Name);
    }
    return { NetworksDeleted: deleted };
  }

  #pruneMatch(n: NetworkRecord, f: Record<string, string[]>): boolean {
    for (const k of Object.keys(f))
      if (!["label", "label!", "until"].includes(k)) throw new InvalidParameterError(`invalid filter '${k}'`);
    const has = (l: string) => {
      const i = l.indexOf("=");
      return i < 0 ? l in n.Labels : n.Labels[l.slice(0, i)] === l.slice(i + 1);
    };
    if (!(f.label ?? []).every(has)) return false;
    if ((f["label!"] ?? []).some(has)) return false;
    // until: only networks created before that time go, so one made seconds ago survives `until=1h`.
    const created = parseRfc3339Ns(n.Created);
    return (f.until ?? []).every((u) => created < untilNs(u));
  }

  /** POST /networks/{id}/connect */
  async connect(ref: string, req: NetworkConnectRequest, containers: ContainerLookup): Promise<void> {
    const n = this.#nets.get(ref);
    if (!req?.Container) throw new InvalidParameterError("container is required");
    const id = containers.resolve(req.Container);
    await this.#eps
      .connect(id, n, (req.EndpointConfig ?? undefined) as EndpointSettings | undefined)
      .finally(() => this.#touch(id));
  }

  /** The nameservers a running container's resolv.conf should name (the embedded DNS once on a user network). */
  nameservers(id: string): string[] | undefined {
    return this.#eps.nameservers(id);
  }

  /** POST /networks/{id}/disconnect */
  async disconnect(
    ref: string,
    req: { Container: string; Force?: boolean },
    containers: ContainerLookup,
  ): Promise<void> {
    const n = this.#nets.get(ref);
    if (!req?.Container) throw new InvalidParameterError("container is required");
    const id = containers.resolve(req.Container);
    await this.#eps.disconnect(id, n).finally(() => this.#touch(id));
  }

  // ---- the container service's backend ----

  /** Validates and records a new container's networking; host mode takes the host's name. */
  createContainer(c: ContainerNetworkRequest): Promise<CreatedNetworking> {
    return this.#eps.create(c).finally(() => this.#touch(c.id));
  }

  /** Sets up networking for a run. */
  async setup(id: string, o: { userns?: SetupUserns; deferAttach?: boolean } = {}): Promise<NetworkSetup> {
    const s = await this.#eps.setup(id, o).finally(() => this.#touch(id));
    s.ready?.then(
      () => this.#touch(id),
      () => this.#touch(id),
    );
    return s;
  }

  /** Undoes setup. */
  teardown(id: string): Promise<void> {
    return this.#eps.teardown(id).finally(() => this.#touch(id));
  }

  /** Restores a still-running container's proxies and rules after a daemon restart. */
  restore(id: string): Promise<void> {
    return this.#eps.restore(id).finally(() => this.#touch(id));
  }

  /** A container was renamed: its DNS names and endpoint names follow. */
  rename(id: string, name: string): Promise<void> {
    return this.#eps.rename(id, name).finally(() => this.#touch(id));
  }

  /** A container's link of `alias` was removed. */
  unlink(id: string, alias: string): Promise<void> {
    return this.#eps.unlink(id, alias).finally(() => this.#touch(id));
  }

  /** Forgets a removed container. */
  forget(id: string): Promise<void> {
    return this.#eps.remove(id).finally(() => this.#stamps.delete(id));
  }

  /** NetworkSettings of container inspect. */
  settings(id: string): NetworkSettings {
    return this.#eps.settings(id);
  }

  /** Ports and networks of a container list entry. */
  summary(id: string): { ports: Port[]; networks: Record<string, EndpointSettings> } {
    return this.#eps.summary(id);
  }

  /**
   * Changes after every operation above that may change `summary(id)` (each ends with a touch, failed or not:
   * a list during it may have kept a half-done view) and after a network goes. Endpoint documents change
   * only through these operations. A container without a stamp gets a new one, so a value once returned
   * never comes back after a change, not even after forget dropped the stamp.
   */
  summaryVersion(id: string): number {
    let stamp = this.#stamps.get(id);
    if (stamp === undefined) {
      stamp = ++this.#seq;
      this.#stamps.set(id, stamp);
    }
    return Math.max(stamp, this.#epoch);
  }

  #touch(id: string): void {
    this.#stamps.set(id, ++this.#seq);
  }
}

function formatGateway(n: NetworkRecord): string {
  const a = addressing(n);
  return a ? formatIp(a.gateway) : "";
}

/** A prune `until` (see util's parseFilterTime), with dockerd's text for one it cannot read. */
function untilNs(v: string): bigint {
  const ns = parseFilterTime(v, nowNs());
  if (ns === undefined) throw new InvalidParameterError(`failed to parse value as time or duration: "${v}"`);
  return ns;
}
