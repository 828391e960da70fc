/**
 * A small rtnetlink client: links (bridge, veth), IPv4 addresses and routes, in the host's network namespace
 * or inside a container's. Messages are framed here; the host's socket only sends one request and collects its
 * replies (off the event loop), so setting up a container's network costs a handful of syscalls and no spawned
 * process.
 */
import { closeSync, openSync } from "node:fs";
import type { NetlinkSocket } from "../host/index.ts";
import { formatIp6, parseIp6 } from "./ip6.ts";

const AF_INET = 2;
const AF_INET6 = 10;

const RTM_NEWLINK = 16;
const RTM_DELLINK = 17;
const RTM_GETLINK = 18;
const RTM_NEWADDR = 20;
const RTM_GETADDR = 22;
const RTM_NEWROUTE = 24;
const RTM_GETROUTE = 26;

const F_REQUEST = 0x1;
const F_ACK = 0x4;
const F_DUMP = 0x300;
const F_EXCL = 0x200;
const F_CREATE = 0x400;

const IFLA_ADDRESS = 1;
const IFLA_IFNAME = 3;
const IFLA_MTU = 4;
const IFLA_MASTER = 10;
const IFLA_LINKINFO = 18;
const IFLA_IFALIAS = 20;
const IFLA_NET_NS_FD = 28;
const IFLA_INFO_KIND = 1;
const IFLA_INFO_DATA = 2;
const VETH_INFO_PEER = 1;
const NLA_F_NESTED = 0x8000;

const IFA_ADDRESS = 1;
const IFA_LOCAL = 2;
const IFA_BROADCAST = 4;
const IFA_FLAGS = 8;
/** IFA_F_NODAD: usable at once, without duplicate address detection's second or two of "tentative". */
const IFA_F_NODAD = 0x02;
const RTA_DST = 1;
const RTA_OIF = 4;
const RTA_GATEWAY = 5;

/** IFF_UP */
const IFF_UP = 1;

/** One attribute to encode: a number is a u32, a string is NUL-terminated, an array is nested. */
type Attr = [type: number, value: number | string | Buffer | Attr[]];

function encodeAttrs(attrs: Attr[]): Buffer {
  const parts: Buffer[] = [];
  for (const [type, value] of attrs) {
    let payload: Buffer;
    let t = type;
    if (typeof value === "number") {
      payload = Buffer.alloc(4);
      payload.writeUInt32LE(value >>> 0);
    } else if (typeof value === "string") payload = Buffer.from(`${value}\0`);
    else if (Buffer.isBuffer(value)) payload = value;
    else {
      payload = encodeAttrs(value);
      t |= NLA_F_NESTED;
    }
    const len = 4 + payload.length;
    const head = Buffer.alloc(4);
    head.writeUInt16LE(len, 0);
    head.writeUInt16LE(t, 2);
    parts.push(head, payload, Buffer.alloc(align(len) - len));
  }
  return Buffer.concat(parts);
}

function align(n: number): number {
  return (n + 3) & ~3;
}

function ifinfomsg(opts: { index?: number; flags?: number; change?: number } = {}): Buffer {
  const b = Buffer.alloc(16);
  b.writeUInt8(0, 0);
  b.writeInt32LE(opts.index ?? 0, 4);
  b.writeUInt32LE(opts.flags ?? 0, 8);
  b.writeUInt32LE(opts.change ?? 0, 12);
  return b;
}

function ipv4(addr: string): Buffer {
  return Buffer.from(addr.split(".").map(Number));
}

function ipv6(addr: string): Buffer {
  const v = parseIp6(addr);
  if (v === undefined) throw new Error(`invalid IPv6 address: ${addr}`);
  const b = Buffer.alloc(16);
  b.writeBigUInt64BE(v >> 64n, 0);
  b.writeBigUInt64BE(v & 0xffffffffffffffffn, 8);
  return b;
}

function ipv6Text(b: Buffer): string {
  return formatIp6((b.readBigUInt64BE(0) << 64n) | b.readBigUInt64BE(8));
}

