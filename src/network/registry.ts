import { mkdir } from "node:fs/promises";
import type { Ipam, IpamConfig, NetworkCreateRequest } from "../apitypes/index.ts";
/** Network records: the built-in bridge/host/none and user-defined bridges, persisted one directory each. */
import { ConflictError, ForbiddenError, InvalidParameterError, NotFoundError } from "../errdefs/index.ts";
import {
  type BridgeDriver,
  type Cidr,
  type Cidr6,
  contains,
  contains6,
  firstHost,
  firstHost6,
  formatCidr,
  formatCidr6,
  formatIp,
  formatIp6,
  overlaps,
  overlaps6,
  parseCidr,
  parseCidr6,
  parseIp,
  parseIp6,
  pickSubnet,
} from "../netdrv/index.ts";
import { RecordStore } from "../store/index.ts";
import { log, newId, nowRfc3339 } from "../util/index.ts";

/** What is persisted for a network. */
export interface NetworkRecord {
  Id: string;
  Name: string;
  Created: string;
  Driver: "bridge" | "host" | "null";
  Internal: boolean;
  Attachable: boolean;
  EnableIPv6: boolean;
  Options: Record<string, string>;
  Labels: Record<string, string>;
  IPAM: Ipam;
  /** The bridge device (bridge driver only). */
  Bridge?: string;
  /** The default `bridge` network. */
  Default?: boolean;
  /**
   * Endpoints' IPv6 addresses are built from their MAC (the default bridge with a --fixed-cidr-v6 of at most
   * /80, as dockerd defers that allocation to the bridge driver).
   */
  MacIPv6?: boolean;
}

/** A bridge network's addressing, parsed once. */
export interface Addressing {
  subnet: Cidr;
  range?: Cidr;
  gateway: number;
}

const BRIDGE_NAME_OPT = "com.docker.network.bridge.name";
const MTU_OPT = "com.docker.network.driver.mtu";

/** The network's `com.docker.network.driver.mtu`, which its veths take; undefined for the kernel's default. */
export function networkMtu(n: NetworkRecord): number | undefined {
  const v = Number(n.Options?.[MTU_OPT]);
  return Number.isInteger(v) && v > 0 ? v : undefined;
}

/** A bridge network's IPv6 addressing, parsed once. */
export interface Addressing6 {
  subnet: Cidr6;
  range?: Cidr6;
  gateway: bigint;
}

const isV6Config = (c: IpamConfig) => !!c.Subnet?.includes(":");

/** The IPv4 config of a network's IPAM (the one whose subnet is not IPv6). */
function v4Config(n: NetworkRecord): IpamConfig | undefined {
  return n.IPAM.Config.find((c) => !isV6Config(c));
}

/** The parsed IPv6 IPAM of a network: only when it has IPv6 enabled and an IPv6 subnet. */
export function addressing6(n: NetworkRecord): Addressing6 | undefined {
  if (!n.EnableIPv6) return undefined;
  const c = n.IPAM.Config.find(isV6Config);
  const subnet = c?.Subnet ? parseCidr6(c.Subnet) : undefined;
  if (!c || !subnet) return undefined;
  const range = c.IPRange ? parseCidr6(c.IPRange) : undefined;
  // libnetwork (20.10) takes an unnamed gateway as the first free address of the range, when there is one.
  const first = range && range.base !== subnet.base ? range.base : firstHost6(subnet);
  const gateway = (c.Gateway && parseIp6(c.Gateway)) || first;
  return { subnet, range, gateway };
}

/** The IPv6 subnet a network holds (enabled or not: dockerd reserves it either way). */
function subnet6(n: NetworkRecord): Cidr6 | undefined {
  const c = n.IPAM.Config.find(isV6Config);
  return c?.Subnet ? parseCidr6(c.Subnet) : undefined;
}

