import assert from "node:assert/strict";
import { test } from "node:test";
import { isConflict } from "../errdefs/index.ts";
import type { RulePort } from "../netdrv/index.ts";
import {
  type ActiveBinding,
  PortPublisher,
  type ProxyFactory,
  portList,
  portMap,
  slirpPortProxy,
  wantedBindings,
} from "./ports.ts";

test("bindings from PortBindings, ranges and -P", () => {
  const w = wantedBindings({
    exposed: { "80/tcp": {}, "81/tcp": {}, "53/udp": {} },
    bindings: {
      "80/tcp": [{ HostIp: "", HostPort: "8080" }],
      "53/udp": [{ HostIp: "127.0.0.1", HostPort: "9000-9010" }],
    },
    publishAll: true,
  });
  assert.deepEqual(w, [
    { proto: "tcp", containerPort: 80, hostIp: "", hostPortLow: 8080, hostPortHigh: 8080 },
    { proto: "udp", containerPort: 53, hostIp: "127.0.0.1", hostPortLow: 9000, hostPortHigh: 9010 },
    { proto: "tcp", containerPort: 81, hostIp: "", hostPortLow: 0, hostPortHigh: 0 },
  ]);
  assert.throws(
    () => wantedBindings({ bindings: { "80/tcp": [{ HostPort: "x" }] } }),
    /invalid port specification/,
  );
  assert.throws(() => wantedBindings({ bindings: { "70000/tcp": [] } }), /invalid port/);
});

test("NetworkSettings.Ports and list Ports as Docker shows them", () => {
  const active = [{ proto: "tcp" as const, containerPort: 80, hostIp: "", hostPort: 8080 }];
  assert.deepEqual(portMap({ exposed: { "80/tcp": {}, "81/tcp": {} }, active }), {
    "80/tcp": [{ HostIp: "0.0.0.0", HostPort: "8080" }],
    "81/tcp": null,
  });
  assert.deepEqual(portList({ exposed: { "81/tcp": {} }, active }), [
    { IP: "0.0.0.0", PrivatePort: 80, PublicPort: 8080, Type: "tcp" },
    { PrivatePort: 81, Type: "tcp" },
  ]);
});

/** Fake proxies: ports listed in `taken` refuse to bind, port 0 gets the next ephemeral one. */
function fakeProxies(taken: number[]) {
  const open = new Map<number, { proto: string; target: string; targetPort: number }>();
  let ephemeral = 40000;
  const proxy: ProxyFactory = async (o) => {
    const port = o.hostPort || ephemeral++;
    if (taken.includes(port) || open.has(port))
      throw new Error(`Bind for ${o.hostIp || "0.0.0.0"}:${port} failed: port is already allocated`);
    open.set(port, { proto: o.proto, target: o.target, targetPort: o.targetPort });
    return {
      port,
      close: async () => {
        open.delete(port);
      },
    };
  };
  return { proxy, open };
}

function fakeIptables() {
  const ports = new Map<string, RulePort[]>();
  let syncs = 0;
  return {
    ports,
    syncs: () => syncs,
    setPorts: (k: string, p: RulePort[]) => (p.length ? ports.set(k, p) : ports.delete(k)) && undefined,
    hasPorts: (k: string) => ports.has(k),
    sync: async () => {
      syncs++;
    },
  };
}

test("publish binds each wanted port (a range takes its first free one) and sets DNAT rules", async () => {
  const { proxy, open } = fakeProxies([8081]);
  const ipt = fakeIptables();
  const pub = new PortPublisher({ iptables: ipt, proxy });
  const active: ActiveBinding[] = [];
  await pub.publish({
    id: "c1",
    name: "web",
    endpointId: "ep1",
    ip: "10.1.0.2",
    wanted: wantedBindings({
      exposed: { "80/tcp": {}, "53/udp": {} },
      bindings: { "80/tcp": [{ HostPort: "8080" }, { HostPort: "8081-8083" }] },
      publishAll: true,
    }),
    active,
  });
  assert.deepEqual(
    active.map((a) => `${a.containerPort}/${a.proto}->${a.hostPort}`),
    ["80/tcp->8080", "80/tcp->8082", "53/udp->40000"],
  );
  assert.deepEqual([...open.keys()], [8080, 8082, 40000]);
  assert.equal(open.get(40000)?.proto, "udp");
  assert.deepEqual(
    ipt.ports.get("c1")?.map((p) => `${p.hostPort}->${p.containerIp}:${p.containerPort}`),
    ["8080->10.1.0.2:80", "8082->10.1.0.2:80", "40000->10.1.0.2:53"],
  );
  assert.equal(ipt.syncs(), 1);
  assert.ok(pub.has("c1"));

  await pub.unpublish("c1");
  assert.equal(open.size, 0);
  assert.equal(ipt.hasPorts("c1"), false);
  assert.equal(ipt.syncs(), 2);
  await pub.unpublish("c1");
  assert.equal(ipt.syncs(), 2, "a second unpublish changes nothing");
});

test("a taken port is Docker's conflict, and what was bound before it is closed by unpublish", async () => {
  const { proxy, open } = fakeProxies([9000]);
  const ipt = fakeIptables();
  const pub = new PortPublisher({ iptables: ipt, proxy });
  const active: ActiveBinding[] = [];
  await assert.rejects(
    pub.publish({
      id: "c1",
      name: "web",
      endpointId: "ep1",
      ip: "10.1.0.2",
      wanted: wantedBindings({
        bindings: { "80/tcp": [{ HostPort: "8000" }], "81/tcp": [{ HostPort: "9000" }] },
      }),
      active,
    }),
    (e: unknown) =>
      isConflict(e) &&
      (e as Error).message ===
        "driver failed programming external connectivity on endpoint web (ep1): Bind for 0.0.0.0:9000 failed: port is already allocated",
  );
  assert.deepEqual(
    active.map((a) => a.hostPort),
    [8000],
  );
  assert.equal(ipt.hasPorts("c1"), false, "no rules for a failed publish");
  await pub.unpublish("c1");
  assert.equal(open.size, 0);
});