function macBytes(mac: string): Buffer {
  return Buffer.from(mac.split(":").map((h) => Number.parseInt(h, 16)));
}

/** Decoded attributes of one message: type (without flags) → raw payload. */
type Attrs = Map<number, Buffer>;

function decodeAttrs(buf: Buffer): Attrs {
  const out: Attrs = new Map();
  let off = 0;
  while (off + 4 <= buf.length) {
    const len = buf.readUInt16LE(off);
    if (len < 4 || off + len > buf.length) break;
    out.set(buf.readUInt16LE(off + 2) & 0x3fff, buf.subarray(off + 4, off + len));
    off += align(len);
  }
  return out;
}

function str(b: Buffer | undefined): string | undefined {
  if (!b) return undefined;
  const nul = b.indexOf(0);
  return b.subarray(0, nul < 0 ? b.length : nul).toString();
}

/** One link as a dump shows it. */
export interface LinkInfo {
  index: number;
  name: string;
  up: boolean;
  master?: number;
  kind?: string;
  alias?: string;
}

/** One route: its destination and prefix length. */
export interface RouteInfo {
  dst: string;
  prefixLen: number;
  oif?: number;
}

/** A netlink socket in one network namespace. */
export class Netlink {
  readonly #sock: NetlinkSocket;
  #seq = Math.floor(Math.random() * 1e6);

  /** Wraps an open route socket. */
  constructor(sock: NetlinkSocket) {
    this.#sock = sock;
  }

  /** Closes the socket. */
  close(): void {
    this.#sock.close();
  }

