/**
 * An in-memory rtnetlink for unit tests of the bridge driver and the network service: it answers the
 * requests netlink.ts frames (links, veth pairs across namespaces, addresses, routes) as the kernel would.
 */
import { readlinkSync } from "node:fs";
import { formatIp6, parseIp6 } from "./ip6.ts";

/** The daemon's own netns, as netlink sockets name it. */
export const HOST_NS = "/proc/self/ns/net";

/** One link of the fake kernel. */
export interface FakeLink {
  index: number;
  name: string;
  kind?: string;
  up: boolean;
  master?: number;
  alias?: string;
  mac?: string;
  peer?: { ns: string; index: number };
  addrs: { address: string; prefixLen: number }[];
}

function errno(code: string): NodeJS.ErrnoException {
  const e: NodeJS.ErrnoException = new Error(code);
  e.code = code;
  return e;
}

function attrs(buf: Buffer): Map<number, Buffer> {
  const out = new Map<number, Buffer>();
  for (let off = 0; off + 4 <= buf.length; ) {
    const len = buf.readUInt16LE(off);
    if (len < 4) break;
    out.set(buf.readUInt16LE(off + 2) & 0x3fff, buf.subarray(off + 4, off + len));
    off += (len + 3) & ~3;
  }
  return out;
}

function attr(type: number, value: Buffer | string | number): Buffer {
  const payload =
    typeof value === "string"
      ? Buffer.from(`${value}\0`)
      : typeof value === "number"
        ? Buffer.from(new Uint32Array([value]).buffer)
        : value;
  const head = Buffer.alloc(4);
  head.writeUInt16LE(4 + payload.length, 0);
  head.writeUInt16LE(type, 2);
  const pad = Buffer.alloc(((payload.length + 3) & ~3) - payload.length);
  return Buffer.concat([head, payload, pad]);
}

function message(type: number, body: Buffer): Buffer {
  const head = Buffer.alloc(16);
  head.writeUInt32LE(16 + body.length, 0);
  head.writeUInt16LE(type, 4);
  return Buffer.concat([head, body]);
}

const cstr = (b: Buffer | undefined) => b?.toString().replace(/\0.*$/s, "");
const ip4 = (b: Buffer | undefined) => (b ? [...b].join(".") : "");
const ip6 = (b: Buffer | undefined) =>
  b?.length === 16 ? formatIp6((b.readBigUInt64BE(0) << 64n) | b.readBigUInt64BE(8)) : "";
const ip6Bytes = (s: string) => {
  const v = parseIp6(s) ?? 0n;
  const b = Buffer.alloc(16);
  b.writeBigUInt64BE(v >> 64n, 0);
  b.writeBigUInt64BE(v & 0xffffffffffffffffn, 8);
  return b;
};

/**
 * A small rtnetlink: links, addresses and routes per namespace, enough for what the bridge driver sends.
 * Plug it into a FakeHost: `host.onNetlink = (ns, req) => kernel.handle(ns, req)`.
 */
export class FakeKernel {
  /** Namespace path → its links and routes. */
  readonly ns = new Map<
    string,
    { links: FakeLink[]; routes: { dst: string; prefixLen: number; gateway?: string; oif?: number }[] }
  >();
  #next = 2;

  constructor() {
    this.#space(HOST_NS);
  }

