/** What a container asks of networking at create: Docker's checks of the mode, ports, --ip and aliases. */
import { hostname } from "node:os";
import type { EndpointSettings, HostConfig, NetworkingConfig } from "../apitypes/index.ts";
import { InvalidParameterError, isNotFound } from "../errdefs/index.ts";
import { contains, contains6, parseCidr6, parseIp, parseIp6 } from "../netdrv/index.ts";
import { newId, parseLink, shortId } from "../util/index.ts";
import { wantedBindings } from "./ports.ts";
import { addressing, type NetworkRecord } from "./registry.ts";
import type { EndpointConfig, SandboxDoc } from "./sandbox.ts";

/** A container being created, as networking sees it. */
export interface ContainerNetworkRequest {
  id: string;
  name: string;
  /** As requested; "" for the default. */
  hostname: string;
  hostConfig: HostConfig;
  exposedPorts?: Record<string, object> | null;
  networking?: NetworkingConfig;
  /** Config.MacAddress (--mac-address before API 1.44): the primary endpoint's MAC. */
  macAddress?: string;
}

/** How create finds networks and the container a `container:<ref>` mode joins. */
export interface ConfigLookups {
  /** A network by ref; NotFound otherwise. */
  get(ref: string): NetworkRecord;
  /** Like get, undefined when missing. */
  find(ref: string): NetworkRecord | undefined;
  /** A container ref's ID; NotFound otherwise. */
  resolveContainer(ref: string): string;
}

/** Validates a new container's network settings as create does and builds the record to keep. */
export function sandboxFor(
  c: ContainerNetworkRequest,
  nets: ConfigLookups,
): { doc: SandboxDoc; warnings: string[] } {
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
  for (const link of hc.Links ?? []) {
    const { target } = parseLink(link);
    try {
      nets.resolveContainer(target);
    } catch (e) {
      if (!isNotFound(e)) throw e;
      throw new InvalidParameterError(`could not get container for ${target}: ${(e as Error).message}`);
    }
  }
  const publishes = Object.keys(hc.PortBindings ?? {}).length > 0 || !!hc.PublishAllPorts;
  wantedBindings({ exposed: c.exposedPorts, bindings: hc.PortBindings, publishAll: hc.PublishAllPorts });
  if (mode.startsWith("container:")) {
    if (publishes)
      throw new InvalidParameterError(
        "conflicting options: port publishing and the container type network mode",
      );
    if (hc.Dns?.length) throw new InvalidParameterError("conflicting options: dns and the network mode");
    doc.Mode = "container";
    const ref = mode.slice("container:".length);
    if (!ref) throw new InvalidParameterError("invalid container format container:<name|id>");
    // As dockerd: a container that is not there yet is looked for again at start (404 then), so the CLI
    // does not take create's answer for a missing image.
    try {
      doc.JoinId = nets.resolveContainer(ref);
    } catch (e) {
      if (!isNotFound(e)) throw e;
      doc.JoinRef = ref;
    }
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
    if (wanted.default && !nets.find("default")) {
      wanted[mode] ??= wanted.default;
      delete wanted.default;
    }
    const primary = nets.get(mode);
    const list: [NetworkRecord, EndpointSettings | undefined][] = [
      [primary, wanted[mode] ?? wanted[primary.Name] ?? wanted[primary.Id]],
    ];
    for (const [ref, settings] of Object.entries(wanted)) {
      const n = nets.get(ref);
      if (n.Id === primary.Id) continue;
      if (n.Driver !== "bridge")
        throw new InvalidParameterError(
          "container cannot be connected to host or none network and another network",
        );
      list.push([n, settings]);
    }
    // The deprecated Config.MacAddress is the primary endpoint's, unless its settings name one.
    if (c.macAddress && !list[0][1]?.MacAddress)
      list[0][1] = { ...(list[0][1] ?? {}), MacAddress: c.macAddress };
    for (const [n, s] of list) doc.Endpoints.push(endpointConfig(n, s));
  }
  return { doc, warnings };
}

/** One endpoint's wanted settings, checked against its network: --ip and aliases only on user networks. */
export function endpointConfig(n: NetworkRecord, s: EndpointSettings | undefined): EndpointConfig {
  const ip = s?.IPAMConfig?.IPv4Address || undefined;
  const ip6 = s?.IPAMConfig?.IPv6Address || undefined;
  const aliases = s?.Aliases ?? [];
  if (n.Default && (ip || ip6))
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
  if (ip6) {
    const v = parseIp6(ip6);
    if (v === undefined) throw new InvalidParameterError(`invalid IPv6 address: ${ip6}`);
    // libnetwork checks --ip6 against the network's IPv6 pools, enabled or not (it only assigns when enabled).
    const c = n.IPAM.Config.find((x) => x.Subnet?.includes(":"));
    const subnet = c?.Subnet ? parseCidr6(c.Subnet) : undefined;
    if (!subnet || !contains6(subnet, v))
      throw new InvalidParameterError(
        `Invalid address ${ip6}: It does not belong to any of this network's subnets`,
      );
  }
  const mac = s?.MacAddress || undefined;
  if (mac && !/^([0-9a-fA-F]{2}[:-]){5}[0-9a-fA-F]{2}$/.test(mac))
    throw new InvalidParameterError(`invalid MAC address: ${mac}`);
  const linkLocal = s?.IPAMConfig?.LinkLocalIPs ?? [];
  // As dockerd's validateEndpointSettings: an address, and not the unspecified one.
  for (const l of linkLocal)
    if ((parseIp(l) === undefined && parseIp6(l) === undefined) || parseIp(l) === 0 || parseIp6(l) === 0n)
      throw new InvalidParameterError(`invalid link-local IP address: ${l}`);
  return {
    NetworkID: n.Id,
    EndpointID: newId(),
    Aliases: [...aliases],
    IPv4Address: ip,
    IPv6Address: ip6,
    MacAddress: mac?.toLowerCase().replaceAll("-", ":"),
    DriverOpts: s?.DriverOpts && Object.keys(s.DriverOpts).length ? { ...s.DriverOpts } : undefined,
    Links: s?.Links ?? undefined,
    ...(linkLocal.length ? { LinkLocalIPs: [...linkLocal] } : {}),
  };
}