test("restore re-binds the recorded ports and rules, skipping a port someone else took meanwhile", async () => {
  const { proxy, open } = fakeProxies([8081]);
  const ipt = fakeIptables();
  const pub = new PortPublisher({ iptables: ipt, proxy });
  const ports: ActiveBinding[] = [
    { proto: "tcp", containerPort: 80, hostIp: "", hostPort: 8080 },
    { proto: "tcp", containerPort: 81, hostIp: "", hostPort: 8081 },
  ];
  await pub.restore("c1", { ip: "10.1.0.2", ports });
  assert.deepEqual([...open.keys()], [8080]);
  assert.equal(ipt.ports.get("c1")?.length, 2);
  await pub.restore("c2", { ip: "10.1.0.3", ports: [] });
  assert.equal(pub.has("c2"), false);
});

test("a rootless daemon's ports: the proxy on every address inside, slirp4netns forwarding the host's", async () => {
  const { createServer } = await import("node:net");
  const { mkdtemp, rm } = await import("node:fs/promises");
  const { tmpdir } = await import("node:os");
  const { join } = await import("node:path");
  const dir = await mkdtemp(join(tmpdir(), "slirp-api-"));
  const apiSocket = join(dir, "api.sock");
  const requests: { execute: string; arguments: Record<string, unknown> }[] = [];
  const api = createServer((c) => {
    let text = "";
    c.on("data", (d) => {
      text += d.toString();
    });
    c.on("end", () => {
      const req = JSON.parse(text) as (typeof requests)[number];
      requests.push(req);
      c.end(
        req.arguments.host_port === 81
          ? JSON.stringify({ error: { desc: "bad request: add_hostfwd: slirp_add_hostfwd failed" } })
          : JSON.stringify({ return: req.execute === "add_hostfwd" ? { id: 7 } : {} }),
      );
    });
  });
  await new Promise<void>((r) => api.listen(apiSocket, r));
  const inner: { hostIp: string; hostPort: number }[] = [];
  let closed = 0;
  const fake: ProxyFactory = async (o) => {
    inner.push({ hostIp: o.hostIp, hostPort: o.hostPort });
    return {
      port: o.hostPort || 32768,
      close: async () => {
        closed++;
      },
    };
  };
  try {
    const proxy = slirpPortProxy(apiSocket, fake);
    const p = await proxy({
      proto: "tcp",
      hostIp: "127.0.0.1",
      hostPort: 0,
      target: "172.17.0.2",
      targetPort: 80,
    });
    assert.equal(p.port, 32768);
    assert.deepEqual(inner, [{ hostIp: "", hostPort: 0 }]);
    assert.deepEqual(requests[0], {
      execute: "add_hostfwd",
      arguments: {
        proto: "tcp",
        host_addr: "127.0.0.1",
        host_port: 32768,
        guest_addr: "10.0.2.100",
        guest_port: 32768,
      },
    });
    await p.close();
    assert.deepEqual(requests[1], { execute: "remove_hostfwd", arguments: { id: 7 } });
    assert.equal(closed, 1);
    await assert.rejects(
      proxy({ proto: "tcp", hostIp: "", hostPort: 81, target: "172.17.0.2", targetPort: 80 }),
      /Bind for 0\.0\.0\.0:81 failed: bad request/,
    );
    assert.equal(closed, 2, "the inner proxy is closed when the host side cannot be forwarded");
  } finally {
    api.close();
    await rm(dir, { recursive: true, force: true });
  }
});

test("a container with IPv6 gets [::] beside 0.0.0.0 on one port; IPv6 bindings lead to its IPv6 address", async () => {
  const open: string[] = [];
  let next = 40000;
  const proxy: ProxyFactory = async (o) => {
    const port = o.hostPort || next++;
    open.push(`${o.hostIp || "0.0.0.0"}:${port}->${o.target}`);
    return { port, close: async () => undefined };
  };
  const ipt = fakeIptables();
  const ip6t = fakeIptables();
  const pub = new PortPublisher({ iptables: ipt, ip6tables: ip6t, proxy });
  const active: ActiveBinding[] = [];
  await pub.publish({
    id: "c6",
    name: "web",
    endpointId: "ep",
    ip: "10.1.0.2",
    ip6: "fd00:1::2",
    wanted: wantedBindings({
      bindings: { "80/tcp": [{ HostPort: "" }, { HostIp: "::1", HostPort: "9090" }] },
    }),
    active,
  });
  assert.deepEqual(open, ["0.0.0.0:40000->10.1.0.2", ":::40000->fd00:1::2", "::1:9090->fd00:1::2"]);
  assert.deepEqual(portMap({ active }), {
    "80/tcp": [
      { HostIp: "0.0.0.0", HostPort: "40000" },
      { HostIp: "::", HostPort: "40000" },
      { HostIp: "::1", HostPort: "9090" },
    ],
  });
  assert.deepEqual(
    ipt.ports.get("c6")?.map((p) => `${p.hostIp}:${p.hostPort}->${p.containerIp}`),
    [":40000->10.1.0.2"],
  );
  assert.deepEqual(
    ip6t.ports.get("c6")?.map((p) => `${p.hostIp}:${p.hostPort}->${p.containerIp}`),
    [":::40000->fd00:1::2", "::1:9090->fd00:1::2"],
  );
  await pub.unpublish("c6");
  assert.equal(ip6t.hasPorts("c6"), false);
});