  #request(type: number, flags: number, body: Buffer): Promise<Buffer> {
    const seq = ++this.#seq;
    const head = Buffer.alloc(16);
    head.writeUInt32LE(16 + body.length, 0);
    head.writeUInt16LE(type, 4);
    head.writeUInt16LE(F_REQUEST | flags, 6);
    head.writeUInt32LE(seq, 8);
    return this.#sock.transact(Buffer.concat([head, body]));
  }

  /** Splits a reply into messages: [type, payload]. */
  #messages(buf: Buffer): [number, Buffer][] {
    const out: [number, Buffer][] = [];
    let off = 0;
    while (off + 16 <= buf.length) {
      const len = buf.readUInt32LE(off);
      if (len < 16) break;
      out.push([buf.readUInt16LE(off + 4), buf.subarray(off + 16, off + len)]);
      off += align(len);
    }
    return out;
  }

  /** Every link in the namespace. */
  async links(): Promise<LinkInfo[]> {
    const reply = await this.#request(RTM_GETLINK, F_DUMP, Buffer.concat([ifinfomsg(), Buffer.alloc(0)]));
    return this.#messages(reply)
      .filter(([t]) => t === RTM_NEWLINK)
      .map(([, m]) => {
        const a = decodeAttrs(m.subarray(16));
        const info = a.get(IFLA_LINKINFO);
        return {
          index: m.readInt32LE(4),
          name: str(a.get(IFLA_IFNAME)) ?? "",
          up: (m.readUInt32LE(8) & IFF_UP) !== 0,
          master: a.get(IFLA_MASTER)?.readUInt32LE(0),
          kind: info ? str(decodeAttrs(info).get(IFLA_INFO_KIND)) : undefined,
          alias: str(a.get(IFLA_IFALIAS)),
        };
      });
  }

  /** The index of a link by name; undefined when there is none. */
  async linkIndex(name: string): Promise<number | undefined> {
    try {
      const reply = await this.#request(
        RTM_GETLINK,
        F_ACK,
        Buffer.concat([ifinfomsg(), encodeAttrs([[IFLA_IFNAME, name]])]),
      );
      const [msg] = this.#messages(reply);
      return msg ? msg[1].readInt32LE(4) : undefined;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === "ENODEV") return undefined;
      throw e;
    }
  }

  /** Creates a bridge (down, no address). */
  async addBridge(name: string, opts: { mtu?: number } = {}): Promise<number> {
    const attrs: Attr[] = [
      [IFLA_IFNAME, name],
      [IFLA_LINKINFO, [[IFLA_INFO_KIND, "bridge"]]],
    ];
    if (opts.mtu) attrs.push([IFLA_MTU, opts.mtu]);
    await this.#request(
      RTM_NEWLINK,
      F_CREATE | F_EXCL | F_ACK,
      Buffer.concat([ifinfomsg(), encodeAttrs(attrs)]),
    );
    const index = await this.linkIndex(name);
    if (index === undefined) throw new Error(`bridge ${name} vanished after creation`);
    return index;
  }

  /** Sets a link up (or down) and, when given, its alias (the tag that marks it as this daemon's). */
  async setLink(index: number, opts: { up?: boolean; alias?: string }): Promise<void> {
    const attrs: Attr[] = [];
    if (opts.alias !== undefined) attrs.push([IFLA_IFALIAS, Buffer.from(opts.alias)]);
    const flags = opts.up === undefined ? {} : { flags: opts.up ? IFF_UP : 0, change: IFF_UP };
    await this.#request(
      RTM_NEWLINK,
      F_ACK,
      Buffer.concat([ifinfomsg({ index, ...flags }), encodeAttrs(attrs)]),
    );
  }

  /** Deletes a link (for a veth, both ends go). */
  async deleteLink(index: number): Promise<void> {
    await this.#request(RTM_DELLINK, F_ACK, ifinfomsg({ index }));
  }

  /**
   * Creates a veth pair: `hostName` stays here, enslaved to `master` and up; the peer is created inside the
   * netns at `peerNs` as `peerName` with `peerMac` (down: the caller sets it up there).
   */
  async addVeth(opts: {
    hostName: string;
    master: number;
    peerName: string;
    peerMac: string;
    peerNs: string;
    alias?: string;
    mtu?: number;
  }): Promise<void> {
    const nsfd = openSync(opts.peerNs, "r");
    try {
      const peerAttrs: Attr[] = [
        [IFLA_IFNAME, opts.peerName],
        [IFLA_ADDRESS, macBytes(opts.peerMac)],
        [IFLA_NET_NS_FD, nsfd],
      ];
      if (opts.mtu) peerAttrs.push([IFLA_MTU, opts.mtu]);
      const peer = Buffer.concat([ifinfomsg(), encodeAttrs(peerAttrs)]);
      const attrs: Attr[] = [
        [IFLA_IFNAME, opts.hostName],
        [IFLA_MASTER, opts.master],
        [
          IFLA_LINKINFO,
          [
            [IFLA_INFO_KIND, "veth"],
            [IFLA_INFO_DATA, [[VETH_INFO_PEER, peer]]],
          ],
        ],
      ];
      if (opts.mtu) attrs.push([IFLA_MTU, opts.mtu]);
      await this.#request(
        RTM_NEWLINK,
        F_CREATE | F_EXCL | F_ACK,
        Buffer.concat([ifinfomsg(), encodeAttrs(attrs)]),
      );
      // Up only once both ends exist: veth refuses to open while its peer is still being set up.
      const index = await this.linkIndex(opts.hostName);
      if (index !== undefined) await this.setLink(index, { up: true, alias: opts.alias });
    } finally {
      closeSync(nsfd);
    }
  }

  /** Adds an IPv4 address with its prefix to a link. */
  async addAddress(index: number, addr: string, prefixLen: number): Promise<void> {
    const msg = Buffer.alloc(8);
    msg.writeUInt8(AF_INET, 0);
    msg.writeUInt8(prefixLen, 1);
    msg.writeUInt32LE(index, 4);
    const attrs: Attr[] = [
      [IFA_LOCAL, ipv4(addr)],
      [IFA_ADDRESS, ipv4(addr)],
    ];
    if (prefixLen < 31) attrs.push([IFA_BROADCAST, ipv4(broadcastOf(addr, prefixLen))]);
    await this.#request(RTM_NEWADDR, F_CREATE | F_EXCL | F_ACK, Buffer.concat([msg, encodeAttrs(attrs)]));
  }

  /** Adds an IPv6 address with its prefix to a link, without duplicate address detection (as dockerd). */
  async addAddress6(index: number, addr: string, prefixLen: number): Promise<void> {
    const msg = Buffer.alloc(8);
    msg.writeUInt8(AF_INET6, 0);
    msg.writeUInt8(prefixLen, 1);
    msg.writeUInt8(IFA_F_NODAD, 2);
    msg.writeUInt32LE(index, 4);
    const attrs: Attr[] = [
      [IFA_ADDRESS, ipv6(addr)],
      [IFA_FLAGS, IFA_F_NODAD],
    ];
    await this.#request(RTM_NEWADDR, F_CREATE | F_EXCL | F_ACK, Buffer.concat([msg, encodeAttrs(attrs)]));
  }

  /** Addresses of a link (or of every link): [index, address, prefixLen]; IPv4 unless `family` is 6. */
  async addresses(
    index?: number,
    family: 4 | 6 = 4,
  ): Promise<{ index: number; address: string; prefixLen: number }[]> {
    const msg = Buffer.alloc(8);
    msg.writeUInt8(family === 6 ? AF_INET6 : AF_INET, 0);
    return this.#messages(await this.#request(RTM_GETADDR, F_DUMP, msg))
      .filter(([t, m]) => t === RTM_NEWADDR && m.readUInt8(0) === (family === 6 ? AF_INET6 : AF_INET))
      .map(([, m]) => {
        const a = decodeAttrs(m.subarray(8));
        const raw = family === 6 ? a.get(IFA_ADDRESS) : (a.get(IFA_LOCAL) ?? a.get(IFA_ADDRESS));
        const address = !raw
          ? ""
          : family === 6
            ? raw.length === 16
              ? ipv6Text(raw)
              : ""
            : [...raw].join(".");
        return { index: m.readUInt32LE(4), address, prefixLen: m.readUInt8(1) };
      })
      .filter((x) => x.address && (index === undefined || x.index === index));
  }

  /** Adds a default route via `gateway` (an IPv6 gateway makes it an IPv6 route). */
  async addDefaultRoute(gateway: string, oif: number): Promise<void> {
    const v6 = gateway.includes(":");
    const msg = Buffer.alloc(12);
    msg.writeUInt8(v6 ? AF_INET6 : AF_INET, 0);
    msg.writeUInt8(254, 4); // main table
    msg.writeUInt8(3, 5); // proto boot, as `ip route add` does
    msg.writeUInt8(0, 6); // scope universe
    msg.writeUInt8(1, 7); // unicast
    const attrs: Attr[] = [
      [RTA_GATEWAY, v6 ? ipv6(gateway) : ipv4(gateway)],
      [RTA_OIF, oif],
    ];
    await this.#request(RTM_NEWROUTE, F_CREATE | F_EXCL | F_ACK, Buffer.concat([msg, encodeAttrs(attrs)]));
  }

  /** Routes of every table (IPv4 unless `family` is 6), as destinations with prefix lengths. */
  async routes(family: 4 | 6 = 4): Promise<RouteInfo[]> {
    const msg = Buffer.alloc(12);
    msg.writeUInt8(family === 6 ? AF_INET6 : AF_INET, 0);
    return this.#messages(await this.#request(RTM_GETROUTE, F_DUMP, msg))
      .filter(([t, m]) => t === RTM_NEWROUTE && m.readUInt8(0) === (family === 6 ? AF_INET6 : AF_INET))
      .map(([, m]) => {
        const a = decodeAttrs(m.subarray(12));
        const dst = a.get(RTA_DST);
        const text =
          family === 6 ? (dst?.length === 16 ? ipv6Text(dst) : "::") : dst ? [...dst].join(".") : "0.0.0.0";
        return { dst: text, prefixLen: m.readUInt8(1), oif: a.get(RTA_OIF)?.readUInt32LE(0) };
      });
  }
}

function broadcastOf(addr: string, prefixLen: number): string {
  const n = ipv4(addr).readUInt32BE(0);
  const mask = prefixLen === 0 ? 0 : (~0 << (32 - prefixLen)) >>> 0;
  const b = Buffer.alloc(4);
  b.writeUInt32BE((n | ~mask) >>> 0);
  return [...b].join(".");
}
