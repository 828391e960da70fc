/**
 * Container networking: what a container asks for at create, the netns, veths, addresses, ports and DNS names
 * of a run, hot connect/disconnect, and clean-up of what a crash left behind.
 */
import { mkdir, readFile } from "node:fs/promises";
import { hostname } from "node:os";
import type { EndpointSettings, HostConfig, NetworkingConfig, NetworkSettings } from "../api/types.ts";
import { ConflictError, ForbiddenError, InvalidParameterError, NotFoundError } from "../errdefs/index.ts";
import {
  type BridgeDriver,
  contains,
  formatIp,
  type Iptables,
  macFor,
  nextFree,
  type PortProxy,
  parseIp,
  tcpProxy,
  udpProxy,
} from "../netdrv/index.ts";
import { RecordStore } from "../store/index.ts";
import type { EventSink } from "../system/index.ts";
import { log, newId, shortId } from "../util/index.ts";
import { type ActiveBinding, portList, portMap, type WantedBinding, wantedBindings } from "./ports.ts";
import { addressing, type NetworkRecord, type NetworkRegistry } from "./registry.ts";
import {
  type EndpointConfig,
  nextIfname,
  parseLink,
  type RuntimeEndpoint,
  type SandboxDoc,
  vethName,
} from "./sandbox.ts";

/** How the network service finds containers (late-bound: the container service is built after it). */
export interface ContainerLookup {
  /** ID of a container ref; NotFound `No such container: x` otherwise. */
  resolve(ref: string): string;
  running(id: string): boolean;
}

/** What start needs from networking before it builds the spec and writes /etc files. */
export interface NetworkSetup {
  /** The netns to join; absent with `host`. */
  netnsPath?: string;
  host?: boolean;
  /** The container's own address for /etc/hosts. */
  ip?: string;
  /** Extra /etc/hosts entries in --add-host form ("names:ip"): --link targets. */
  extraHosts?: string[];
  /** Nameservers for resolv.conf instead of the host's (the embedded DNS on user networks). */
  nameservers?: string[];
}

function emptySettings(): NetworkSettings {
  return {
    Bridge: "",
    SandboxID: "",
    HairpinMode: false,
    LinkLocalIPv6Address: "",
    LinkLocalIPv6PrefixLen: 0,
    Ports: {},
    SandboxKey: "",
    SecondaryIPAddresses: null,
    SecondaryIPv6Addresses: null,
    EndpointID: "",
    Gateway: "",
    GlobalIPv6Address: "",
    GlobalIPv6PrefixLen: 0,
    IPAddress: "",
    IPPrefixLen: 0,
    IPv6Gateway: "",
    MacAddress: "",
    Networks: {},
  };
}

/** Containers' endpoints on this daemon's networks. */
export class Endpoints {
  readonly #store: RecordStore<SandboxDoc>;
  readonly #docs = new Map<string, SandboxDoc>();
  readonly #proxies = new Map<string, PortProxy[]>();
  /** container IP → who has it, for the DNS server and IPAM. */
  readonly #byIp = new Map<string, { id: string; networkId: string }>();
  readonly #lastIp = new Map<string, number>();
  readonly #nets: NetworkRegistry;
  readonly #driver: BridgeDriver;
  readonly #iptables: Iptables;
  readonly #events: EventSink;
  #containers: ContainerLookup | undefined;
  #hostResolvers: string[] = [];

  constructor(opts: {
    root: string;
    tmpDir: string;
    networks: NetworkRegistry;
    driver: BridgeDriver;
    iptables: Iptables;
    events: EventSink;
  }) {
    this.#store = new RecordStore(opts.root, { document: "sandbox.json", tmpDir: opts.tmpDir });
    this.#nets = opts.networks;
    this.#driver = opts.driver;
    this.#iptables = opts.iptables;
    this.#events = opts.events;
  }

