// `network create/ls/rm/prune/connect/disconnect` (inspect lives in inspect.ts), as docker has them.

import type { IpamConfig, NetworkCreateRequest, NetworkResource } from "../apitypes/index.ts";
import { flag } from "./args.ts";
import {
  bool,
  type CommandDef,
  FORMAT_FLAG_DESC,
  filterFlag,
  filtersFrom,
  forEachTarget,
  kvMap,
  labelsText,
  list,
  naturalLess,
  pruneReport,
  StatusError,
  str,
  write,
} from "./common.ts";
import { contextJSON, renderList } from "./format/index.ts";
import { listFormat, pruneCommand } from "./listing.ts";
import { goTimeString, shortId } from "./units.ts";

function ipv4ToInt(ip: string): number | undefined {
  const parts = ip.split(".");
  if (parts.length !== 4) return undefined;
  let n = 0;
  for (const p of parts) {
    const v = Number(p);
    if (!/^\d+$/.test(p) || v > 255) return undefined;
    n = n * 256 + v;
  }
  return n;
}

/** True when `ip` (or the network of a CIDR) lies inside `subnet` (IPv4; other families by prefix text). */
export function subnetContains(subnet: string, ip: string): boolean {
  const [net, bitsText] = subnet.split("/");
  const addr = ip.split("/")[0];
  const a = ipv4ToInt(net);
  const b = ipv4ToInt(addr);
  if (a === undefined || b === undefined) return addr.startsWith(net.replace(/::$/, ":"));
  const bits = Number(bitsText ?? 32);
  const mask = bits === 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0;
  return (a & mask) >>> 0 === (b & mask) >>> 0;
}

/** Groups --subnet/--ip-range/--gateway/--aux-address into IPAM configs, one per subnet (docker's rules). */
export function consolidateIpam(
  subnets: string[],
  ranges: string[],
  gateways: string[],
  aux: Record<string, string>,
): IpamConfig[] {
  if (subnets.length < ranges.length || subnets.length < gateways.length)
    throw new StatusError(1, "every ip-range or gateway must have a corresponding subnet");
  const cfgs: {
    Subnet?: string;
    IPRange?: string;
    Gateway?: string;
    AuxiliaryAddresses?: Record<string, string>;
  }[] = subnets.map((s) => ({ Subnet: s }));
  for (const r of ranges) {
    const c = cfgs.find((x) => x.Subnet && subnetContains(x.Subnet, r));
    if (!c) throw new StatusError(1, `no matching subnet for range ${r}`);
    if (c.IPRange)
      throw new StatusError(
        1,
        `cannot configure multiple ranges (${r}, ${c.IPRange}) on the same subnet (${c.Subnet})`,
      );
    c.IPRange = r;
  }
  for (const g of gateways) {
    const c = cfgs.find((x) => x.Subnet && subnetContains(x.Subnet, g));
    if (!c) throw new StatusError(1, `no matching subnet for gateway ${g}`);
    if (c.Gateway)
      throw new StatusError(
        1,
        `cannot configure multiple gateways (${g}, ${c.Gateway}) for the same subnet (${c.Subnet})`,
      );
    c.Gateway = g;
  }
  for (const [k, ip] of Object.entries(aux)) {
    const c = cfgs.find((x) => x.Subnet && subnetContains(x.Subnet, ip));
    if (!c) throw new StatusError(1, `no matching subnet for aux-address ${ip}`);
    c.AuxiliaryAddresses = { ...c.AuxiliaryAddresses, [k]: ip };
  }
  return cfgs;
}

