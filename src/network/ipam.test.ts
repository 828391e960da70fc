import assert from "node:assert/strict";
import { test } from "node:test";
import { isConflict } from "../errdefs/index.ts";
import { Ipam } from "./ipam.ts";
import type { NetworkRecord } from "./registry.ts";

function net(id: string, ipam: { Subnet: string; Gateway?: string; IPRange?: string }): NetworkRecord {
  return {
    Id: id,
    Name: `n-${id}`,
    Created: "",
    Driver: "bridge",
    Internal: false,
    Attachable: false,
    EnableIPv6: false,
    Options: {},
    Labels: {},
    IPAM: { Driver: "default", Options: null, Config: [ipam] },
    Bridge: `br-${id}`,
  };
}

test("addresses come in order after the gateway, one set per network", () => {
  const ipam = new Ipam();
  const a = net("a", { Subnet: "10.5.0.0/24", Gateway: "10.5.0.1" });
  const b = net("b", { Subnet: "10.6.0.0/24", Gateway: "10.6.0.1" });
  assert.equal(ipam.allocate(a), "10.5.0.2");
  assert.equal(ipam.allocate(a), "10.5.0.3");
  assert.equal(ipam.allocate(b), "10.6.0.2");
  assert.deepEqual(ipam.allocated("a"), ["10.5.0.2", "10.5.0.3"]);
  assert.deepEqual(ipam.allocated("b"), ["10.6.0.2"]);
});

test("a released address is not handed out again at once; the search wraps", () => {
  const ipam = new Ipam();
  const n = net("a", { Subnet: "10.5.0.0/29" }); // hosts .1-.6, gateway .1
  const got = [1, 2, 3, 4, 5].map(() => ipam.allocate(n));
  assert.deepEqual(got, ["10.5.0.2", "10.5.0.3", "10.5.0.4", "10.5.0.5", "10.5.0.6"]);
  ipam.release("a", "10.5.0.3");
  assert.equal(ipam.inUse("a", "10.5.0.3"), false);
  assert.equal(ipam.allocate(n), "10.5.0.3", "wraps to the one free address");
  ipam.release("a", "10.5.0.4");
  ipam.release("a", "10.5.0.2");
  assert.equal(ipam.allocate(n), "10.5.0.4", "the search starts after the last one handed out (.3)");
  assert.equal(ipam.allocate(n), "10.5.0.2", "then wraps past the end");
});

test("the pool running dry is Docker's conflict", () => {
  const ipam = new Ipam();
  const n = net("a", { Subnet: "10.5.0.0/30" }); // one host address besides the gateway
  assert.equal(ipam.allocate(n), "10.5.0.2");
  assert.throws(
    () => ipam.allocate(n),
    (e: unknown) =>
      isConflict(e) &&
      (e as Error).message === "no available IPv4 addresses on this network's address pools: n-a (a)",
  );
});

test("--ip takes exactly that address, and refuses the gateway or a held one", () => {
  const ipam = new Ipam();
  const n = net("a", { Subnet: "10.5.0.0/24", Gateway: "10.5.0.254" });
  assert.equal(ipam.allocate(n, "10.5.0.9"), "10.5.0.9");
  for (const ip of ["10.5.0.9", "10.5.0.254"])
    assert.throws(
      () => ipam.allocate(n, ip),
      (e: unknown) => isConflict(e) && (e as Error).message === "Address already in use",
    );
  assert.equal(ipam.allocate(n), "10.5.0.1", "a gateway elsewhere frees .1");
});

test("an IP range limits dynamic addresses but not --ip", () => {
  const ipam = new Ipam();
  const n = net("a", { Subnet: "10.5.0.0/24", IPRange: "10.5.0.128/30" });
  assert.deepEqual(
    [1, 2, 3, 4].map(() => ipam.allocate(n)),
    ["10.5.0.128", "10.5.0.129", "10.5.0.130", "10.5.0.131"],
  );
  assert.throws(() => ipam.allocate(n), /no available IPv4 addresses/);
  assert.equal(ipam.allocate(n, "10.5.0.7"), "10.5.0.7");
});

test("addresses restored endpoints hold are skipped", () => {
  const ipam = new Ipam();
  const n = net("a", { Subnet: "10.5.0.0/24" });
  ipam.mark("a", "10.5.0.2");
  ipam.mark("a", "10.5.0.3");
  assert.equal(ipam.allocate(n), "10.5.0.4");
  assert.throws(() => ipam.allocate(n, "10.5.0.2"), /Address already in use/);
  ipam.forgetNetwork("a");
  assert.deepEqual(ipam.allocated("a"), []);
});

test("IPv6: after the gateway, in the range (whose first address is then the gateway), --ip6, release", () => {
  const ipam = new Ipam();
  const six = (id: string, v6: { Subnet: string; Gateway?: string; IPRange?: string }): NetworkRecord => ({
    ...net(id, { Subnet: "10.5.0.0/24" }),
    EnableIPv6: true,
    IPAM: { Driver: "default", Options: null, Config: [{ Subnet: "10.5.0.0/24" }, v6] },
  });
  const a = six("a", { Subnet: "fd5a:1b2c:3d4f::/64" });
  assert.equal(ipam.allocate6(a, { mac: "02:42:0a:05:00:02" }), "fd5a:1b2c:3d4f::2");
  assert.equal(ipam.allocate6(a, { wanted: "fd5a:1b2c:3d4f::99", mac: "" }), "fd5a:1b2c:3d4f::99");
  assert.throws(() => ipam.allocate6(a, { wanted: "fd5a:1b2c:3d4f::99", mac: "" }), /Address already in use/);
  assert.throws(() => ipam.allocate6(a, { wanted: "fd5a:1b2c:3d4f::1", mac: "" }), /Address already in use/);
  ipam.release6("a", "fd5a:1b2c:3d4f::2");
  assert.equal(ipam.allocate6(a, { mac: "" }), "fd5a:1b2c:3d4f::3", "not handed out again at once");
  // dockerd 20.10 on --ip-range fd5a:1b2c:3d5c:0:8000::/120: gateway ...8000::, containers ...8000::1, ::2
  const r = six("r", { Subnet: "fd5a:1b2c:3d5c::/64", IPRange: "fd5a:1b2c:3d5c:0:8000::/120" });
  assert.equal(ipam.allocate6(r, { mac: "" }), "fd5a:1b2c:3d5c:0:8000::1");
  assert.equal(ipam.allocate6(r, { mac: "" }), "fd5a:1b2c:3d5c:0:8000::2");
  assert.equal(ipam.allocate6(net("v4", { Subnet: "10.7.0.0/24" }), { mac: "" }), undefined, "no IPv6: none");
  const mac = { ...six("m", { Subnet: "fd5a:1b2c:3d4e::/64" }), MacIPv6: true };
  assert.equal(ipam.allocate6(mac, { mac: "02:42:0a:b1:29:02" }), "fd5a:1b2c:3d4e::242:ab1:2902");
});