  /** Loads every container's networking; runtime state is indexed so restored containers keep their addresses. */
  async init(): Promise<void> {
    await this.#store.init();
    const { records, broken } = await this.#store.loadAll();
    for (const id of broken) await this.#store.remove(id);
    for (const d of records.values()) {
      this.#docs.set(d.Id, d);
      for (const ep of d.Runtime?.Eps ?? []) this.#byIp.set(ep.IP, { id: d.Id, networkId: ep.NetworkID });
    }
    const conf = await readFile("/etc/resolv.conf", "utf8").catch(() => "");
    this.#hostResolvers = conf
      .split("\n")
      .flatMap((l) => /^\s*nameserver\s+(\d+\.\d+\.\d+\.\d+)/.exec(l)?.[1] ?? []);
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

  /** Validates a new container's network settings as create does, and records them. */
  async create(c: {
    id: string;
    name: string;
    /** As requested; "" for the default. */
    hostname: string;
    hostConfig: HostConfig;
    exposedPorts?: Record<string, object> | null;
    networking?: NetworkingConfig;
  }): Promise<{ hostname: string; warnings: string[] }> {
    const hc = c.hostConfig;
    const mode = !hc.NetworkMode || hc.NetworkMode === "default" ? "bridge" : hc.NetworkMode;
    const warnings: string[] = [];
    const doc: SandboxDoc = {
      Id: c.id,
      Name: c.name.replace(/^\//, ""),
      Hostname: c.hostname || (mode === "host" ? hostname() : shortId(c.id)),
      Mode: "default",
      Endpoints: [],
      ExposedPorts: c.exposedPorts,
      PortBindings: hc.PortBindings,
      PublishAllPorts: hc.PublishAllPorts,
      Links: hc.Links ?? undefined,
      Dns: hc.Dns ?? undefined,
    };
    const publishes = Object.keys(hc.PortBindings ?? {}).length > 0 || !!hc.PublishAllPorts;
    wantedBindings({ exposed: c.exposedPorts, bindings: hc.PortBindings, publishAll: hc.PublishAllPorts });
    if (mode.startsWith("container:")) {
      if (publishes)
        throw new InvalidParameterError(
          "conflicting options: port publishing and the container type network mode",
        );
      if (hc.Dns?.length) throw new InvalidParameterError("conflicting options: dns and the network mode");
      doc.Mode = "container";
      doc.JoinId = this.#c.resolve(mode.slice("container:".length));
      if (doc.JoinId === c.id) throw new InvalidParameterError("cannot join own network namespace");
    } else if (mode === "host" || mode === "none") {
      if (mode === "none" && publishes)
        throw new InvalidParameterError(
          "conflicting options: port publishing and the container type network mode",
        );
      if (mode === "host" && publishes)
        warnings.push("Published ports are discarded when using host network mode");
      doc.Mode = mode;
      doc.PortBindings = undefined;
      doc.PublishAllPorts = false;
    } else {
      const wanted = { ...(c.networking?.EndpointsConfig ?? {}) };
      // The CLI names the default network "default" when no --network was given.
      if (wanted.default && !this.#nets.find("default")) {
        wanted[mode] ??= wanted.default;
        delete wanted.default;
      }
      const primary = this.#nets.get(mode);
      const list: [NetworkRecord, EndpointSettings | undefined][] = [
        [primary, wanted[mode] ?? wanted[primary.Name] ?? wanted[primary.Id]],
      ];
      for (const [ref, settings] of Object.entries(wanted)) {
        const n = this.#nets.get(ref);
        if (n.Id === primary.Id) continue;
        if (n.Driver !== "bridge")
          throw new InvalidParameterError(
            "container cannot be connected to host or none network and another network",
          );
        list.push([n, settings]);
      }
      for (const [n, s] of list) doc.Endpoints.push(this.#endpointConfig(n, s));
    }
    this.#docs.set(c.id, doc);
    await this.#save(doc);
    return { hostname: doc.Hostname, warnings };
  }

  #endpointConfig(n: NetworkRecord, s: EndpointSettings | undefined): EndpointConfig {
    const ip = s?.IPAMConfig?.IPv4Address || undefined;
    const aliases = s?.Aliases ?? [];
    if (n.Default && ip)
      throw new InvalidParameterError("user specified IP address is supported on user defined networks only");
    if (n.Default && aliases.length)
      throw new InvalidParameterError(
        "network-scoped alias is supported only for containers in user defined networks",
      );
    if (ip) {
      const a = addressing(n);
      const v = parseIp(ip);
      if (v === undefined) throw new InvalidParameterError(`invalid IPv4 address: ${ip}`);
      if (!a || !contains(a.subnet, v))
        throw new InvalidParameterError(
          `Invalid address ${ip}: It does not belong to any of this network's subnets`,
        );
    }
    return {
      NetworkID: n.Id,
      EndpointID: newId(),
      Aliases: [...aliases],
      IPv4Address: ip,
      Links: s?.Links ?? undefined,
    };
  }

  /** Sets up a container's networking for a run; undone by teardown (also when a later step of start fails). */
  async setup(id: string): Promise<NetworkSetup> {
    const doc = this.#doc(id);
    if (doc.Runtime) await this.teardown(id);
    if (doc.Mode === "host") {
      doc.Runtime = { SandboxID: newId(), Eps: [], Ports: [] };
      return { host: true };
    }
    if (doc.Mode === "container") {
      const other = doc.JoinId ? this.#docs.get(doc.JoinId) : undefined;
      if (!doc.JoinId || !this.#c.running(doc.JoinId) || !other?.Runtime)
        throw new ConflictError(`cannot join network of a non running container: ${doc.JoinId}`);
      if (!other.Runtime.NsPath) return { host: true };
      return {
        netnsPath: other.Runtime.NsPath,
        ip: other.Runtime.Eps[0]?.IP,
        nameservers: this.#nameservers(other),
      };
    }
    const nsPath = await this.#driver.createNetns(id);
    doc.Runtime = { NsPath: nsPath, SandboxID: newId(), Eps: [], Ports: [] };
    try {
      if (doc.Mode === "none") {
        this.#driver.loopbackUp(nsPath);
        await this.#save(doc);
        return { netnsPath: nsPath };
      }
      for (const cfg of doc.Endpoints) this.#attach(doc, cfg);
      await this.#publish(doc);
      await this.#save(doc);
    } catch (e) {
      await this.teardown(id).catch((err) =>
        log("warn", "network clean-up after a failed setup", { id, err }),
      );
      throw e;
    }
    for (const ep of doc.Runtime.Eps) this.#emit("connect", this.#nets.get(ep.NetworkID), id);
    return {
      netnsPath: nsPath,
      ip: doc.Runtime.Eps[0]?.IP,
      extraHosts: this.#linkHosts(doc),
      nameservers: this.#nameservers(doc),
    };
  }

  /** The embedded DNS (a user network's gateway) when the container is on one. */
  #nameservers(doc: SandboxDoc): string[] | undefined {
    for (const ep of doc.Runtime?.Eps ?? []) {
      const n = this.#nets.find(ep.NetworkID);
      if (n && !n.Default) return [ep.Gateway];
    }
    return undefined;
  }

  #linkHosts(doc: SandboxDoc): string[] {
    const out: string[] = [];
    for (const link of doc.Links ?? []) {
      const { target, alias } = parseLink(link);
      let tid: string;
      try {
        tid = this.#c.resolve(target);
      } catch {
        continue;
      }
      const t = this.#docs.get(tid);
      const ip = t?.Runtime?.Eps.find((e) => doc.Runtime?.Eps.some((m) => m.NetworkID === e.NetworkID))?.IP;
      if (!t || !ip) continue;
      const names = [...new Set([alias, t.Name, t.Hostname])].join(" ");
      out.push(`${names}:${ip}`);
    }
    return out;
  }

  #doc(id: string): SandboxDoc {
    const d = this.#docs.get(id);
    if (!d) throw new NotFoundError(`No such container: ${id}`);
    return d;
  }

