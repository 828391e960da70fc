import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import type { EventInput } from "../apitypes/index.ts";
import { FakeHost } from "../host/index.ts";
import { FakeKernel, HOST_NS } from "../netdrv/index.ts";
import type { ContainerLookup } from "./endpoints.ts";
import { NetworkService } from "./service.ts";

const dirs: string[] = [];
after(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

const cid = `${"c".repeat(12)}${"0".repeat(52)}`;

/** The network service on temp roots over a FakeHost whose netlink is a FakeKernel. */
async function service() {
  const dir = await mkdtemp(join(tmpdir(), "wharf-netsvc-"));
  dirs.push(dir);
  const host = new FakeHost();
  const kernel = new FakeKernel();
  host.onNetlink = (ns, req) => kernel.handle(ns, req);
  const events: EventInput[] = [];
  const running = new Set<string>();
  const containers: ContainerLookup = {
    resolve: (ref) => {
      if (ref !== "web" && ref !== cid) throw new Error(`No such container: ${ref}`);
      return cid;
    },
    running: (id) => running.has(id),
  };
  const make = async () => {
    const svc = new NetworkService({
      dataRoot: join(dir, "data"),
      execRoot: join(dir, "exec"),
      tmpDir: dir,
      bridge: "wtsvc0",
      bip: "172.29.0.1/16",
      events: (e) => events.push(e),
      host,
    });
    await svc.init(containers);
    await svc.ready();
    return svc;
  };
  return { dir, host, kernel, events, running, containers, make };
}

test("init brings up the default bridge, enables forwarding and hooks this daemon's chains in", async () => {
  const w = await service();
  const svc = await w.make();
  try {
    const br = w.kernel.link(HOST_NS, "wtsvc0");
    assert.equal(br?.kind, "bridge");
    assert.equal(br?.alias, "wharf:wtsvc0");
    assert.deepEqual(br?.addrs, [{ address: "172.29.0.1", prefixLen: 16 }]);
    assert.equal(w.host.fileData.get("/proc/sys/net/ipv4/ip_forward"), "1");
    const script = w.host.iptablesScripts.at(-1) ?? "";
    assert.match(script, /^-I FORWARD -j WHARF-wtsvc0-FWD$/m);
    assert.match(script, /^-A WHARF-wtsvc0-POST -s 172\.29\.0\.0\/16 ! -o wtsvc0 -j MASQUERADE$/m);
    assert.deepEqual(
      svc
        .list()
        .map((n) => n.Name)
        .sort(),
      ["bridge", "host", "none"],
    );
  } finally {
    svc.close();
  }
});

test("a user network's bridge, rules and a container on it, through the host seam only", async () => {
  const w = await service();
  const svc = await w.make();
  try {
    const { Id } = await svc.create({ Name: "app", IPAM: { Config: [{ Subnet: "10.66.0.0/24" }] } });
    const bridge = `br-${Id.slice(0, 12)}`;
    assert.deepEqual(w.kernel.link(HOST_NS, bridge)?.addrs, [{ address: "10.66.0.1", prefixLen: 24 }]);
    assert.match(
      w.host.iptablesScripts.at(-1) ?? "",
      new RegExp(`-s 10\\.66\\.0\\.0/24 ! -o ${bridge} -j MASQUERADE`),
    );

    await svc.createContainer({ id: cid, name: "/web", hostname: "", hostConfig: { NetworkMode: "app" } });
    const s = await svc.setup(cid);
    w.running.add(cid);
    assert.ok(s.netnsPath && w.host.netnsPaths.has(s.netnsPath));
    assert.equal(s.ip, "10.66.0.2");
    assert.deepEqual(s.nameservers, ["10.66.0.1"]);
    const eth0 = w.kernel.link(s.netnsPath, "eth0");
    assert.deepEqual(eth0?.addrs, [{ address: "10.66.0.2", prefixLen: 24 }]);
    const veth = w.kernel.ns.get(HOST_NS)?.links.find((l) => l.peer?.index === eth0?.index);
    assert.equal(veth?.master, w.kernel.link(HOST_NS, bridge)?.index);
    assert.deepEqual(Object.values(svc.inspect("app").Containers), [
      {
        Name: "web",
        EndpointID: svc.settings(cid).Networks.app.EndpointID,
        MacAddress: "02:42:0a:42:00:02",
        IPv4Address: "10.66.0.2/24",
        IPv6Address: "",
      },
    ]);
    await assert.rejects(svc.remove("app"), /has active endpoints/);

    await svc.teardown(cid);
    w.running.delete(cid);
    assert.ok(!w.host.netnsPaths.has(s.netnsPath));
    await svc.remove("app");
    assert.equal(w.kernel.link(HOST_NS, bridge), undefined);
    assert.doesNotMatch(w.host.iptablesScripts.at(-1) ?? "", /10\.66\.0\.0/);
    assert.deepEqual(
      w.events.map((e) => `${e.Type} ${e.Action}`),
      ["network create", "network connect", "network disconnect", "network destroy"],
    );
  } finally {
    svc.close();
  }
});

test("a network with IPv6: bridge and container addresses, routes, ip6tables rules, inspect, and none for IPv4 alone", async () => {
  const w = await service();
  const svc = await w.make();
  try {
    await svc.create({ Name: "four", IPAM: { Config: [{ Subnet: "10.67.0.0/24" }] } });
    assert.deepEqual(w.host.log("ip6tables"), [], "no IPv6 network: ip6tables is left alone");
    await assert.rejects(
      svc.create({ Name: "bad", EnableIPv6: true, IPAM: { Config: [{ Subnet: "fd5a:zz::/64" }] } }),
      /: Invalid subnet fd5a:zz::\/64 : invalid CIDR address: fd5a:zz::\/64$/,
    );
    await assert.rejects(
      svc.create({ Name: "nopool", EnableIPv6: true }),
      /could not find an available, non-overlapping IPv6 address pool/,
    );
    const { Id } = await svc.create({
      Name: "six",
      EnableIPv6: true,
      IPAM: { Config: [{ Subnet: "10.68.0.0/24" }, { Subnet: "fd5a:1b2c:3d4f::/64" }] },
    });
    await assert.rejects(
      svc.create({
        Name: "over",
        EnableIPv6: true,
        IPAM: { Config: [{ Subnet: "fd5a:1b2c:3d4f:0:1::/80" }] },
      }),
      /: Pool overlaps with other one on this address space$/,
    );
    const n = svc.inspect("six");
    assert.equal(n.EnableIPv6, true);
    assert.deepEqual(n.IPAM.Config, [
      { Subnet: "10.68.0.0/24", Gateway: "10.68.0.1" },
      { Subnet: "fd5a:1b2c:3d4f::/64" },
    ]);
    const bridge = `br-${Id.slice(0, 12)}`;
    assert.deepEqual(
      w.kernel.link(HOST_NS, bridge)?.addrs.map((a) => `${a.address}/${a.prefixLen}`),
      ["10.68.0.1/24", "fd5a:1b2c:3d4f::1/64", "fe80::1/64"],
    );
    const rules6 = w.host.ip6tablesScripts.at(-1) ?? "";
    assert.match(rules6, new RegExp(`-s fd5a:1b2c:3d4f::/64 ! -o ${bridge} -j MASQUERADE`));
    assert.match(rules6, new RegExp(`-A WHARF-wtsvc0-ISO2 -o ${bridge} -j DROP`));
    assert.match(rules6, /-I OUTPUT ! -d ::1\/128 -m addrtype --dst-type LOCAL -j WHARF-wtsvc0/);
    assert.doesNotMatch(rules6, /10\.6[78]/);
    assert.equal(w.host.fileData.get("/proc/sys/net/ipv6/conf/all/forwarding"), "1");

    await svc.createContainer({
      id: cid,
      name: "/web",
      hostname: "",
      hostConfig: { NetworkMode: "six" },
      networking: { EndpointsConfig: { six: { IPAMConfig: { IPv6Address: "fd5a:1b2c:3d4f::99" } } } },
    });
    const s = await svc.setup(cid);
    w.running.add(cid);
    assert.equal(s.ip6, "fd5a:1b2c:3d4f::99");
    const eth0 = w.kernel.link(s.netnsPath ?? "", "eth0");
    assert.deepEqual(
      eth0?.addrs.map((a) => `${a.address}/${a.prefixLen}`),
      ["10.68.0.2/24", "fd5a:1b2c:3d4f::99/64"],
    );
    assert.deepEqual(
      w.kernel.ns.get(s.netnsPath ?? "")?.routes.map((r) => r.gateway),
      ["10.68.0.1", "fd5a:1b2c:3d4f::1"],
    );
    const e = svc.settings(cid).Networks.six;
    assert.deepEqual(
      [e.IPAMConfig, e.GlobalIPv6Address, e.GlobalIPv6PrefixLen, e.IPv6Gateway],
      [{ IPv6Address: "fd5a:1b2c:3d4f::99" }, "fd5a:1b2c:3d4f::99", 64, "fd5a:1b2c:3d4f::1"],
    );
    assert.equal(Object.values(svc.inspect("six").Containers)[0].IPv6Address, "fd5a:1b2c:3d4f::99/64");
    await svc.teardown(cid);
    w.running.delete(cid);
    await svc.remove("six");
    assert.doesNotMatch(w.host.ip6tablesScripts.at(-1) ?? "", /fd5a/);
  } finally {
    svc.close();
  }
});

test("a restarted daemon keeps running containers' endpoints and removes what a crash left", async () => {
  const w = await service();
  let svc = await w.make();
  await svc.create({ Name: "app", IPAM: { Config: [{ Subnet: "10.67.0.0/24" }] } });
  await svc.createContainer({ id: cid, name: "/web", hostname: "", hostConfig: { NetworkMode: "app" } });
  await svc.setup(cid);
  w.running.add(cid);
  svc.close();
  // A crash between creating a bridge and saving its network, and a veth whose container is gone.
  const links = w.kernel.ns.get(HOST_NS)?.links ?? [];
  links.push({ index: 900, name: "br-stale", kind: "bridge", up: true, alias: "wharf:wtsvc0", addrs: [] });
  links.push({ index: 901, name: "br-theirs", kind: "bridge", up: true, alias: "wharf:other", addrs: [] });
  links.push({
    index: 902,
    name: "vethgone",
    kind: "veth",
    up: true,
    alias: "wharf:wtsvc0:deadbeef0000",
    addrs: [],
  });

  svc = await w.make();
  try {
    await svc.restore(cid);
    assert.equal(svc.settings(cid).Networks.app.IPAddress, "10.67.0.2");
    assert.equal(w.kernel.link(HOST_NS, "br-stale"), undefined);
    assert.equal(w.kernel.link(HOST_NS, "vethgone"), undefined);
    assert.ok(w.kernel.link(HOST_NS, "br-theirs"), "another daemon's bridge stays");
    assert.deepEqual(svc.list({ dangling: ["true"] }), []);
  } finally {
    svc.close();
  }
});