const create: CommandDef = {
  spec: {
    name: "network create",
    usage: "network create [OPTIONS] NETWORK",
    desc: "Create a network",
    minArgs: 1,
    maxArgs: 1,
    flags: [
      flag.bool("attachable", "Enable manual container attachment"),
      flag.list("aux-address", "Auxiliary IPv4 or IPv6 addresses used by Network driver", {
        typeName: "map",
      }),
      flag.string("config-from", "The network from which to copy the configuration"),
      flag.bool("config-only", "Create a configuration only network"),
      flag.string("driver", "Driver to manage the Network", { short: "d", default: "bridge" }),
      flag.list("gateway", "IPv4 or IPv6 Gateway for the master subnet", { typeName: "strings" }),
      flag.bool("ingress", "Create swarm routing-mesh network"),
      flag.bool("internal", "Restrict external access to the network"),
      flag.list("ip-range", "Allocate container ip from a sub-range", { typeName: "strings" }),
      flag.string("ipam-driver", "IP Address Management Driver", { default: "default" }),
      flag.list("ipam-opt", "Set IPAM driver specific options", { typeName: "map" }),
      flag.bool("ipv4", "Enable or disable IPv4 address assignment", { default: true }),
      flag.bool("ipv6", "Enable or disable IPv6 address assignment"),
      flag.list("label", "Set metadata on a network"),
      flag.list("opt", "Set driver specific options", { short: "o", typeName: "map" }),
      flag.string("scope", "Control the network's scope"),
      flag.list("subnet", "Subnet in CIDR format that represents a network segment", { typeName: "strings" }),
    ],
  },
  async run(cli, p) {
    const split = (name: string): string[] =>
      list(p, name)
        .flatMap((v) => v.split(","))
        .filter(Boolean);
    const config = consolidateIpam(
      split("subnet"),
      split("ip-range"),
      split("gateway"),
      kvMap(list(p, "aux-address")),
    );
    const body: NetworkCreateRequest = {
      Name: p.args[0],
      Driver: str(p, "driver") || "bridge",
      Options: kvMap(list(p, "opt")),
      IPAM: {
        Driver: str(p, "ipam-driver") || "default",
        Config: config,
        Options: kvMap(list(p, "ipam-opt")),
      },
      Internal: bool(p, "internal"),
      Attachable: bool(p, "attachable"),
      Ingress: bool(p, "ingress"),
      Scope: str(p, "scope"),
      ConfigOnly: bool(p, "config-only"),
      Labels: kvMap(list(p, "label")),
    };
    if (p.set.has("ipv4")) body.EnableIPv4 = p.flags.ipv4 !== false;
    if (p.set.has("ipv6")) body.EnableIPv6 = bool(p, "ipv6");
    if (str(p, "config-from")) body.ConfigFrom = { Network: str(p, "config-from") };
    const r = await cli.client().networkCreate(body);
    if (r.Warning) await write(cli.err, `${r.Warning}\n`);
    await write(cli.out, `${r.Id}\n`);
    return 0;
  },
};

/** Header text of each `network ls` field. */
export const NETWORK_HEADERS: Record<string, string> = {
  ID: "NETWORK ID",
  Name: "NAME",
  Driver: "DRIVER",
  Scope: "SCOPE",
  IPv4: "IPV4",
  IPv6: "IPV6",
  Internal: "INTERNAL",
  Labels: "LABELS",
  Label: "LABEL",
  CreatedAt: "CREATED AT",
};

