export { BridgeDriver, type BridgeHost, type VethSpec } from "./bridge.ts";
export { type DnsLookup, DnsServer } from "./dns.ts";
export { FakeKernel, type FakeLink, HOST_NS } from "./fake.ts";
export {
  type Cidr6,
  contains6,
  firstHost6,
  formatCidr6,
  formatIp6,
  macAddress6,
  nextFree6,
  overlaps6,
  parseCidr6,
  parseIp6,
} from "./ip6.ts";
export {
  type Cidr,
  contains,
  firstHost,
  formatCidr,
  formatIp,
  macFor,
  nextFree,
  overlaps,
  parseCidr,
  parseIp,
  pickSubnet,
} from "./ipam.ts";
export {
  chainNames,
  Iptables,
  type RulePort,
  removeDaemonRules,
} from "./iptables.ts";
export { type LinkInfo, Netlink } from "./netlink.ts";
export { hostPortListener, servePortRelay } from "./portrelay.ts";
export { type PortProxy, tcpProxy, udpProxy } from "./proxy.ts";
export { SLIRP_GUEST_IP, type SlirpForward, slirpForward, slirpRequest } from "./slirp.ts";
