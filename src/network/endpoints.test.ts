import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import type { EventInput, HostConfig } from "../apitypes/index.ts";
import { NotFoundError } from "../errdefs/index.ts";
import type { LinkInfo, RulePort, VethSpec } from "../netdrv/index.ts";
import { type ContainerLookup, type EndpointDriver, Endpoints } from "./endpoints.ts";
import type { ProxyFactory } from "./ports.ts";
import { type NetworkRecord, NetworkRegistry, type RegistryDriver } from "./registry.ts";

const dirs: string[] = [];
after(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

/** The kernel as the endpoint code sees it: netns files, veths by name, nothing real. */
class FakeDriver implements EndpointDriver, RegistryDriver {
  readonly tag = "wt0";
  readonly bridgeAlias = "wharf:wt0";
  readonly netns = new Set<string>();
  readonly veths = new Map<string, VethSpec>();
  readonly deleted: string[] = [];
  extraLinks: LinkInfo[] = [];
  failAttach = false;
  async createNetns(id: string): Promise<string> {
    const p = `/run/fake/netns/${id}`;
    this.netns.add(p);
    return p;
  }
  async removeNetns(path: string): Promise<void> {
    this.netns.delete(path);
    for (const [name, v] of this.veths) if (v.nsPath === path) this.veths.delete(name);
  }
  async loopbackUp(): Promise<void> {}
  async attach(v: VethSpec): Promise<void> {
    if (this.failAttach) throw new Error("netlink: File exists");
    this.veths.set(v.hostName, v);
  }
  async deleteLink(name: string): Promise<void> {
    this.deleted.push(name);
    this.veths.delete(name);
  }
  async links(): Promise<LinkInfo[]> {
    let i = 10;
    return [
      ...[...this.veths.values()].map((v) => ({
        index: i++,
        name: v.hostName,
        up: true,
        kind: "veth",
        alias: v.owner,
      })),
      ...this.extraLinks,
    ];
  }
  vethAlias(id: string): string {
    return `wharf:${this.tag}:${id.slice(0, 12)}`;
  }
  async linkAddress(): Promise<undefined> {
    return undefined;
  }
  async hostRoutes() {
    return [];
  }
}

function fakeIptables() {
  const ports = new Map<string, RulePort[]>();
  return {
    ports,
    setPorts: (k: string, p: RulePort[]) => void (p.length ? ports.set(k, p) : ports.delete(k)),
    hasPorts: (k: string) => ports.has(k),
    sync: async () => undefined,
  };
}

function fakeProxies() {
  const open = new Set<number>();
  const proxy: ProxyFactory = async (o) => {
    if (open.has(o.hostPort))
      throw new Error(`Bind for 0.0.0.0:${o.hostPort} failed: port is already allocated`);
    open.add(o.hostPort);
    return {
      port: o.hostPort,
      close: async () => {
        open.delete(o.hostPort);
      },
    };
  };
  return { proxy, open };
}

class Containers implements ContainerLookup {
  readonly names = new Map<string, string>();
  readonly up = new Set<string>();
  resolve(ref: string): string {
    const id = this.names.get(ref) ?? (this.up.has(ref) ? ref : undefined);
    if (!id) throw new NotFoundError(`No such container: ${ref}`);
    return id;
  }
  running(id: string): boolean {
    return this.up.has(id);
  }
}

const id = (n: number) => `${String(n).repeat(12)}${"f".repeat(52)}`;

/** A daemon's network state on temp roots; `restart()` builds new objects over the same roots. */
async function world() {
  const dir = await mkdtemp(join(tmpdir(), "wharf-eps-"));
  dirs.push(dir);
  const driver = new FakeDriver();
  const iptables = fakeIptables();
  const { proxy, open } = fakeProxies();
  const containers = new Containers();
  const events: EventInput[] = [];
  const make = async () => {
    const nets = new NetworkRegistry({ root: join(dir, "networks"), tmpDir: dir, driver });
    await nets.init({ bridge: "wt0", bip: "172.30.0.1/16" });
    const eps = new Endpoints({
      root: join(dir, "sandboxes"),
      tmpDir: dir,
      networks: nets,
      driver,
      iptables,
      events: (e) => events.push(e),
      proxy,
      files: {
        read: async (p) => {
          if (p !== "/etc/resolv.conf") throw new Error(`ENOENT: ${p}`);
          return "# host\nnameserver 192.0.2.53\nnameserver ::1\n";
        },
      },
    });
    await eps.init();
    eps.setContainers(containers);
    return { nets, eps };
  };
  let { nets, eps } = await make();
  const userNet = async (name: string, subnet: string, more: { internal?: boolean } = {}) => {
    const n = await nets.build({
      Name: name,
      IPAM: { Config: [{ Subnet: subnet }] },
      Internal: more.internal,
    });
    await nets.save(n);
    return n;
  };
  const create = async (
    n: number,
    name: string,
    hc: HostConfig = {},
    more: { exposed?: Record<string, object>; aliases?: Record<string, string[]>; ip?: string } = {},
  ) => {
    containers.names.set(name, id(n));
    const EndpointsConfig = Object.fromEntries(
      Object.entries(more.aliases ?? {}).map(([k, a]) => [
        k,
        { Aliases: a, IPAMConfig: { IPv4Address: more.ip } },
      ]),
    );
    return eps.create({
      id: id(n),
      name: `/${name}`,
      hostname: "",
      hostConfig: hc,
      exposedPorts: more.exposed,
      networking: { EndpointsConfig },
    });
  };
  const start = async (n: number) => {
    const s = await eps.setup(id(n));
    containers.up.add(id(n));
    return s;
  };
  const stop = async (n: number) => {
    containers.up.delete(id(n));
    await eps.teardown(id(n));
  };
  const ip = (n: number, net: string) => eps.settings(id(n)).Networks[net]?.IPAddress;
  return {
    driver,
    iptables,
    open,
    containers,
    events,
    get nets() {
      return nets;
    },
    get eps() {
      return eps;
    },
    userNet,
    create,
    start,
    stop,
    ip,
    async restart() {
      ({ nets, eps } = await make());
    },
  };
}

function gw(n: NetworkRecord): string {
  return n.IPAM.Config[0]?.Gateway ?? "";
}

test("setup on a user network: an address, a veth, the embedded DNS, connect events; teardown undoes it", async () => {
  const w = await world();
  const net = await w.userNet("app", "10.77.0.0/24");
  await w.create(1, "web", { NetworkMode: "app" }, { aliases: { app: ["www"] } });
  const s = await w.start(1);
  assert.equal(s.ip, "10.77.0.2");
  assert.deepEqual(s.nameservers, [gw(net)]);
  assert.ok(s.netnsPath && w.driver.netns.has(s.netnsPath));
  const veth = [...w.driver.veths.values()][0];
  assert.equal(veth.ifname, "eth0");
  assert.equal(veth.gateway, "10.77.0.1");
  assert.equal(veth.mac, "02:42:0a:4d:00:02");
  assert.deepEqual(
    w.events.map((e) => `${e.Action} ${e.Actor.Attributes?.name}`),
    ["connect app"],
  );
  const st = w.eps.settings(id(1));
  assert.deepEqual(st.Networks.app.DNSNames, ["web", "www", "111111111111"]);
  assert.equal(st.Networks.app.IPAddress, "10.77.0.2");
  assert.equal(w.eps.attached(net.Id).length, 1);

  await w.stop(1);
  assert.equal(w.driver.netns.size, 0);
  assert.equal(w.ip(1, "app"), "");
  assert.equal(w.eps.attached(net.Id).length, 0);
  assert.equal(w.events.at(-1)?.Action, "disconnect");
  await w.eps.teardown(id(1));
  assert.equal(w.events.filter((e) => e.Action === "disconnect").length, 1, "teardown twice is one");
});

test("addresses are unique per network, --ip is honoured, and a failed setup gives its address back", async () => {
  const w = await world();
  await w.userNet("app", "10.77.1.0/24");
  await w.create(1, "a", { NetworkMode: "app" });
  await w.create(2, "b", { NetworkMode: "app" }, { aliases: { app: [] }, ip: "10.77.1.3" });
  await w.create(3, "c", { NetworkMode: "app" });
  await w.start(1);
  await w.start(2);
  await w.start(3);
  assert.deepEqual([w.ip(1, "app"), w.ip(2, "app"), w.ip(3, "app")], ["10.77.1.2", "10.77.1.3", "10.77.1.4"]);
  await w.create(4, "d", { NetworkMode: "app" }, { aliases: { app: [] }, ip: "10.77.1.2" });
  await assert.rejects(w.start(4), /Address already in use/);
  assert.equal(w.driver.netns.size, 3, "the failed start's netns is gone");

  await w.create(5, "e", { NetworkMode: "app" });
  w.driver.failAttach = true;
  await assert.rejects(w.start(5), /File exists/);
  w.driver.failAttach = false;
  await w.stop(1);
  await w.create(6, "f", { NetworkMode: "app" }, { aliases: { app: [] }, ip: "10.77.1.5" });
  await w.start(6);
  assert.equal(w.ip(6, "app"), "10.77.1.5", "the address the failed start held is free again");
  await w.start(5);
  assert.equal(w.ip(5, "app"), "10.77.1.6", "the search goes on after the last address handed out");
});

test("the resolver follows start, connect, disconnect, rename, stop and remove", async () => {
  const w = await world();
  const app = await w.userNet("app", "10.77.2.0/24");
  const back = await w.userNet("back", "10.77.3.0/24");
  await w.create(1, "web", { NetworkMode: "app" });
  await w.create(2, "cli", { NetworkMode: "app" });
  await w.create(3, "db", { NetworkMode: "back" });
  await w.start(1);
  await w.start(2);
  await w.start(3);
  const from = w.ip(2, "app") as string;
  assert.deepEqual(w.eps.lookup(from, "web"), { addresses: [w.ip(1, "app")] });
  assert.deepEqual(w.eps.lookup(from, "db"), { forward: ["192.0.2.53"] }, "db is on a network cli is not on");

  await w.eps.connect(id(2), back, { Aliases: ["client"] });
  assert.equal(w.driver.veths.size, 4);
  assert.deepEqual(w.eps.lookup(from, "db"), { addresses: [w.ip(3, "back")] });
  assert.deepEqual(w.eps.lookup(w.ip(3, "back") as string, "client"), { addresses: [w.ip(2, "back")] });
  assert.deepEqual(w.eps.lookup(w.ip(2, "back") as string, "web.app"), { addresses: [w.ip(1, "app")] });
  await assert.rejects(
    w.eps.connect(id(2), back, {}),
    /endpoint with name cli already exists in network back/,
  );

  await w.eps.rename(id(1), "/site");
  assert.ok("forward" in w.eps.lookup(from, "web"));
  assert.deepEqual(w.eps.lookup(from, "site"), { addresses: [w.ip(1, "app")] });
  assert.deepEqual(w.eps.settings(id(1)).Networks.app.DNSNames, ["site", "111111111111"]);

  const backIp = w.ip(2, "back") as string;
  await w.eps.disconnect(id(2), back);
  assert.ok(w.driver.deleted.some((n) => n.startsWith("veth")));
  assert.ok("forward" in w.eps.lookup(w.ip(3, "back") as string, "client"));
  assert.deepEqual(w.eps.lookup(backIp, "web"), { refuse: true }, "the old address is nobody's");
  await assert.rejects(w.eps.disconnect(id(2), back), /is not connected to network back/);

  await w.stop(1);
  assert.ok("forward" in w.eps.lookup(from, "site"));
  await w.eps.remove(id(1));
  await assert.rejects(w.eps.setup(id(1)), /No such container/);
  assert.equal(w.eps.attached(app.Id).length, 1);
});

test("published ports: bound at setup on the first endpoint, dropped with it, and a taken port fails start", async () => {
  const w = await world();
  const app = await w.userNet("app", "10.77.4.0/24");
  const hc: HostConfig = { NetworkMode: "app", PortBindings: { "80/tcp": [{ HostPort: "18080" }] } };
  await w.create(1, "web", hc, { exposed: { "80/tcp": {} } });
  await w.start(1);
  assert.deepEqual([...w.open], [18080]);
  assert.deepEqual(w.iptables.ports.get(id(1))?.[0]?.containerIp, w.ip(1, "app"));
  assert.deepEqual(w.eps.settings(id(1)).Ports, { "80/tcp": [{ HostIp: "0.0.0.0", HostPort: "18080" }] });
  assert.deepEqual(w.eps.summary(id(1)).ports, [
    { IP: "0.0.0.0", PrivatePort: 80, PublicPort: 18080, Type: "tcp" },
  ]);

  await w.create(2, "web2", hc, { exposed: { "80/tcp": {} } });
  await assert.rejects(
    w.start(2),
    /driver failed programming external connectivity on endpoint web2 .*18080/,
  );
  assert.equal(w.driver.netns.size, 1);

  await w.eps.disconnect(id(1), app);
  assert.equal(w.open.size, 0, "the primary endpoint's disconnect closes the proxies");
  assert.equal(w.iptables.hasPorts(id(1)), false);
  await w.eps.connect(id(1), app, undefined);
  assert.deepEqual([...w.open], [18080], "connecting a first network again publishes again");
  await w.stop(1);
  assert.equal(w.open.size, 0);
  assert.equal(w.iptables.ports.size, 0);
});

test("after a daemon restart running containers keep their addresses, names and ports; gc clears the rest", async () => {
  const w = await world();
  await w.userNet("app", "10.77.5.0/24");
  const hc: HostConfig = { NetworkMode: "app", PortBindings: { "80/tcp": [{ HostPort: "18081" }] } };
  await w.create(1, "web", hc, { exposed: { "80/tcp": {} } });
  await w.create(2, "cli", { NetworkMode: "app" });
  await w.start(1);
  await w.start(2);
  const webIp = w.ip(1, "app");
  const cliIp = w.ip(2, "app") as string;
  w.open.clear(); // the old daemon's listeners die with it
  w.iptables.ports.clear();
  w.containers.up.delete(id(2)); // cli exits while no daemon runs
  w.driver.extraLinks.push({
    index: 99,
    name: "vethdead",
    up: true,
    kind: "veth",
    alias: "wharf:wt0:deadbeef0000",
  });
  w.driver.extraLinks.push({ index: 98, name: "vethother", up: true, kind: "veth", alias: "wharf:other:1" });

  await w.restart();
  assert.equal(w.ip(1, "app"), webIp);
  assert.deepEqual(w.eps.lookup(cliIp, "web"), { addresses: [webIp] }, "restored endpoints answer at once");
  await w.eps.restore(id(1));
  assert.deepEqual([...w.open], [18081]);
  assert.equal(w.iptables.ports.get(id(1))?.[0]?.hostPort, 18081);

  await w.eps.gc();
  assert.equal(w.ip(2, "app"), "", "the container that ended is torn down");
  assert.deepEqual(w.eps.lookup(cliIp, "web"), { refuse: true });
  assert.ok(w.driver.deleted.includes("vethdead"));
  assert.ok(!w.driver.deleted.includes("vethother"), "another daemon's veth stays");

  await w.create(3, "new", { NetworkMode: "app" });
  await w.start(3);
  assert.notEqual(w.ip(3, "app"), webIp, "a restored address is not handed out twice");
});

test("connect and disconnect of a stopped container only change its config", async () => {
  const w = await world();
  const app = await w.userNet("app", "10.77.6.0/24");
  await w.create(1, "web", {});
  await w.eps.connect(id(1), app, { Aliases: ["site"] });
  assert.equal(w.driver.veths.size, 0);
  assert.deepEqual(Object.keys(w.eps.settings(id(1)).Networks).sort(), ["app", "bridge"]);
  assert.deepEqual(w.eps.settings(id(1)).Networks.app.Aliases, ["site"]);
  assert.equal(w.events.length, 0, "no connect event until it runs");
  await w.start(1);
  assert.equal(w.driver.veths.size, 2);
  assert.deepEqual(
    [...w.driver.veths.values()].map((v) => [v.ifname, v.gateway]),
    [
      ["eth0", "172.30.0.1"],
      ["eth1", undefined],
    ],
    "only the first endpoint gets the default route",
  );
  assert.deepEqual(w.eps.lookup(w.ip(1, "app") as string, "site"), { addresses: [w.ip(1, "app")] });
});

test("host, none and container modes", async () => {
  const w = await world();
  await w.create(1, "h", { NetworkMode: "host", PortBindings: { "80/tcp": [{ HostPort: "1" }] } });
  assert.deepEqual(await w.start(1), { host: true });
  assert.equal(w.driver.netns.size, 0);
  await w.create(2, "n", { NetworkMode: "none" });
  const none = await w.start(2);
  assert.ok(none.netnsPath && !none.ip);
  await w.create(3, "main", {});
  const main = await w.start(3);
  await w.create(4, "side", { NetworkMode: "container:main" });
  const side = await w.start(4);
  assert.deepEqual(side, {
    netnsPath: main.netnsPath,
    hostname: "333333333333",
    ip: main.ip,
    nameservers: undefined,
  });
  await w.stop(4);
  assert.ok(main.netnsPath && w.driver.netns.has(main.netnsPath), "the joined netns stays");
  await w.stop(3);
  await assert.rejects(w.start(4), /cannot join network of a non running container/);
  // A container that is not there yet is looked for again at start, as dockerd does.
  await w.create(5, "x", { NetworkMode: "container:x5" });
  await assert.rejects(w.start(5), /No such container: x5/);
  await assert.rejects(
    w.create(7, "self", { NetworkMode: "container:self" }),
    /cannot join own network namespace/,
  );
  await assert.rejects(w.create(6, "y", { Links: ["nosuch:db"] }), /could not get container for nosuch/);
});

test("--link targets land in extraHosts with alias, name and hostname", async () => {
  const w = await world();
  await w.create(1, "db", {});
  await w.start(1);
  await w.create(2, "app", { Links: ["/db:/app/database"] });
  const s = await w.start(2);
  assert.deepEqual(s.extraHosts, [`database db 111111111111:${w.ip(1, "bridge")}`]);
  assert.equal(s.nameservers, undefined, "the default bridge has no embedded DNS");
});
