import assert from "node:assert/strict";
import { mkdtemp, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { FakeHost } from "../host/index.ts";
import { BridgeDriver } from "./bridge.ts";
import { FakeKernel, HOST_NS } from "./fake.ts";
import { parseIp } from "./ipam.ts";

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
