/** A container's networking as the network service keeps it: wanted endpoints, and what a run set up. */
import { createHash } from "node:crypto";
import type { PortMap } from "../apitypes/index.ts";
import type { ActiveBinding } from "./ports.ts";

/** One network a container is (to be) attached to. */
export interface EndpointConfig {
  NetworkID: string;
  EndpointID: string;
  Aliases: string[];
  /** --ip */
  IPv4Address?: string;
  /** --ip6 */
  IPv6Address?: string;
  /** --mac-address: eth's MAC instead of the one derived from the address. */
  MacAddress?: string;
  /** --link-local-ip: extra addresses on the interface (IPv4 in a /16, IPv6 in a /64, as libnetwork adds them). */
  LinkLocalIPs?: string[];
  /** The endpoint's DriverOpts, kept and shown as asked (the bridge driver reads none of them). */
  DriverOpts?: Record<string, string>;
  Links?: string[];
}

/** What a running container's endpoint got. */
export interface RuntimeEndpoint {
  NetworkID: string;
  IP: string;
  PrefixLen: number;
  Gateway: string;
  /** The IPv6 address, prefix and gateway on a network with IPv6. */
  IP6?: string;
  PrefixLen6?: number;
  Gateway6?: string;
  Mac: string;
  Veth: string;
  Ifname: string;
}

/** Persisted per container: `<data-root>/network-sandboxes/<id>/sandbox.json`. */
export interface SandboxDoc {
  Id: string;
  /** Without the leading slash. */
  Name: string;
  Hostname: string;
  /** "bridge"-driver networks: "default"; else "host", "none" or "container:<id>". */
  Mode: "default" | "host" | "none" | "container";
  /** For Mode "container": the container whose netns is joined. */
  JoinId?: string;
  /** For Mode "container": the ref as given when no container had it at create; resolved at each start. */
  JoinRef?: string;
  Endpoints: EndpointConfig[];
  ExposedPorts?: Record<string, object> | null;
  PortBindings?: PortMap | null;
  PublishAllPorts?: boolean;
  /** HostConfig.Links as "name:alias". */
  Links?: string[];
  /** --dns: upstream servers of the embedded DNS for this container. */
  Dns?: string[];
  /** Set while the container runs. */
  Runtime?: {
    NsPath?: string;
    /** The user namespace owning NsPath (a remapped container's), bound beside it. */
    UsernsPath?: string;
    SandboxID: string;
    Eps: RuntimeEndpoint[];
    Ports: ActiveBinding[];
  };
}

/** The host-side veth name of a container's endpoint on a network: stable, so a restart finds a stale one. */
export function vethName(containerId: string, networkId: string): string {
  return `veth${createHash("sha256").update(`${containerId}/${networkId}`).digest("hex").slice(0, 7)}`;
}

/** The lowest free ethN inside the container. */
export function nextIfname(eps: RuntimeEndpoint[]): string {
  const used = new Set(eps.map((e) => e.Ifname));
  for (let i = 0; ; i++) if (!used.has(`eth${i}`)) return `eth${i}`;
}
