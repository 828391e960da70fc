/** A container's networking as Docker's JSON shows it: inspect's NetworkSettings and a list entry's fields. */
import type { EndpointSettings, NetworkSettings, Port } from "../apitypes/index.ts";
import { shortId } from "../util/index.ts";
import { portList, portMap } from "./ports.ts";
import type { NetworkRecord } from "./registry.ts";
import type { SandboxDoc } from "./sandbox.ts";

/** How the JSON builders find networks. */
export interface NetworkFinder {
  /** A network by ID, name or prefix; undefined when missing. */
  find(ref: string): NetworkRecord | undefined;
  /** The network with this exact name. */
  byName(name: string): NetworkRecord | undefined;
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

/** NetworkSettings for container inspect (empty for a container the network service does not know). */
export function networkSettings(doc: SandboxDoc | undefined, nets: NetworkFinder): NetworkSettings {
  const s = emptySettings();
  if (!doc) return s;
  const rt = doc.Runtime;
  if (rt) {
    s.SandboxID = rt.SandboxID;
    s.SandboxKey = rt.NsPath ?? "";
    const primary = rt.Eps[0];
    s.Ports = primary ? portMap({ exposed: doc.ExposedPorts, active: rt.Ports }) : {};
  }
  s.Networks = endpointSettings(doc, nets);
  const def = s.Networks.bridge;
  if (def?.IPAddress) {
    Object.assign(s, {
      EndpointID: def.EndpointID,
      Gateway: def.Gateway,
      IPAddress: def.IPAddress,
      IPPrefixLen: def.IPPrefixLen,
      MacAddress: def.MacAddress,
      GlobalIPv6Address: def.GlobalIPv6Address,
      GlobalIPv6PrefixLen: def.GlobalIPv6PrefixLen,
      IPv6Gateway: def.IPv6Gateway,
    });
  }
  return s;
}

/** NetworkSettings.Networks: one entry per network the container is configured for. */
export function endpointSettings(doc: SandboxDoc, nets: NetworkFinder): Record<string, EndpointSettings> {
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
    const n = nets.byName(doc.Mode);
    if (n) out[n.Name] = base(n, doc.Runtime?.SandboxID ?? "");
    return out;
  }
  for (const cfg of doc.Endpoints) {
    const n = nets.find(cfg.NetworkID);
    if (!n) continue;
    const e = base(n, cfg.EndpointID);
    if (cfg.IPv4Address || cfg.IPv6Address || cfg.LinkLocalIPs?.length)
      e.IPAMConfig = {
        ...(cfg.IPv4Address ? { IPv4Address: cfg.IPv4Address } : {}),
        ...(cfg.IPv6Address ? { IPv6Address: cfg.IPv6Address } : {}),
        ...(cfg.LinkLocalIPs?.length ? { LinkLocalIPs: cfg.LinkLocalIPs } : {}),
      };
    // dockerd shows the asked-for MAC and driver options before the container runs, too.
    if (cfg.MacAddress) e.MacAddress = cfg.MacAddress;
    if (cfg.DriverOpts) e.DriverOpts = { ...cfg.DriverOpts };
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
        ...(ep.IP6
          ? {
              GlobalIPv6Address: ep.IP6,
              GlobalIPv6PrefixLen: ep.PrefixLen6 ?? 0,
              IPv6Gateway: ep.Gateway6 ?? "",
            }
          : {}),
      });
    out[n.Name] = e;
  }
  return out;
}

/** The `Ports` and `NetworkSettings.Networks` of a container list entry. */
export function listSummary(
  doc: SandboxDoc | undefined,
  nets: NetworkFinder,
): { ports: Port[]; networks: Record<string, EndpointSettings> } {
  if (!doc) return { ports: [], networks: {} };
  return {
    ports: portList({ exposed: doc.ExposedPorts, active: doc.Runtime?.Ports ?? [] }),
    networks: endpointSettings(doc, nets),
  };
}
