/**
 * Container endpoints: the netns, veths and addresses of a run, hot connect/disconnect, restore after a daemon
 * restart, and clean-up of what a crash left behind. Create-time checks live in config.ts, addresses in
 * ipam.ts, published ports in ports.ts, DNS names in resolver.ts and the JSON in inspect.ts.
 */
import { mkdir } from "node:fs/promises";
import type { EndpointSettings, EventSink, NetworkSettings, Port } from "../apitypes/index.ts";
import { ConflictError, ForbiddenError, InvalidParameterError, NotFoundError } from "../errdefs/index.ts";
import { type BridgeDriver, formatIp, formatIp6, type Iptables, macFor, parseIp } from "../netdrv/index.ts";
import { RecordStore } from "../store/index.ts";
import { log, newId, parseLink, shortId } from "../util/index.ts";
import { type ContainerNetworkRequest, endpointConfig, sandboxFor } from "./config.ts";
import { listSummary, networkSettings } from "./inspect.ts";
import { Ipam } from "./ipam.ts";
import { linkEnv } from "./linkenv.ts";
import { PortPublisher, type ProxyFactory, wantedBindings } from "./ports.ts";
import { addressing, addressing6, type NetworkRecord, type NetworkRegistry, networkMtu } from "./registry.ts";
import { type DnsAnswer, Resolver } from "./resolver.ts";
import {
  type EndpointConfig,
  nextIfname,
  type RuntimeEndpoint,
  type SandboxDoc,
  vethName,
} from "./sandbox.ts";

/** How the network service finds containers (late-bound: the container service is built after it). */
export interface ContainerLookup {
  /** ID of a container ref; NotFound `No such container: x` otherwise. */
  resolve(ref: string): string;
  running(id: string): boolean;
  /** A container's Config.Env, for the `<ALIAS>_ENV_*` variables of links to it. */
  env?(id: string): string[];
}

/** What create learnt of a new container's networking. */
export interface CreatedNetworking {
  hostname: string;
  warnings: string[];
  /** HostConfig.NetworkMode to record when it differs from the request's (`container:<full id>`). */
  networkMode?: string;
}

/** How a run is networked, from the network service: what the spec joins and what /etc files say. */
export interface NetworkSetup {
  /** The network namespace to join; absent with `host`. */
  netnsPath?: string;
  /** Share the host's network namespace (and its /etc/hosts and resolv.conf). */
  host?: boolean;
  /** The container's own address, for /etc/hosts. */
  ip?: string;
  /** Its IPv6 address on a network with IPv6, for /etc/hosts too. */
  ip6?: string;
  /** The name the container takes from the one whose network namespace it joins. */
  hostname?: string;
  /** More /etc/hosts entries in --add-host form ("names:ip"): --link targets. */
  extraHosts?: string[];
  /** The variables legacy links on the default bridge give the container (`<ALIAS>_PORT`, `_NAME`, ...). */
  linkEnv?: string[];
  /** resolv.conf nameservers instead of the host's (the embedded DNS of user-defined networks). */
  nameservers?: string[];
  /** The user namespace that owns `netnsPath`, when the setup made one (a remapped container joins it). */
  usernsPath?: string;
  /** With `deferAttach`: veths up, ports published, record saved (rejects after undoing it all); await before the process runs. */
  ready?: Promise<void>;
}

/** The kernel side of endpoints: the bridge driver's netns and veth calls. */
export type EndpointDriver = Pick<
  BridgeDriver,
  "tag" | "createNetns" | "removeNetns" | "loopbackUp" | "attach" | "deleteLink" | "links" | "vethAlias"
> &
  Partial<Pick<BridgeDriver, "createUserNetns">>;

/** A remapped container's user namespace mappings (`--userns-remap`), for a network namespace it owns. */
export interface SetupUserns {
  uidMappings: readonly { containerID: number; hostID: number; size: number }[];
  gidMappings: readonly { containerID: number; hostID: number; size: number }[];
  /** Another container's user namespace (`/proc/<pid>/ns/user`) to make the network namespace in. */
  join?: string | undefined;
}

/** Containers' endpoints on this daemon's networks. */
export class Endpoints {
  readonly #store: RecordStore<SandboxDoc>;
  readonly #docs = new Map<string, SandboxDoc>();
  readonly #ipam = new Ipam();
  readonly #ports: PortPublisher;
  readonly #names: Resolver;
  readonly #nets: NetworkRegistry;
  readonly #driver: EndpointDriver;
  readonly #events: EventSink;
  readonly #files: { read(path: string): Promise<string> } | undefined;
  #containers: ContainerLookup | undefined;