  #space(ns: string) {
    let s = this.ns.get(ns);
    if (!s) {
      s = { links: [{ index: 1, name: "lo", up: false, addrs: [] }], routes: [] };
      this.ns.set(ns, s);
    }
    return s;
  }

  /** A link by name in a namespace. */
  link(ns: string, name: string): FakeLink | undefined {
    return this.ns.get(ns)?.links.find((l) => l.name === name);
  }

  #linkMsg(l: FakeLink): Buffer {
    const info = Buffer.alloc(16);
    info.writeInt32LE(l.index, 4);
    info.writeUInt32LE(l.up ? 1 : 0, 8);
    const a = [attr(3, l.name)];
    if (l.master) a.push(attr(10, l.master));
    if (l.kind) a.push(attr(18, attr(1, l.kind)));
    if (l.alias) a.push(attr(20, Buffer.from(l.alias)));
    return message(16, Buffer.concat([info, ...a]));
  }

  /** One request on a socket in `ns`: the reply messages, or a thrown errno error. */
  handle(ns: string, req: Buffer): Buffer {
    const space = this.#space(ns);
    const type = req.readUInt16LE(4);
    const flags = req.readUInt16LE(6);
    const body = req.subarray(16);
    const dump = (flags & 0x300) === 0x300;
    switch (type) {
      case 18: {
        if (dump) return Buffer.concat(space.links.map((l) => this.#linkMsg(l)));
        const name = cstr(attrs(body.subarray(16)).get(3));
        const l = space.links.find((x) => x.name === name);
        if (!l) throw errno("ENODEV");
        return this.#linkMsg(l);
      }
      case 16: {
        const index = body.readInt32LE(4);
        const a = attrs(body.subarray(16));
        if (index) {
          const l = space.links.find((x) => x.index === index);
          if (!l) throw errno("ENODEV");
          const change = body.readUInt32LE(12);
          if (change & 1) l.up = (body.readUInt32LE(8) & 1) === 1;
          if (a.has(20)) l.alias = a.get(20)?.toString();
          return Buffer.alloc(0);
        }
        const name = cstr(a.get(3)) ?? "";
        if (space.links.some((l) => l.name === name)) throw errno("EEXIST");
        const info = attrs(a.get(18) ?? Buffer.alloc(0));
        const kind = cstr(info.get(1));
        const l: FakeLink = {
          index: this.#next++,
          name,
          kind,
          up: false,
          addrs: [],
          master: a.get(10)?.readUInt32LE(0),
        };
        space.links.push(l);
        if (kind === "veth") {
          const peerMsg = attrs(info.get(2) ?? Buffer.alloc(0)).get(1) ?? Buffer.alloc(16);
          const pa = attrs(peerMsg.subarray(16));
          const fd = pa.get(28)?.readUInt32LE(0) ?? -1;
          const peerNs = readlinkSync(`/proc/self/fd/${fd}`);
          const ps = this.#space(peerNs);
          const p: FakeLink = {
            index: this.#next++,
            name: cstr(pa.get(3)) ?? "",
            kind: "veth",
            up: false,
            addrs: [],
            mac: [...(pa.get(1) ?? [])].map((x) => x.toString(16).padStart(2, "0")).join(":"),
            peer: { ns, index: l.index },
          };
          ps.links.push(p);
          l.peer = { ns: peerNs, index: p.index };
        }
        return Buffer.alloc(0);
      }
      case 17: {
        const index = body.readInt32LE(4);
        const l = space.links.find((x) => x.index === index);
        if (!l) throw errno("ENODEV");
        space.links = space.links.filter((x) => x !== l);
        if (l.peer) {
          const ps = this.ns.get(l.peer.ns);
          if (ps) ps.links = ps.links.filter((x) => x.index !== l.peer?.index);
        }
        return Buffer.alloc(0);
      }
      case 20: {
        const l = space.links.find((x) => x.index === body.readUInt32LE(4));
        if (!l) throw errno("ENODEV");
        const v6 = body.readUInt8(0) === 10;
        const address = v6 ? ip6(attrs(body.subarray(8)).get(1)) : ip4(attrs(body.subarray(8)).get(2));
        if (l.addrs.some((x) => x.address === address)) throw errno("EEXIST");
        l.addrs.push({ address, prefixLen: body.readUInt8(1) });
        return Buffer.alloc(0);
      }
      case 22: {
        const v6 = body.readUInt8(0) === 10;
        return Buffer.concat(
          space.links.flatMap((l) =>
            l.addrs
              .filter((x) => x.address.includes(":") === v6)
              .map((x) => {
                const m = Buffer.alloc(8);
                m.writeUInt8(v6 ? 10 : 2, 0);
                m.writeUInt8(x.prefixLen, 1);
                m.writeUInt32LE(l.index, 4);
                const raw = v6 ? ip6Bytes(x.address) : Buffer.from(x.address.split(".").map(Number));
                return message(20, Buffer.concat([m, attr(v6 ? 1 : 2, raw)]));
              }),
          ),
        );
      }
      case 24: {
        const a = attrs(body.subarray(12));
        const v6 = body.readUInt8(0) === 10;
        space.routes.push({
          dst: v6 ? "::" : "0.0.0.0",
          prefixLen: 0,
          gateway: v6 ? ip6(a.get(5)) : ip4(a.get(5)),
          oif: a.get(4)?.readUInt32LE(0),
        });
        return Buffer.alloc(0);
      }
      case 26:
        return Buffer.concat(
          space.routes
            .filter((r) => r.dst.includes(":") === (body.readUInt8(0) === 10))
            .map((r) => {
              const m = Buffer.alloc(12);
              m.writeUInt8(r.dst.includes(":") ? 10 : 2, 0);
              m.writeUInt8(r.prefixLen, 1);
              const dst = r.prefixLen ? [attr(1, Buffer.from(r.dst.split(".").map(Number)))] : [];
              return message(24, Buffer.concat([m, ...dst]));
            }),
        );
    }
    throw errno("EOPNOTSUPP");
  }
}