  /** Allocates an address, creates the veth and configures it inside the container's netns. */
  #attach(doc: SandboxDoc, cfg: EndpointConfig): RuntimeEndpoint {
    const rt = doc.Runtime;
    if (!rt?.NsPath) throw new Error("container has no network namespace");
    const n = this.#nets.get(cfg.NetworkID);
    const a = addressing(n);
    if (!a || !n.Bridge) throw new Error(`network ${n.Name} has no subnet`);
    const used = new Set<number>([a.gateway]);
    for (const [ip, who] of this.#byIp) if (who.networkId === n.Id) used.add(parseIp(ip) as number);
    let ip: number | undefined;
    if (cfg.IPv4Address) {
      ip = parseIp(cfg.IPv4Address) as number;
      if (used.has(ip)) throw new ConflictError("Address already in use");
    } else {
      ip = nextFree({ subnet: a.subnet, range: a.range, used, from: this.#lastIp.get(n.Id) });
      if (ip === undefined)
        throw new ConflictError(
          `no available IPv4 addresses on this network's address pools: ${n.Name} (${n.Id})`,
        );
      this.#lastIp.set(n.Id, ip);
    }
    const hasRoute = rt.Eps.some((e) => e.Gateway && !this.#nets.find(e.NetworkID)?.Internal);
    const ep: RuntimeEndpoint = {
      NetworkID: n.Id,
      IP: formatIp(ip),
      PrefixLen: a.subnet.prefixLen,
      Gateway: formatIp(a.gateway),
      Mac: macFor(ip),
      Veth: vethName(doc.Id, n.Id),
      Ifname: nextIfname(rt.Eps),
    };
    this.#byIp.set(ep.IP, { id: doc.Id, networkId: n.Id });
    rt.Eps.push(ep);
    this.#driver.attach({
      nsPath: rt.NsPath,
      bridge: n.Bridge,
      hostName: ep.Veth,
      ifname: ep.Ifname,
      mac: ep.Mac,
      ip: ep.IP,
      prefixLen: ep.PrefixLen,
      gateway: n.Internal || hasRoute ? undefined : ep.Gateway,
      owner: this.#driver.vethAlias(doc.Id),
    });
    return ep;
  }

  /** Binds the proxies (which reserves the host ports) and installs DNAT rules, on the first endpoint. */
  async #publish(doc: SandboxDoc): Promise<void> {
    const rt = doc.Runtime;
    const primary = rt?.Eps[0];
    if (!rt || !primary) return;
    const wanted = wantedBindings({
      exposed: doc.ExposedPorts,
      bindings: doc.PortBindings,
      publishAll: doc.PublishAllPorts,
    });
    if (!wanted.length) return;
    const proxies: PortProxy[] = [];
    this.#proxies.set(doc.Id, proxies);
    try {
      for (const w of wanted) {
        const { proxy, port } = await this.#bind(w, primary.IP);
        proxies.push(proxy);
        rt.Ports.push({ proto: w.proto, containerPort: w.containerPort, hostIp: w.hostIp, hostPort: port });
      }
    } catch (e) {
      const ep = doc.Endpoints[0];
      throw new ConflictError(
        `driver failed programming external connectivity on endpoint ${doc.Name} (${ep?.EndpointID ?? ""}): ${(e as Error).message}`,
      );
    }
    this.#iptables.setPorts(doc.Id, this.#rules(rt.Ports, primary.IP));
    this.#syncSoon();
  }