  constructor(opts: {
    root: string;
    tmpDir: string;
    networks: NetworkRegistry;
    driver: EndpointDriver;
    iptables: Pick<Iptables, "setPorts" | "hasPorts" | "sync">;
    /** The IPv6 rules, for ports published to containers with IPv6 addresses. */
    ip6tables?: Pick<Iptables, "setPorts" | "hasPorts" | "sync">;
    events: EventSink;
    /** Starts a port proxy; netdrv's TCP/UDP proxies unless a test passes its own. */
    proxy?: ProxyFactory;
    /** Where the host's /etc/resolv.conf is read from; none: no host resolvers. */
    files?: { read(path: string): Promise<string> };
  }) {
    this.#files = opts.files;
    this.#store = new RecordStore(opts.root, { document: "sandbox.json", tmpDir: opts.tmpDir });
    this.#nets = opts.networks;
    this.#driver = opts.driver;
    this.#events = opts.events;
    this.#ports = new PortPublisher({
      iptables: opts.iptables,
      ip6tables: opts.ip6tables,
      proxy: opts.proxy,
    });
    this.#names = new Resolver({
      network: (id) => this.#nets.find(id),
      upstreams: (id) => this.#docs.get(id)?.Dns,
    });
  }

  /** Loads every container's networking; runtime state is indexed so restored containers keep their addresses. */
  async init(): Promise<void> {
    await this.#store.init();
    const { records, broken } = await this.#store.loadAll();
    for (const id of broken) await this.#store.remove(id);
    for (const d of records.values()) {
      this.#docs.set(d.Id, d);
      for (const ep of d.Runtime?.Eps ?? []) this.#index(d, ep);
    }
    const conf = (await this.#files?.read("/etc/resolv.conf").catch(() => "")) ?? "";
    this.#names.setHostResolvers(
      conf.split("\n").flatMap((l) => /^\s*nameserver\s+(\d+\.\d+\.\d+\.\d+)/.exec(l)?.[1] ?? []),
    );
  }

  /** Sets how containers are found (the container service exists only after this service). */
  setContainers(c: ContainerLookup): void {
    this.#containers = c;
  }

  get #c(): ContainerLookup {
    if (!this.#containers) throw new Error("network service used before the container service was wired");
    return this.#containers;
  }

  async #save(d: SandboxDoc): Promise<void> {
    await mkdir(this.#store.dir(d.Id), { recursive: true });
    await this.#store.put(d.Id, d);
  }

  #emit(action: string, n: NetworkRecord, containerId: string): void {
    this.#events({
      Type: "network",
      Action: action,
      Actor: { ID: n.Id, Attributes: { container: containerId, name: n.Name, type: n.Driver } },
    });
  }

  /** The names a container's endpoints answer to besides their aliases. */
  #ownNames(doc: SandboxDoc): string[] {
    return [doc.Name, shortId(doc.Id), doc.Hostname];
  }

  /** Records a running endpoint's address and names (at attach, and for restored containers at init). */
  #index(doc: SandboxDoc, ep: RuntimeEndpoint, cfg?: EndpointConfig): void {
    this.#ipam.mark(ep.NetworkID, ep.IP);
    if (ep.IP6) this.#ipam.mark6(ep.NetworkID, ep.IP6);
    const wanted = cfg ?? doc.Endpoints.find((e) => e.NetworkID === ep.NetworkID);
    const links = new Map<string, string>();
    for (const l of wanted?.Links ?? []) {
      const { target, alias } = parseLink(l);
      links.set(alias.toLowerCase(), target.toLowerCase());
    }
    this.#names.add({
      containerId: doc.Id,
      networkId: ep.NetworkID,
      ip: ep.IP,
      ip6: ep.IP6,
      names: this.#ownNames(doc),
      aliases: wanted?.Aliases ?? [],
      links,
    });
  }

  #release(doc: SandboxDoc, ep: RuntimeEndpoint): void {
    this.#ipam.release(ep.NetworkID, ep.IP);
    if (ep.IP6) this.#ipam.release6(ep.NetworkID, ep.IP6);
    this.#names.remove(doc.Id, ep.NetworkID);
  }

  /** Validates a new container's network settings as create does, and records them. */
  async create(c: ContainerNetworkRequest): Promise<CreatedNetworking> {
    const { doc, warnings } = sandboxFor(c, {
      get: (ref) => this.#nets.get(ref),
      find: (ref) => this.#nets.find(ref),
      resolveContainer: (ref) => this.#c.resolve(ref),
    });
    // A container in another's network namespace takes that one's name too, as in dockerd.
    if (doc.JoinId) doc.Hostname = this.#docs.get(doc.JoinId)?.Hostname ?? doc.Hostname;
    this.#docs.set(c.id, doc);
    await this.#save(doc);
    // dockerd records the joined container by its full ID, so a rename of it changes nothing.
    const networkMode = doc.JoinId ? `container:${doc.JoinId}` : undefined;
    return { hostname: doc.Hostname, warnings, ...(networkMode ? { networkMode } : {}) };
  }

  /** Sets up a container's networking for a run; undone by teardown (also when a later step of start fails). */
  async setup(id: string, o: { userns?: SetupUserns; deferAttach?: boolean } = {}): Promise<NetworkSetup> {
    const doc = this.#doc(id);
    if (doc.Runtime) await this.teardown(id);
    if (doc.Mode === "host") {
      doc.Runtime = { SandboxID: newId(), Eps: [], Ports: [] };
      return { host: true };
    }
    if (doc.Mode === "container") {
      if (doc.JoinRef) {
        const joinId = this.#c.resolve(doc.JoinRef);
        if (joinId === doc.Id) throw new InvalidParameterError("cannot join own network namespace");
        doc.JoinId = joinId;
        doc.JoinRef = undefined;
        await this.#save(doc);
      }
      const other = doc.JoinId ? this.#docs.get(doc.JoinId) : undefined;
      if (!doc.JoinId || !this.#c.running(doc.JoinId) || !other?.Runtime)
        throw new ConflictError(`cannot join network of a non running container: ${doc.JoinId}`);
      if (!other.Runtime.NsPath) return { host: true };
      doc.Hostname = other.Hostname;
      return {
        netnsPath: other.Runtime.NsPath,
        ...(other.Runtime.UsernsPath ? { usernsPath: other.Runtime.UsernsPath } : {}),
        hostname: other.Hostname,
        ip: other.Runtime.Eps[0]?.IP,
        ...(other.Runtime.Eps[0]?.IP6 ? { ip6: other.Runtime.Eps[0].IP6 } : {}),
        nameservers: this.#nameservers(other),
      };
    }
    // As dockerd's setupLinkedContainers: legacy links (the default bridge's) need their containers running.
    if (doc.Endpoints.some((e) => this.#nets.find(e.NetworkID)?.Default))
      for (const { alias, t } of this.#linkTargets(doc))
        if (!this.#c.running(t.Id))
          throw new ConflictError(
            `Cannot link to a non running container: /${t.Name} AS /${doc.Name}/${alias}`,
          );
    let nsPath: string;
    let usernsPath: string | undefined;
    if (o.userns && this.#driver.createUserNetns)
      ({ path: nsPath, usernsPath } = await this.#driver.createUserNetns(id, o.userns));
    else nsPath = await this.#driver.createNetns(id);
    doc.Runtime = {
      NsPath: nsPath,
      ...(usernsPath ? { UsernsPath: usernsPath } : {}),
      SandboxID: newId(),
      Eps: [],
      Ports: [],
    };
    let ready: Promise<void> | undefined;
    try {
      if (doc.Mode === "none") {
        await this.#driver.loopbackUp(nsPath);
        await this.#save(doc);
        return { netnsPath: nsPath, ...(usernsPath ? { usernsPath } : {}) };
      }
      // Addresses are chosen now (the /etc files and the spec need them); the kernel side may come later.
      const plugs = doc.Endpoints.map((cfg) => this.#plan(doc, cfg).plug);
      const rt = doc.Runtime;
      const finish = async (): Promise<void> => {
        try {
          for (const plug of plugs) await plug();
          await this.#publish(doc);
          await this.#save(doc);
        } catch (e) {
          await this.#undo(id);
          throw e;
        }
        for (const ep of rt.Eps) this.#emit("connect", this.#nets.get(ep.NetworkID), id);
      };
      if (o.deferAttach) ready = finish();
      else await finish();
    } catch (e) {
      if (!ready) await this.#undo(id);
      throw e;
    }
    return {
      ...(ready ? { ready } : {}),
      netnsPath: nsPath,
      ...(usernsPath ? { usernsPath } : {}),
      ip: doc.Runtime.Eps[0]?.IP,
      ...(doc.Runtime.Eps[0]?.IP6 ? { ip6: doc.Runtime.Eps[0].IP6 } : {}),
      extraHosts: this.#linkHosts(doc),
      linkEnv: this.#linkEnv(doc),
      nameservers: this.#nameservers(doc),
    };
  }

  /** Undoes a setup that failed part-way; a failure of that is only logged. */
  async #undo(id: string): Promise<void> {
    await this.teardown(id).catch((err) => log("warn", "network clean-up after a failed setup", { id, err }));
  }

  /** The nameservers a running container's resolv.conf should name now (after a connect). */
  nameservers(id: string): string[] | undefined {
    const doc = this.#docs.get(id);
    return doc?.Runtime ? this.#nameservers(doc) : undefined;
  }

  /** The embedded DNS (a user network's gateway) when the container is on one. */
  #nameservers(doc: SandboxDoc): string[] | undefined {
    for (const ep of doc.Runtime?.Eps ?? []) {
      const n = this.#nets.find(ep.NetworkID);
      if (n && !n.Default) return [ep.Gateway];
    }
    return undefined;
  }

  /** The containers a container's links name, with their aliases; links to containers now gone are skipped. */
  *#linkTargets(doc: SandboxDoc): Iterable<{ alias: string; t: SandboxDoc }> {
    for (const link of doc.Links ?? []) {
      const { target, alias } = parseLink(link);
      let t: SandboxDoc | undefined;
      try {
        t = this.#docs.get(this.#c.resolve(target));
      } catch {
        continue;
      }
      if (t) yield { alias, t };
    }
  }

  #linkHosts(doc: SandboxDoc): string[] {
    const out: string[] = [];
    for (const { alias, t } of this.#linkTargets(doc)) {
      const ip = t.Runtime?.Eps.find((e) => doc.Runtime?.Eps.some((m) => m.NetworkID === e.NetworkID))?.IP;
      if (!ip) continue;
      const names = [...new Set([alias, t.Name, t.Hostname])].join(" ");
      out.push(`${names}:${ip}`);
    }
    return out;
  }

  /** As dockerd, only a container on the default bridge gets its links' variables, from their bridge address. */
  #linkEnv(doc: SandboxDoc): string[] | undefined {
    const bridge = doc.Runtime?.Eps.find((e) => this.#nets.find(e.NetworkID)?.Default);
    if (!bridge || !doc.Links?.length) return undefined;
    const out: string[] = [];
    for (const { alias, t } of this.#linkTargets(doc)) {
      const ip = t.Runtime?.Eps.find((e) => e.NetworkID === bridge.NetworkID)?.IP;
      if (!ip) continue;
      out.push(
        ...linkEnv({
          parent: doc.Name,
          alias,
          ip,
          env: this.#containers?.env?.(t.Id) ?? [],
          exposed: Object.keys(t.ExposedPorts ?? {}),
        }),
      );
    }
    return out;
  }

  #doc(id: string): SandboxDoc {
    const d = this.#docs.get(id);
    if (!d) throw new NotFoundError(`No such container: ${id}`);
    return d;
  }

  /** The endpoint's address, allocated and recorded now; `plug` creates the veth and sets it up in the netns. */
  #plan(doc: SandboxDoc, cfg: EndpointConfig): { ep: RuntimeEndpoint; plug: () => Promise<void> } {
    const rt = doc.Runtime;
    if (!rt?.NsPath) throw new Error("container has no network namespace");
    const nsPath = rt.NsPath;
    const n = this.#nets.get(cfg.NetworkID);
    const a = addressing(n);
    if (!a || !n.Bridge) throw new Error(`network ${n.Name} has no subnet`);
    const bridge = n.Bridge;
    const ip = this.#ipam.allocate(n, cfg.IPv4Address);
    const internal = (e: RuntimeEndpoint) => !!this.#nets.find(e.NetworkID)?.Internal;
    const hasRoute = rt.Eps.some((e) => e.Gateway && !internal(e));
    const hasRoute6 = rt.Eps.some((e) => e.Gateway6 && !internal(e));
    const mac = cfg.MacAddress ?? macFor(parseIp(ip) as number);
    const a6 = addressing6(n);
    let ip6: string | undefined;
    try {
      ip6 = this.#ipam.allocate6(n, { wanted: cfg.IPv6Address, mac });
    } catch (e) {
      this.#ipam.release(n.Id, ip);
      throw e;
    }
    const ep: RuntimeEndpoint = {
      NetworkID: n.Id,
      IP: ip,
      PrefixLen: a.subnet.prefixLen,
      Gateway: formatIp(a.gateway),
      ...(ip6 && a6 ? { IP6: ip6, PrefixLen6: a6.subnet.prefixLen, Gateway6: formatIp6(a6.gateway) } : {}),
      Mac: mac,
      Veth: vethName(doc.Id, n.Id),
      Ifname: nextIfname(rt.Eps),
    };
    rt.Eps.push(ep);
    this.#index(doc, ep, cfg);
    const plug = () =>
      this.#driver.attach({
        nsPath,
        bridge,
        hostName: ep.Veth,
        ifname: ep.Ifname,
        mac: ep.Mac,
        ip: ep.IP,
        prefixLen: ep.PrefixLen,
        gateway: n.Internal || hasRoute ? undefined : ep.Gateway,
        ...(ep.IP6 ? { ip6: ep.IP6, prefixLen6: ep.PrefixLen6 } : {}),
        gateway6: n.Internal || hasRoute6 ? undefined : ep.Gateway6,
        ...(cfg.LinkLocalIPs?.length
          ? {
              extra: cfg.LinkLocalIPs.map((l) =>
                l.includes(":") ? { ip: l, prefixLen: 64, v6: true } : { ip: l, prefixLen: 16, v6: false },
              ),
            }
          : {}),
        owner: this.#driver.vethAlias(doc.Id),
        mtu: networkMtu(n),
      });
    return { ep, plug };
  }

  /** Binds the proxies (which reserves the host ports) and installs DNAT rules, on the first endpoint. */
  async #publish(doc: SandboxDoc): Promise<void> {
    const rt = doc.Runtime;
    const primary = rt?.Eps[0];
    if (!rt || !primary) return;
    await this.#ports.publish({
      id: doc.Id,
      name: doc.Name,
      endpointId: doc.Endpoints[0]?.EndpointID ?? "",
      ip: primary.IP,
      ip6: primary.IP6,
      wanted: wantedBindings({
        exposed: doc.ExposedPorts,
        bindings: doc.PortBindings,
        publishAll: doc.PublishAllPorts,
      }),
      active: rt.Ports,
    });
  }

  /** Undoes setup: proxies, rules, veths, addresses, netns. Safe to call twice. */
  async teardown(id: string): Promise<void> {
    const doc = this.#docs.get(id);
    const rt = doc?.Runtime;
    if (!doc || !rt) return;
    await this.#ports.unpublish(id);
    for (const ep of rt.Eps) this.#release(doc, ep);
    // Unbinding the netns is enough: the kernel destroys the namespace, and both veth ends with it, in the
    // background. Deleting the veth here would block for an RCU grace period (~20 ms) per interface.
    if (rt.NsPath && doc.Mode !== "container") await this.#driver.removeNetns(rt.NsPath);
    doc.Runtime = undefined;
    await this.#save(doc).catch(() => undefined);
    for (const ep of rt.Eps) {
      const n = this.#nets.find(ep.NetworkID);
      if (n) this.#emit("disconnect", n, id);
    }
  }

  /** After a daemon restart: the container still runs, so its proxies and rules come back. */
  async restore(id: string): Promise<void> {
    const rt = this.#docs.get(id)?.Runtime;
    const primary = rt?.Eps[0];
    if (!rt || !primary) return;
    await this.#ports.restore(id, { ip: primary.IP, ip6: primary.IP6, ports: rt.Ports });
  }

  /**
   * Removes the runtime state of containers that are not running (the daemon died while they ran and they
   * ended since) and veths tagged as this daemon's that no running container owns.
   */
  async gc(): Promise<void> {
    for (const d of this.#docs.values()) {
      if (d.Runtime && !this.#c.running(d.Id)) await this.teardown(d.Id);
    }
    const owned = new Set([...this.#docs.values()].flatMap((d) => d.Runtime?.Eps.map((e) => e.Veth) ?? []));
    const prefix = `wharf:${this.#driver.tag}:`;
    for (const l of await this.#driver.links()) {
      if (l.kind === "veth" && l.alias?.startsWith(prefix) && !owned.has(l.name)) {
        log("info", "removing stale veth", { veth: l.name });
        await this.#driver.deleteLink(l.name);
      }
    }
  }

  /** Forgets a removed container. */
  async remove(id: string): Promise<void> {
    await this.teardown(id);
    this.#docs.delete(id);
    this.#names.removeContainer(id);
    await this.#store.remove(id);
  }

  /** A container was renamed: its record and the names its endpoints answer to follow. */
  async rename(id: string, name: string): Promise<void> {
    const doc = this.#docs.get(id);
    if (!doc) return;
    doc.Name = name.replace(/^\//, "");
    this.#names.rename(id, this.#ownNames(doc));
    await this.#save(doc);
  }

  /** Drops a container's link of `alias` (docker rm --link), from the default bridge's links and its endpoints'. */
  async unlink(id: string, alias: string): Promise<void> {
    const doc = this.#docs.get(id);
    if (!doc) return;
    const keep = (ls: string[] | undefined) => ls?.filter((l) => parseLink(l).alias !== alias);
    doc.Links = keep(doc.Links);
    for (const e of doc.Endpoints) e.Links = keep(e.Links);
    await this.#save(doc);
  }

  /** POST /networks/{id}/connect */
  async connect(id: string, n: NetworkRecord, s: EndpointSettings | undefined): Promise<void> {
    const doc = this.#doc(id);
    if (n.Driver !== "bridge" || doc.Mode !== "default")
      throw new ForbiddenError(
        n.Driver === "host"
          ? "container cannot be disconnected from host network or connected to host network"
          : "container sharing network namespace with another container or host cannot be connected to any other network",
      );
    if (doc.Endpoints.some((e) => e.NetworkID === n.Id))
      throw new ForbiddenError(`endpoint with name ${doc.Name} already exists in network ${n.Name}`);
    const cfg = endpointConfig(n, s);
    if (doc.Runtime) {
      const { ep, plug } = this.#plan(doc, cfg);
      await plug();
      if (!doc.Runtime.Eps[1] && doc.Runtime.Eps[0] === ep) await this.#publish(doc);
    }
    doc.Endpoints.push(cfg);
    await this.#save(doc);
    if (doc.Runtime) this.#emit("connect", n, id);
  }

  /** POST /networks/{id}/disconnect */
  async disconnect(id: string, n: NetworkRecord): Promise<void> {
    const doc = this.#doc(id);
    const i = doc.Endpoints.findIndex((e) => e.NetworkID === n.Id);
    if (doc.Mode === "host" && n.Driver === "host")
      throw new ForbiddenError(
        "container cannot be disconnected from host network or connected to host network",
      );
    if (i < 0) throw new ForbiddenError(`container ${id} is not connected to network ${n.Name}`);
    doc.Endpoints.splice(i, 1);
    const rt = doc.Runtime;
    const j = rt?.Eps.findIndex((e) => e.NetworkID === n.Id) ?? -1;
    if (rt && j >= 0) {
      const [ep] = rt.Eps.splice(j, 1);
      this.#release(doc, ep);
      await this.#driver.deleteLink(ep.Veth);
      if (j === 0 && this.#ports.has(id)) {
        await this.#ports.unpublish(id);
        rt.Ports = [];
      }
    }
    await this.#save(doc);
    this.#emit("disconnect", n, id);
  }

  /** Running containers attached to a network, for inspect's `Containers` and rm's in-use check. */
  attached(networkId: string): { doc: SandboxDoc; ep?: RuntimeEndpoint; cfg?: EndpointConfig }[] {
    const out: { doc: SandboxDoc; ep?: RuntimeEndpoint; cfg?: EndpointConfig }[] = [];
    const n = this.#nets.find(networkId);
    for (const d of this.#docs.values()) {
      if (!d.Runtime) continue;
      const ep = d.Runtime.Eps.find((e) => e.NetworkID === networkId);
      if (ep) out.push({ doc: d, ep, cfg: d.Endpoints.find((e) => e.NetworkID === networkId) });
      else if (
        n &&
        ((n.Driver === "host" && d.Mode === "host") || (n.Driver === "null" && d.Mode === "none"))
      )
        out.push({ doc: d });
    }
    return out;
  }

  /** Answers the embedded DNS server: names of containers on the networks the asker shares with them. */
  lookup(source: string, name: string): DnsAnswer {
    return this.#names.lookup(source, name);
  }

  /** NetworkSettings for container inspect. */
  settings(id: string): NetworkSettings {
    return networkSettings(this.#docs.get(id), this.#nets);
  }

  /** The `Ports` and `NetworkSettings.Networks` of a container list entry. */
  summary(id: string): { ports: Port[]; networks: Record<string, EndpointSettings> } {
    return listSummary(this.#docs.get(id), this.#nets);
  }
}
