import assert from "node:assert/strict";
import { test } from "node:test";
import type { NetworkRecord } from "./registry.ts";
import { Resolver } from "./resolver.ts";

function net(id: string, opts: { name?: string; internal?: boolean; default?: boolean } = {}): NetworkRecord {
  return {
    Id: id,
    Name: opts.name ?? id,
    Created: "",
    Driver: "bridge",
    Internal: !!opts.internal,
    Attachable: false,
    EnableIPv6: false,
    Options: {},
    Labels: {},
    IPAM: { Driver: "default", Options: null, Config: [] },
    Default: opts.default,
  };
}

function setup() {
  const nets = new Map(
    [
      net("front", { name: "Front" }),
      net("back"),
      net("priv", { internal: true }),
      net("br", { default: true }),
    ].map((n) => [n.Id, n]),
  );
  const dns = new Map<string, string[]>();
  const r = new Resolver({ network: (id) => nets.get(id), upstreams: (id) => dns.get(id) });
  r.setHostResolvers(["192.0.2.53"]);
  return { r, nets, dns };
}

const web = { containerId: "w1", names: ["web", "w1short", "WebHost"], aliases: ["www"] };
const cli = { containerId: "c1", names: ["client", "c1short", "c1short"], aliases: [] };

test("a container answers to its name, short ID, hostname, aliases and name.network, case-insensitively", () => {
  const { r } = setup();
  r.add({ ...web, networkId: "front", ip: "10.1.0.2" });
  r.add({ ...cli, networkId: "front", ip: "10.1.0.3" });
  for (const q of ["web", "w1short", "webhost", "www", "web.front", "www.front"])
    assert.deepEqual(r.lookup("10.1.0.3", q), { addresses: ["10.1.0.2"] }, q);
  assert.deepEqual(r.lookup("10.1.0.3", "web.back"), { forward: ["192.0.2.53"] });
});

test("only networks the asker shares count, and never the default bridge", () => {
  const { r } = setup();
  r.add({ ...web, networkId: "back", ip: "10.2.0.2" });
  r.add({ ...web, networkId: "br", ip: "172.17.0.2" });
  r.add({ ...cli, networkId: "front", ip: "10.1.0.3" });
  assert.deepEqual(r.lookup("10.1.0.3", "web"), { forward: ["192.0.2.53"] });
  r.add({ ...cli, networkId: "br", ip: "172.17.0.3" });
  assert.deepEqual(
    r.lookup("172.17.0.3", "web"),
    { forward: ["192.0.2.53"] },
    "asked from its default-bridge address",
  );
  r.add({ ...cli, networkId: "back", ip: "10.2.0.3" });
  assert.deepEqual(r.lookup("10.1.0.3", "web"), { addresses: ["10.2.0.2"] });
});

test("unknown sources are refused; --dns and internal networks decide where the rest goes", () => {
  const { r, dns } = setup();
  assert.deepEqual(r.lookup("10.9.9.9", "web"), { refuse: true });
  r.add({ ...cli, networkId: "front", ip: "10.1.0.3" });
  dns.set("c1", ["198.51.100.1"]);
  assert.deepEqual(r.lookup("10.1.0.3", "example.com"), { forward: ["198.51.100.1"] });
  r.add({ containerId: "p1", networkId: "priv", ip: "10.3.0.2", names: ["p"], aliases: [] });
  assert.deepEqual(r.lookup("10.3.0.2", "example.com"), { forward: [] });
});

test("a shared alias answers with every holder's address; removal and rename keep the index current", () => {
  const { r } = setup();
  r.add({ ...web, networkId: "front", ip: "10.1.0.2" });
  r.add({
    containerId: "w2",
    networkId: "front",
    ip: "10.1.0.4",
    names: ["web2", "w2", "w2"],
    aliases: ["www"],
  });
  r.add({ ...cli, networkId: "front", ip: "10.1.0.3" });
  assert.deepEqual(r.lookup("10.1.0.3", "www"), { addresses: ["10.1.0.2", "10.1.0.4"] });
  r.remove("w2", "front");
  assert.deepEqual(r.lookup("10.1.0.3", "www"), { addresses: ["10.1.0.2"] });
  assert.deepEqual(r.lookup("10.1.0.3", "web2"), { forward: ["192.0.2.53"] });
  assert.equal(r.owner("10.1.0.4"), undefined);

  r.rename("w1", ["Site", "w1short", "WebHost"]);
  assert.deepEqual(r.lookup("10.1.0.3", "site"), { addresses: ["10.1.0.2"] });
  assert.deepEqual(r.lookup("10.1.0.3", "www"), { addresses: ["10.1.0.2"] }, "aliases survive a rename");
  assert.deepEqual(r.lookup("10.1.0.3", "web"), { forward: ["192.0.2.53"] });

  r.removeContainer("w1");
  assert.deepEqual(r.resolve("front", "site"), []);
  assert.deepEqual(r.owner("10.1.0.3"), { containerId: "c1", networkId: "front" });
  r.removeContainer("c1");
  assert.deepEqual(r.lookup("10.1.0.3", "x"), { refuse: true });
});

test("re-adding an endpoint replaces the earlier one on that network", () => {
  const { r } = setup();
  r.add({ ...web, networkId: "front", ip: "10.1.0.2" });
  r.add({ ...web, networkId: "front", ip: "10.1.0.9" });
  assert.deepEqual(r.resolve("front", "web"), ["10.1.0.9"]);
  assert.equal(r.owner("10.1.0.2"), undefined);
});