/** The parsed IPAM of a bridge network. */
export function addressing(n: NetworkRecord): Addressing | undefined {
  const c = v4Config(n);
  const subnet = c?.Subnet ? parseCidr(c.Subnet) : undefined;
  if (!c || !subnet) return undefined;
  const range = c.IPRange ? parseCidr(c.IPRange) : undefined;
  const gateway = (c.Gateway && parseIp(c.Gateway)) || firstHost(subnet);
  return { subnet, range, gateway };
}

/** What the registry asks the bridge driver: existing links, addresses and routes. */
export type RegistryDriver = Pick<BridgeDriver, "linkAddress" | "hostRoutes" | "links" | "bridgeAlias">;

/** Every network this daemon knows, with lookups by ID, name and ID prefix. */
export class NetworkRegistry {
  readonly #store: RecordStore<NetworkRecord>;
  readonly #byId = new Map<string, NetworkRecord>();
  readonly #driver: RegistryDriver;

  constructor(opts: { root: string; tmpDir: string; driver: RegistryDriver }) {
    this.#store = new RecordStore(opts.root, { document: "network.json", tmpDir: opts.tmpDir });
    this.#driver = opts.driver;
  }

  /** Loads the records, creates the three built-in networks when missing, and sets the default bridge's subnet. */
  async init(opts: { bridge: string; bip?: string; ipv6?: boolean; fixedCidrV6?: string }): Promise<void> {
    await this.#store.init();
    const { records, broken } = await this.#store.loadAll();
    for (const id of broken) await this.#store.remove(id);
    for (const r of records.values()) this.#byId.set(r.Id, r);
    const builtin = (name: string, driver: NetworkRecord["Driver"]): NetworkRecord => ({
      Id: newId(),
      Name: name,
      Created: nowRfc3339(),
      Driver: driver,
      Internal: false,
      Attachable: false,
      EnableIPv6: false,
      Options: {},
      Labels: {},
      IPAM: { Driver: "default", Options: null, Config: [] },
    });
    for (const [name, driver] of [
      ["host", "host"],
      ["none", "null"],
    ] as const) {
      if (!this.byName(name)) await this.save(builtin(name, driver));
    }
    let def = this.byName("bridge");
    const config = await this.#defaultBridgeConfig(opts, def);
    if (!def) def = builtin("bridge", "bridge");
    def.Default = true;
    def.Bridge = opts.bridge;
    def.IPAM = { Driver: "default", Options: null, Config: [config] };
    // --ipv6 [--fixed-cidr-v6]: dockerd's default bridge shows the subnet alone (its gateway is the first address).
    def.EnableIPv6 = !!opts.ipv6;
    def.MacIPv6 = undefined;
    if (opts.ipv6 && opts.fixedCidrV6) {
      const c6 = parseCidr6(opts.fixedCidrV6);
      if (!c6) throw new InvalidParameterError(`invalid --fixed-cidr-v6: ${opts.fixedCidrV6}`);
      def.IPAM.Config.push({ Subnet: formatCidr6(c6) });
      def.MacIPv6 = c6.prefixLen <= 80 ? true : undefined;
    }
    def.Options = {
      "com.docker.network.bridge.default_bridge": "true",
      "com.docker.network.bridge.enable_icc": "true",
      "com.docker.network.bridge.enable_ip_masquerade": "true",
      "com.docker.network.bridge.host_binding_ipv4": "0.0.0.0",
      [BRIDGE_NAME_OPT]: opts.bridge,
      [MTU_OPT]: "1500",
    };
    await this.save(def);
  }