  /**
   * Writes the rules without holding up start or exit: the proxy already listens on every published address,
   * so until the DNAT rules land the same clients are served through it (iptables-restore takes ~25 ms here).
   */
  #syncSoon(): void {
    this.#iptables.sync().catch((e) => log("error", "writing iptables rules failed", { err: e }));
  }

  #rules(ports: ActiveBinding[], ip: string) {
    return ports.map((p) => ({ ...p, containerIp: ip }));
  }

  async #bind(w: WantedBinding, target: string): Promise<{ proxy: PortProxy; port: number }> {
    const start = (hostPort: number) =>
      (w.proto === "udp" ? udpProxy : tcpProxy)({
        hostIp: w.hostIp,
        hostPort,
        target,
        targetPort: w.containerPort,
      });
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

  /** Undoes setup: proxies, rules, veths, addresses, netns. Safe to call twice. */
  async teardown(id: string): Promise<void> {
    const doc = this.#docs.get(id);
    const rt = doc?.Runtime;
    if (!doc || !rt) return;
    const proxies = this.#proxies.get(id) ?? [];
    this.#proxies.delete(id);
    await Promise.all(proxies.map((p) => p.close().catch(() => undefined)));
    if (this.#iptables.hasPorts(id)) {
      this.#iptables.setPorts(id, []);
      this.#syncSoon();
    }
    for (const ep of rt.Eps) this.#release(ep);
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

  #release(ep: RuntimeEndpoint): void {
    this.#byIp.delete(ep.IP);
  }

  /** After a daemon restart: the container still runs, so its proxies and rules come back. */
  async restore(id: string): Promise<void> {
    const doc = this.#docs.get(id);
    const rt = doc?.Runtime;
    if (!doc || !rt) return;
    const primary = rt.Eps[0];
    if (!primary || !rt.Ports.length) return;
    const proxies: PortProxy[] = [];
    this.#proxies.set(id, proxies);
    for (const p of rt.Ports) {
      try {
        proxies.push(
          await (p.proto === "udp" ? udpProxy : tcpProxy)({
            hostIp: p.hostIp,
            hostPort: p.hostPort,
            target: primary.IP,
            targetPort: p.containerPort,
          }),
        );
      } catch (e) {
        log("warn", "re-binding a published port failed", { id, port: p.hostPort, err: e });
      }
    }
    this.#iptables.setPorts(id, this.#rules(rt.Ports, primary.IP));
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
    for (const l of this.#driver.links()) {
      if (l.kind === "veth" && l.alias?.startsWith(prefix) && !owned.has(l.name)) {
        log("info", "removing stale veth", { veth: l.name });
        this.#driver.deleteLink(l.name);
      }
    }
  }

  /** Forgets a removed container. */
  async remove(id: string): Promise<void> {
    await this.teardown(id);
    this.#docs.delete(id);
    await this.#store.remove(id);
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
    const cfg = this.#endpointConfig(n, s);
    if (doc.Runtime) {
      const ep = this.#attach(doc, cfg);
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
      this.#release(ep);
      this.#driver.deleteLink(ep.Veth);
      if (j === 0 && this.#proxies.has(id)) {
        const proxies = this.#proxies.get(id) ?? [];
        this.#proxies.delete(id);
        await Promise.all(proxies.map((p) => p.close()));
        rt.Ports = [];
        this.#iptables.setPorts(id, []);
        this.#syncSoon();
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
  lookup(source: string, name: string): { addresses: string[] } | { forward: string[] } | { refuse: true } {
    const who = this.#byIp.get(source);
    const asker = who && this.#docs.get(who.id);
    if (!asker?.Runtime) return { refuse: true };
    const nets = new Map<string, NetworkRecord>();
    for (const ep of asker.Runtime.Eps) {
      const n = this.#nets.find(ep.NetworkID);
      if (n && !n.Default) nets.set(n.Id, n);
    }
    const addresses: string[] = [];
    for (const d of this.#docs.values()) {
      for (const ep of d.Runtime?.Eps ?? []) {
        const n = nets.get(ep.NetworkID);
        if (!n) continue;
        const cfg = d.Endpoints.find((e) => e.NetworkID === n.Id);
        const names = [d.Name, shortId(d.Id), d.Hostname, ...(cfg?.Aliases ?? [])].map((x) =>
          x.toLowerCase(),
        );
        if (names.includes(name) || names.some((x) => `${x}.${n.Name.toLowerCase()}` === name))
          addresses.push(ep.IP);
      }
    }
    if (addresses.length) return { addresses };
    if ([...nets.values()].every((n) => n.Internal)) return { forward: [] };
    return { forward: asker.Dns?.length ? asker.Dns : this.#hostResolvers };
  }

  /** NetworkSettings for container inspect. */
  settings(id: string): NetworkSettings {
    const s = emptySettings();
    const doc = this.#docs.get(id);
    if (!doc) return s;
    const rt = doc.Runtime;
    if (rt) {
      s.SandboxID = rt.SandboxID;
      s.SandboxKey = rt.NsPath ?? "";
      const primary = rt.Eps[0];
      s.Ports = primary ? portMap({ exposed: doc.ExposedPorts, active: rt.Ports }) : {};
    }
    s.Networks = this.#endpointSettings(doc);
    const def = s.Networks.bridge;
    if (def?.IPAddress) {
      Object.assign(s, {
        EndpointID: def.EndpointID,
        Gateway: def.Gateway,
        IPAddress: def.IPAddress,
        IPPrefixLen: def.IPPrefixLen,
        MacAddress: def.MacAddress,
      });
    }
    return s;
  }

  #endpointSettings(doc: SandboxDoc): Record<string, EndpointSettings> {
    const out: Record<string, EndpointSettings> = {};
    const running = !!doc.Runtime;
    const base = (n: NetworkRecord, epId: string): EndpointSettings => ({
      IPAMConfig: null as unknown as undefined,
      Links: null as unknown as undefined,
      Aliases: null as unknown as undefined,
      MacAddress: "",
      DriverOpts: null,
      NetworkID: n.Id,
      EndpointID: running ? epId : "",
      Gateway: "",
      IPAddress: "",
      IPPrefixLen: 0,
      IPv6Gateway: "",
      GlobalIPv6Address: "",
      GlobalIPv6PrefixLen: 0,
      DNSNames: null as unknown as undefined,
    });
    if (doc.Mode === "host" || doc.Mode === "none") {
      const n = this.#nets.byName(doc.Mode);
      if (n) out[n.Name] = base(n, doc.Runtime?.SandboxID ?? "");
      return out;
    }
    for (const cfg of doc.Endpoints) {
      const n = this.#nets.find(cfg.NetworkID);
      if (!n) continue;
      const e = base(n, cfg.EndpointID);
      if (cfg.IPv4Address) e.IPAMConfig = { IPv4Address: cfg.IPv4Address };
      if (cfg.Links?.length) e.Links = cfg.Links;
      if (cfg.Aliases.length) e.Aliases = cfg.Aliases;
      if (!n.Default) e.DNSNames = [doc.Name, ...cfg.Aliases, shortId(doc.Id)];
      const ep = doc.Runtime?.Eps.find((x) => x.NetworkID === n.Id);
      if (ep)
        Object.assign(e, {
          MacAddress: ep.Mac,
          Gateway: ep.Gateway,
          IPAddress: ep.IP,
          IPPrefixLen: ep.PrefixLen,
        });
      out[n.Name] = e;
    }
    return out;
  }

  /** The `Ports` and `NetworkSettings.Networks` of a container list entry. */
  summary(id: string): { ports: ReturnType<typeof portList>; networks: Record<string, EndpointSettings> } {
    const doc = this.#docs.get(id);
    if (!doc) return { ports: [], networks: {} };
    return {
      ports: portList({ exposed: doc.ExposedPorts, active: doc.Runtime?.Ports ?? [] }),
      networks: this.#endpointSettings(doc),
    };
  }
}