/** One `network ls` row. */
export class NetworkContext {
  readonly #n: NetworkResource;
  readonly #trunc: boolean;
  constructor(n: NetworkResource, trunc: boolean) {
    this.#n = n;
    this.#trunc = trunc;
  }
  ID(): string {
    return this.#trunc ? shortId(this.#n.Id) : this.#n.Id;
  }
  Name(): string {
    return this.#n.Name;
  }
  Driver(): string {
    return this.#n.Driver;
  }
  Scope(): string {
    return this.#n.Scope;
  }
  IPv4(): string {
    return String(!!this.#n.EnableIPv4);
  }
  IPv6(): string {
    return String(!!this.#n.EnableIPv6);
  }
  Internal(): string {
    return String(!!this.#n.Internal);
  }
  Labels(): string {
    return labelsText(this.#n.Labels);
  }
  Label(name: unknown): string {
    return this.#n.Labels?.[String(name)] ?? "";
  }
  CreatedAt(): string {
    // Go prints the fraction of a second too, without trailing zeros.
    const base = goTimeString(new Date(this.#n.Created));
    const frac = /\.(\d+)/.exec(this.#n.Created)?.[1]?.replace(/0+$/, "");
    return frac ? base.replace(/^(\S+ \d\d:\d\d:\d\d)/, `$1.${frac}`) : base;
  }
  toJSON(): Record<string, string> {
    return contextJSON(this);
  }
}

const ls: CommandDef = {
  spec: {
    name: "network ls",
    usage: "network ls [OPTIONS]",
    desc: "List networks",
    aliases: ["network ls", "network list"],
    maxArgs: 0,
    flags: [
      filterFlag('Provide filter values (e.g. "driver=bridge")', { short: true }),
      flag.string("format", FORMAT_FLAG_DESC),
      flag.bool("no-trunc", "Do not truncate the output"),
      flag.bool("quiet", "Only display network IDs", { short: "q" }),
    ],
  },
  async run(cli, p) {
    const nets = (await cli.client().networkList(filtersFrom(list(p, "filter")))) ?? [];
    nets.sort((a, b) => naturalLess(a.Name, b.Name));
    const fmt = listFormat(p, { quiet: "{{.ID}}", table: "{{.ID}}\t{{.Name}}\t{{.Driver}}\t{{.Scope}}" });
    const rows = nets.map((n) => new NetworkContext(n, !bool(p, "no-trunc")));
    await write(cli.out, renderList(fmt, rows, { headers: NETWORK_HEADERS }));
    return 0;
  },
};

const rm: CommandDef = {
  spec: {
    name: "network rm",
    usage: "network rm NETWORK [NETWORK...]",
    desc: "Remove one or more networks",
    aliases: ["network rm", "network remove"],
    minArgs: 1,
    flags: [flag.bool("force", "Do not error if the network does not exist", { short: "f" })],
  },
  async run(cli, p) {
    const code = await forEachTarget(cli, p.args, async (n) => {
      try {
        await cli.client().networkRemove(n);
      } catch (err) {
        if (bool(p, "force") && (err as { statusCode?: number }).statusCode === 404) return undefined;
        throw err;
      }
      return n;
    });
    // Docker ends a failed network rm with its bare status line.
    if (code) await write(cli.err, "exit status 1\n");
    return code;
  },
};

const prune = pruneCommand({
  name: "network prune",
  desc: "Remove all unused networks",
  filterExample: "until=<timestamp>",
  warning: () => "WARNING! This will remove all custom networks not used by at least one container.",
  async prune(cli, _p, filters) {
    const r = await cli.client().networkPrune(filters);
    return pruneReport("Deleted Networks", r.NetworksDeleted ?? [], undefined);
  },
});

const connect: CommandDef = {
  spec: {
    name: "network connect",
    usage: "network connect [OPTIONS] NETWORK CONTAINER",
    desc: "Connect a container to a network",
    minArgs: 2,
    maxArgs: 2,
    flags: [
      flag.list("alias", "Add network-scoped alias for the container", { typeName: "strings" }),
      flag.list("driver-opt", "driver options for the network", { typeName: "strings" }),
      flag.int(
        "gw-priority",
        "Highest gw-priority provides the default gateway. Accepts positive and negative values.",
      ),
      flag.string("ip", 'IPv4 address (e.g., "172.30.100.104")'),
      flag.string("ip6", 'IPv6 address (e.g., "2001:db8::33")'),
      flag.list("link", "Add link to another container"),
      flag.list("link-local-ip", "Add a link-local address for the container", { typeName: "strings" }),
    ],
  },
  async run(cli, p) {
    const [network, container] = p.args;
    const split = (name: string): string[] =>
      list(p, name)
        .flatMap((v) => v.split(","))
        .filter(Boolean);
    const ipam: { IPv4Address?: string; IPv6Address?: string; LinkLocalIPs?: string[] } = {};
    if (str(p, "ip")) ipam.IPv4Address = str(p, "ip");
    if (str(p, "ip6")) ipam.IPv6Address = str(p, "ip6");
    if (split("link-local-ip").length) ipam.LinkLocalIPs = split("link-local-ip");
    await cli.client().networkConnect(network, {
      Container: container,
      EndpointConfig: {
        IPAMConfig: Object.keys(ipam).length ? ipam : undefined,
        Links: list(p, "link").length ? list(p, "link") : undefined,
        Aliases: split("alias").length ? split("alias") : undefined,
        DriverOpts: split("driver-opt").length ? kvMap(split("driver-opt")) : undefined,
      },
    });
    return 0;
  },
};

const disconnect: CommandDef = {
  spec: {
    name: "network disconnect",
    usage: "network disconnect [OPTIONS] NETWORK CONTAINER",
    desc: "Disconnect a container from a network",
    minArgs: 2,
    maxArgs: 2,
    flags: [flag.bool("force", "Force the container to disconnect from a network", { short: "f" })],
  },
  async run(cli, p) {
    const [network, container] = p.args;
    await cli.client().networkDisconnect(network, { Container: container, Force: bool(p, "force") });
    return 0;
  },
};

/** The network commands, by key. */
export const commands: Record<string, CommandDef> = {
  "network create": create,
  "network ls": ls,
  "network rm": rm,
  "network prune": prune,
  "network connect": connect,
  "network disconnect": disconnect,
};
