// Docker Engine API v1.47 wire shapes: networks and endpoints. Field names are Docker's (swagger v1.47, moby's api/types).
// Types only: no runtime code, no imports of other wharf folders, so api/, client/ and services share them.

/** NetworkingConfig represents the container's networking configuration for */
export interface NetworkingConfig {
  EndpointsConfig?: Record<string, EndpointSettings>;
}

/** Configuration for a network endpoint. */
export interface EndpointSettings {
  IPAMConfig?: EndpointIPAMConfig;
  Links?: string[];
  MacAddress?: string;
  Aliases?: string[];
  DriverOpts?: Record<string, string> | null;
  NetworkID?: string;
  EndpointID?: string;
  Gateway?: string;
  IPAddress?: string;
  IPPrefixLen?: number;
  IPv6Gateway?: string;
  GlobalIPv6Address?: string;
  GlobalIPv6PrefixLen?: number;
  DNSNames?: string[];
}

/** EndpointIPAMConfig represents an endpoint's IPAM configuration. */
export interface EndpointIPAMConfig {
  IPv4Address?: string;
  IPv6Address?: string;
  LinkLocalIPs?: string[];
}

/** NetworkSettings exposes the network settings in the API */
export interface NetworkSettings {
  Bridge?: string;
  SandboxID?: string;
  HairpinMode?: boolean;
  LinkLocalIPv6Address?: string;
  LinkLocalIPv6PrefixLen?: number;
  Ports: PortMap;
  SandboxKey?: string;
  SecondaryIPAddresses?: Address[] | null;
  SecondaryIPv6Addresses?: Address[] | null;
  EndpointID?: string;
  Gateway?: string;
  GlobalIPv6Address?: string;
  GlobalIPv6PrefixLen?: number;
  IPAddress?: string;
  IPPrefixLen?: number;
  IPv6Gateway?: string;
  MacAddress?: string;
  Networks: Record<string, EndpointSettings>;
}

/** Address represents an IPv4 or IPv6 IP address. */
export interface Address {
  Addr?: string;
  PrefixLen?: number;
}

/** An open port on a container */
export interface Port {
  IP?: string;
  PrivatePort: number;
  PublicPort?: number;
  Type: "tcp" | "udp" | "sctp";
}

/** PortMap describes the mapping of container ports to host ports, using the */
export type PortMap = Record<string, PortBinding[] | null>;

/** PortBinding represents a binding between a host IP address and a host */
export interface PortBinding {
  HostIp?: string;
  HostPort?: string;
}

/** `POST /networks/prune`. */
export interface NetworkPruneResponse {
  NetworksDeleted: string[] | null;
}

/** One IPAM pool of a network. */
export interface IpamConfig {
  Subnet?: string;
  IPRange?: string;
  Gateway?: string;
  AuxiliaryAddresses?: Record<string, string>;
}

/** IPAM settings of a network. */
export interface Ipam {
  Driver: string;
  Options: Record<string, string> | null;
  Config: IpamConfig[];
}

/** A container's entry in a network's `Containers` map. */
export interface NetworkContainer {
  Name: string;
  EndpointID: string;
  MacAddress: string;
  IPv4Address: string;
  IPv6Address: string;
}

/** `GET /networks/{id}` (and each entry of `GET /networks`). */
export interface NetworkResource {
  Name: string;
  Id: string;
  Created: string;
  Scope: string;
  Driver: string;
  EnableIPv4?: boolean;
  EnableIPv6: boolean;
  IPAM: Ipam;
  Internal: boolean;
  Attachable: boolean;
  Ingress: boolean;
  ConfigFrom: { Network: string };
  ConfigOnly: boolean;
  Containers: Record<string, NetworkContainer>;
  Options: Record<string, string>;
  Labels: Record<string, string>;
}

/** `POST /networks/create` body. */
export interface NetworkCreateRequest {
  Name: string;
  CheckDuplicate?: boolean;
  Driver?: string;
  Scope?: string;
  Internal?: boolean;
  Attachable?: boolean;
  Ingress?: boolean;
  ConfigOnly?: boolean;
  ConfigFrom?: { Network: string } | null;
  IPAM?: { Driver?: string; Config?: IpamConfig[] | null; Options?: Record<string, string> | null } | null;
  EnableIPv4?: boolean;
  EnableIPv6?: boolean;
  Options?: Record<string, string> | null;
  Labels?: Record<string, string> | null;
}

/** `POST /networks/{id}/connect` body. */
export interface NetworkConnectRequest {
  Container: string;
  EndpointConfig?: {
    IPAMConfig?: { IPv4Address?: string; IPv6Address?: string; LinkLocalIPs?: string[] } | null;
    Links?: string[] | null;
    Aliases?: string[] | null;
    MacAddress?: string;
    DriverOpts?: Record<string, string> | null;
  } | null;
}

/** `POST /networks/{id}/disconnect` body. */
export interface NetworkDisconnectRequest {
  Container: string;
  Force?: boolean;
}