  /** --bip, else the bridge device's current address, else the first free private /16 (as dockerd chooses). */
  async #defaultBridgeConfig(
    opts: { bridge: string; bip?: string },
    prev?: NetworkRecord,
  ): Promise<IpamConfig> {
    if (opts.bip) {
      const c = parseCidr(opts.bip);
      if (!c) throw new InvalidParameterError(`invalid --bip: ${opts.bip}`);
      return { Subnet: formatCidr(c), Gateway: formatIp(c.address === c.base ? firstHost(c) : c.address) };
    }
    const existing = await this.#driver.linkAddress(opts.bridge);
    if (existing) {
      const c = parseCidr(`${existing.address}/${existing.prefixLen}`) as Cidr;
      return { Subnet: formatCidr(c), Gateway: existing.address };
    }
    const others = [...this.#byId.values()].filter((n) => n !== prev);
    const c = await this.pickFree(others);
    return { Subnet: formatCidr(c), Gateway: formatIp(firstHost(c)) };
  }

  /** A pool subnet overlapping no host route and no network of ours (other than `except`). */
  async pickFree(networks = [...this.#byId.values()]): Promise<Cidr> {
    const taken = [
      ...(await this.#driver.hostRoutes()),
      ...networks.flatMap((n) => {
        const a = addressing(n);
        return a ? [a.subnet] : [];
      }),
    ];
    const c = pickSubnet(taken);
    if (!c)
      throw new ForbiddenError(
        "could not find an available, non-overlapping IPv4 address pool among the defaults to assign to the network",
      );
    return c;
  }

  /** Persists a record. */
  async save(n: NetworkRecord): Promise<void> {
    await mkdir(this.#store.dir(n.Id), { recursive: true });
    await this.#store.put(n.Id, n);
    this.#byId.set(n.Id, n);
  }

  /** Every network. */
  all(): NetworkRecord[] {
    return [...this.#byId.values()];
  }

  /**
   * The network with this exact name. Two of one name (made before API 1.44 allowed it) are ambiguous, as in
   * dockerd's FindNetwork.
   */
  byName(name: string): NetworkRecord | undefined {
    const found = [...this.#byId.values()].filter((n) => n.Name === name);
    if (found.length > 1)
      throw new InvalidParameterError(
        `${found.length} matches found based on name: network ${name} is ambiguous`,
      );
    return found[0];
  }

  /** A network by full ID, name, or unique ID prefix; NotFound `network x not found`. */
  get(ref: string): NetworkRecord {
    const n = this.find(ref);
    if (!n) throw new NotFoundError(`network ${ref} not found`);
    return n;
  }

  /** Like get, undefined when missing. */
  find(ref: string): NetworkRecord | undefined {
    const exact = this.#byId.get(ref) ?? this.byName(ref);
    if (exact) return exact;
    if (!/^[0-9a-f]+$/.test(ref)) return undefined;
    const matches = [...this.#byId.values()].filter((n) => n.Id.startsWith(ref));
    if (matches.length > 1)
      throw new InvalidParameterError(
        `network ${ref} is ambiguous (${matches.length} matches found based on ID prefix)`,
      );
    return matches[0];
  }

  /** Validates a create request and builds its record (not yet saved, no bridge yet). */
  async build(
    req: NetworkCreateRequest,
    opts: { allowDuplicateName?: boolean } = {},
  ): Promise<NetworkRecord> {
    const name = req.Name;
    // dockerd takes any other name ("with space", "a:b", "ü-net"); its records are keyed by ID, not name.
    if (!name) throw new InvalidParameterError("network name is required");
    const driver = req.Driver || "bridge";
    if (
      ["host", "none", "null"].includes(driver) ||
      (["host", "none", "bridge"].includes(name) && driver !== "bridge")
    )
      throw new ForbiddenError(`only one instance of "${driver}" network is allowed`);
    if (driver !== "bridge") throw new NotFoundError(`plugin "${driver}" not found`);
    if (["host", "none", "bridge"].includes(name))
      throw new ForbiddenError(`${name} is a pre-defined network and cannot be created`);
    if (!opts.allowDuplicateName && this.all().some((n) => n.Name === name))
      throw new ConflictError(`network with name ${name} already exists`);
    const ipamDriver = req.IPAM?.Driver || "default";
    if (ipamDriver !== "default") throw new NotFoundError(`plugin "${ipamDriver}" not found`);
    const configs = (req.IPAM?.Config ?? []).filter((c) => c.Subnet || c.Gateway || c.IPRange);
    const v6Configs = configs.filter(isV6Config);
    const v4Configs = configs.filter((c) => !isV6Config(c));
    if (v4Configs.length > 1 || v6Configs.length > 1)
      throw new ForbiddenError("bridge driver doesn't support multiple subnets");
    const enableIPv6 = !!req.EnableIPv6;
    const v6 = v6Configs[0] ? this.#ipv6Config(v6Configs[0]) : undefined;
    if (enableIPv6 && !v6)
      throw new ForbiddenError(
        "could not find an available, non-overlapping IPv6 address pool among the defaults to assign to the network",
      );
    const id = newId();
    const cfg = v4Configs[0] ?? {};
    let out: IpamConfig;
    if (cfg.Subnet) {
      const subnet = parseCidr(cfg.Subnet);
      if (!subnet)
        throw new InvalidParameterError(`Invalid subnet ${cfg.Subnet} : invalid CIDR address: ${cfg.Subnet}`);
      if (subnet.address !== subnet.base)
        throw new InvalidParameterError(`invalid subnet ${cfg.Subnet}: it must be a network address`);
      out = { Subnet: formatCidr(subnet) };
      for (const n of this.#byId.values()) {
        const a = addressing(n);
        if (a && overlaps(a.subnet, subnet))
          throw new ForbiddenError(
            `invalid pool request: Pool overlaps with other one on this address space`,
          );
      }
      if (cfg.IPRange) {
        const r = parseCidr(cfg.IPRange);
        if (!r || !contains(subnet, r.base) || r.prefixLen < subnet.prefixLen)
          throw new InvalidParameterError(`invalid ip-range ${cfg.IPRange}: it must be inside ${out.Subnet}`);
        out.IPRange = formatCidr(r);
      }
      if (cfg.Gateway) {
        const g = parseIp(cfg.Gateway);
        if (g === undefined)
          throw new InvalidParameterError(`invalid gateway address ${cfg.Gateway} in Ipam configuration`);
        if (!contains(subnet, g))
          throw new InvalidParameterError(`invalid gateway ${cfg.Gateway}: it must be inside ${out.Subnet}`);
        out.Gateway = cfg.Gateway;
      } else out.Gateway = formatIp(firstHost(subnet));
      const aux = Object.entries(cfg.AuxiliaryAddresses ?? {});
      for (const [k, ip] of aux) {
        const v = parseIp(ip);
        if (v === undefined || !contains(subnet, v))
          throw new InvalidParameterError(
            `invalid auxiliary address ${k}=${ip}: it must be inside ${out.Subnet}`,
          );
      }
      if (aux.length) out.AuxiliaryAddresses = Object.fromEntries(aux);
    } else {
      if (cfg.IPRange || cfg.Gateway || Object.keys(cfg.AuxiliaryAddresses ?? {}).length)
        throw new InvalidParameterError("ip-range and gateway need a subnet");
      const c = await this.pickFree();
      out = { Subnet: formatCidr(c), Gateway: formatIp(firstHost(c)) };
    }
    const options = { ...(req.Options ?? {}) };
    const bridge = options[BRIDGE_NAME_OPT] || `br-${id.slice(0, 12)}`;
    if (!/^[a-zA-Z0-9_.-]{1,15}$/.test(bridge))
      throw new InvalidParameterError(`invalid bridge name: ${bridge}`);
    if (this.all().some((n) => n.Bridge === bridge))
      throw new ConflictError(`bridge name ${bridge} is already in use by another network`);
    const internal = !!req.Internal || options["com.docker.network.internal"] === "true";
    const mtu = options[MTU_OPT];
    if (mtu !== undefined) {
      if (!/^[+-]?\d+$/.test(mtu))
        throw new InvalidParameterError(
          `failed to parse ${MTU_OPT} value: ${mtu} (strconv.Atoi: parsing ${JSON.stringify(mtu)}: invalid syntax)`,
        );
      // The kernel's bounds for an Ethernet link; dockerd passes a smaller value on and fails at run.
      if (Number(mtu) < 68 || Number(mtu) > 65535)
        throw new InvalidParameterError(`invalid MTU number: ${mtu}`);
    }
    return {
      Id: id,
      Name: name,
      Created: nowRfc3339(),
      Driver: "bridge",
      Internal: internal,
      Attachable: !!req.Attachable,
      EnableIPv6: enableIPv6,
      Options: options,
      Labels: { ...(req.Labels ?? {}) },
      IPAM: { Driver: "default", Options: req.IPAM?.Options ?? null, Config: v6 ? [out, v6] : [out] },
      Bridge: bridge,
    };
  }

  /**
   * Checks an IPv6 IPAM config as libnetwork's default IPAM does, in its words: a valid subnet no other
   * network's overlaps, a gateway and auxiliary addresses inside it, a range inside it. The subnet and the
   * addresses are kept as given (dockerd keeps host bits in the subnet too).
   */
  #ipv6Config(cfg: IpamConfig): IpamConfig {
    const text = cfg.Subnet ?? "";
    const subnet = parseCidr6(text);
    if (!subnet) throw new InvalidParameterError(`Invalid subnet ${text} : invalid CIDR address: ${text}`);
    for (const n of this.#byId.values()) {
      const other = subnet6(n);
      if (other && overlaps6(other, subnet))
        throw new ForbiddenError("Pool overlaps with other one on this address space");
    }
    const out: IpamConfig = { Subnet: `${formatIp6(subnet.address)}/${subnet.prefixLen}` };
    if (cfg.IPRange) {
      const r = parseCidr6(cfg.IPRange);
      if (!r || !contains6(subnet, r.base) || r.prefixLen < subnet.prefixLen)
        throw new InvalidParameterError(`invalid ip-range ${cfg.IPRange}: it must be inside ${out.Subnet}`);
      out.IPRange = formatCidr6(r);
    }
    if (subnet.prefixLen >= 127)
      throw new InvalidParameterError("failed to allocate gateway (): No available addresses on this pool");
    if (cfg.Gateway) {
      const g = parseIp6(cfg.Gateway);
      if (g === undefined)
        throw new InvalidParameterError(`invalid gateway address ${cfg.Gateway} in Ipam configuration`);
      if (!contains6(subnet, g))
        throw new InvalidParameterError(
          `failed to allocate gateway (${cfg.Gateway}): Requested address is out of range`,
        );
      if (g === subnet.base)
        throw new InvalidParameterError(
          `failed to allocate gateway (${cfg.Gateway}): Address already in use`,
        );
      out.Gateway = formatIp6(g);
    }
    const aux = Object.entries(cfg.AuxiliaryAddresses ?? {});
    for (const [k, ip] of aux) {
      const v = parseIp6(ip);
      if (v === undefined || !contains6(subnet, v))
        throw new InvalidParameterError(
          `invalid auxiliary address ${k}=${ip}: it must be inside ${out.Subnet}`,
        );
    }
    if (aux.length) out.AuxiliaryAddresses = Object.fromEntries(aux);
    return out;
  }

  /** Forgets a network. */
  async delete(id: string): Promise<void> {
    this.#byId.delete(id);
    await this.#store.remove(id);
  }

  /** Bridges with this daemon's alias that no network owns (left by a crash between two steps). */
  async staleBridges(): Promise<string[]> {
    const ours = new Set(this.all().flatMap((n) => (n.Bridge ? [n.Bridge] : [])));
    return (await this.#driver.links())
      .filter((l) => l.kind === "bridge" && l.alias === this.#driver.bridgeAlias && !ours.has(l.name))
      .map((l) => l.name);
  }

  /** Logs and swallows a failure of a best-effort clean-up step. */
  static quiet(what: string, e: unknown): void {
    log("warn", what, { err: e });
  }
}
