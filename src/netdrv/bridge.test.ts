import assert from "node:assert/strict";
import { readlinkSync } from "node:fs";
import { mkdtemp, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { FakeHost } from "../host/index.ts";
import { BridgeDriver } from "./bridge.ts";
import { parseIp } from "./ipam.ts";

const HOST_NS = "/proc/self/ns/net";

interface FakeLink {
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

/** A small rtnetlink: links, addresses and routes per namespace, enough for what the bridge driver sends. */
class FakeKernel {
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
        const address = ip4(attrs(body.subarray(8)).get(2));
        if (l.addrs.some((x) => x.address === address)) throw errno("EEXIST");
        l.addrs.push({ address, prefixLen: body.readUInt8(1) });
        return Buffer.alloc(0);
      }
      case 22:
        return Buffer.concat(
          space.links.flatMap((l) =>
            l.addrs.map((x) => {
              const m = Buffer.alloc(8);
              m.writeUInt8(2, 0);
              m.writeUInt8(x.prefixLen, 1);
              m.writeUInt32LE(l.index, 4);
              return message(20, Buffer.concat([m, attr(2, Buffer.from(x.address.split(".").map(Number)))]));
            }),
          ),
        );
      case 24: {
        const a = attrs(body.subarray(12));
        space.routes.push({
          dst: "0.0.0.0",
          prefixLen: 0,
          gateway: ip4(a.get(5)),
          oif: a.get(4)?.readUInt32LE(0),
        });
        return Buffer.alloc(0);
      }
      case 26:
        return Buffer.concat(
          space.routes.map((r) => {
            const m = Buffer.alloc(12);
            m.writeUInt8(2, 0);
            m.writeUInt8(r.prefixLen, 1);
            const dst = r.prefixLen ? [attr(1, Buffer.from(r.dst.split(".").map(Number)))] : [];
            return message(24, Buffer.concat([m, ...dst]));
          }),
        );
    }
    throw errno("EOPNOTSUPP");
  }
}

const dirs: string[] = [];
after(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

async function driver() {
  const dir = await mkdtemp(join(tmpdir(), "wharf-bridge-"));
  dirs.push(dir);
  const k = new FakeKernel();
  const host = new FakeHost();
  host.onNetlink = (ns, req) => k.handle(ns, req);
  return { k, host, d: new BridgeDriver({ tag: "wt9", netnsDir: join(dir, "netns"), host }) };
}

test("ensureBridge creates, addresses, tags and raises the bridge once", async () => {
  const { k, d } = await driver();
  await d.ensureBridge({ name: "br-t", gateway: "10.44.0.1", prefixLen: 24 });
  await d.ensureBridge({ name: "br-t", gateway: "10.44.0.1", prefixLen: 24 });
  const b = k.link(HOST_NS, "br-t");
  assert.ok(b);
  assert.equal(b.kind, "bridge");
  assert.ok(b.up);
  assert.equal(b.alias, "wharf:wt9");
  assert.deepEqual(b.addrs, [{ address: "10.44.0.1", prefixLen: 24 }]);
  assert.equal((await d.linkAddress("br-t"))?.address, "10.44.0.1");
  assert.equal(await d.linkAddress("nope"), undefined);
  assert.ok(
    (await d.links()).some((l) => l.name === "br-t" && l.kind === "bridge" && l.alias === "wharf:wt9"),
  );
});

test("attach puts a veth pair between the bridge and the container's netns, configured inside", async () => {
  const { k, host, d } = await driver();
  await d.ensureBridge({ name: "br-t", gateway: "10.44.0.1", prefixLen: 24 });
  const ns = await d.createNetns("c1");
  assert.ok((await stat(ns)).isFile());
  const spec = {
    nsPath: ns,
    bridge: "br-t",
    hostName: "vethabc",
    ifname: "eth0",
    mac: "02:42:0a:2c:00:02",
    ip: "10.44.0.2",
    prefixLen: 24,
    owner: d.vethAlias("c1".padEnd(64, "0")),
  };
  await d.attach({ ...spec, gateway: "10.44.0.1" });
  const hostEnd = k.link(HOST_NS, "vethabc");
  assert.ok(hostEnd?.up);
  assert.equal(hostEnd.master, k.link(HOST_NS, "br-t")?.index);
  assert.equal(hostEnd.alias, "wharf:wt9:c10000000000");
  const eth = k.link(ns, "eth0");
  assert.ok(eth?.up);
  assert.equal(eth.mac, "02:42:0a:2c:00:02");
  assert.deepEqual(eth.addrs, [{ address: "10.44.0.2", prefixLen: 24 }]);
  assert.ok(k.link(ns, "lo")?.up, "loopback comes up with the first interface");
  assert.deepEqual(k.ns.get(ns)?.routes, [
    { dst: "0.0.0.0", prefixLen: 0, gateway: "10.44.0.1", oif: eth.index },
  ]);

  await d.attach({ ...spec, hostName: "vethdef", ifname: "eth1", ip: "10.44.0.3" });
  assert.equal(k.ns.get(ns)?.routes.length, 1, "no second default route without a gateway");
  await d.attach({ ...spec, gateway: "10.44.0.1" });
  assert.equal(
    k.link(HOST_NS, "vethabc")?.peer?.index,
    k.link(ns, "eth0")?.index,
    "a stale veth is replaced",
  );

  await d.deleteLink("vethdef");
  assert.equal(k.link(ns, "eth1"), undefined, "deleting one end takes the peer");
  await d.deleteLink("vethdef");
  await d.removeNetns(ns);
  await assert.rejects(stat(ns), /ENOENT/);
  assert.deepEqual(
    host.log("netns").filter((l) => l.startsWith("create")),
    [`create ${ns}`],
  );
  assert.ok(!host.netnsPaths.has(ns), "the namespace is unbound");
});

test("a none-mode netns gets only its loopback up; host routes skip default and host routes", async () => {
  const { k, d } = await driver();
  const ns = await d.createNetns("c2");
  await d.loopbackUp(ns);
  assert.ok(k.link(ns, "lo")?.up);
  k.ns
    .get(HOST_NS)
    ?.routes.push(
      { dst: "0.0.0.0", prefixLen: 0 },
      { dst: "192.168.7.0", prefixLen: 24 },
      { dst: "192.168.7.9", prefixLen: 32 },
    );
  assert.deepEqual(await d.hostRoutes(), [{ base: parseIp("192.168.7.0"), prefixLen: 24 }]);
});
