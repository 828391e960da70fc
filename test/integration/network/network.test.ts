/**
 * Networking with real containers, driven through the real docker CLI (and the API where the CLI hides a
 * field): default bridge, user networks, embedded DNS, published ports, modes, isolation, connect/disconnect,
 * clean-up and events. Traffic goes only to loopback, the host's own address, and this daemon's subnets.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { createSocket } from "node:dgram";
import { existsSync, readdirSync } from "node:fs";
import { get } from "node:http";
import { networkInterfaces } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { promisify } from "node:util";
import {
  api,
  docker,
  freeSubnet,
  importBusybox,
  startDaemon,
  type TestDaemon,
} from "../../helpers/daemon.ts";

const run = promisify(execFile);
let d: TestDaemon;
let bip: string;
// Host ports taken at run time, not fixed: other test runs on this machine may hold any fixed one.
let P: number;
let P2: number;
let P3: number;
let R0: number;

/** The first of `n` consecutive host ports that are free right now. */
async function freeRange(n: number): Promise<number> {
  const { createServer } = await import("node:net");
  const free = (port: number) =>
    new Promise<boolean>((resolve) => {
      const s = createServer();
      s.once("error", () => resolve(false));
      s.listen(port, "0.0.0.0", () => s.close(() => resolve(true)));
    });
  for (;;) {
    const base = 20000 + Math.floor(Math.random() * 9000);
    let all = true;
    for (let i = 0; i < n && all; i++) all = await free(base + i);
    if (all) return base;
  }
}

/** The host's first non-loopback IPv4 address that is not one of our bridges. */
function hostAddress(): string {
  for (const [name, addrs] of Object.entries(networkInterfaces())) {
    if (name === "lo" || name.startsWith("wt") || name.startsWith("br-") || name.startsWith("veth")) continue;
    const a = addrs?.find((x) => x.family === "IPv4" && !x.internal);
    if (a) return a.address;
  }
  throw new Error("no host address");
}

async function ok(args: string[]): Promise<string> {
  const r = await docker(d, args);
  assert.equal(r.code, 0, `docker ${args.join(" ")}: ${r.stderr}${r.stdout}`);
  return r.stdout;
}

function httpGet(url: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = get(url, { timeout: 5000 }, (res) => {
      let body = "";
      res.on("data", (c: Buffer) => {
        body += c.toString();
      });
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on("timeout", () => req.destroy(new Error(`timeout: ${url}`)));
    req.on("error", reject);
  });
}

/** Starts a busybox httpd serving `text` on port 80 of a detached container. */
async function webServer(name: string, args: string[], text = name): Promise<string> {
  const id = (
    await ok([
      "run",
      "-d",
      "--name",
      name,
      ...args,
      "busybox",
      "sh",
      "-c",
      `mkdir -p /www && echo ${text} > /www/index.html && exec httpd -f -p 80 -h /www`,
    ])
  ).trim();
  return id;
}

/** An HTTP GET made with nc from inside a new container (busybox wget crashes on lookups here). */
async function fetchFrom(
  netArgs: string[],
  host: string,
  port: number,
): Promise<{ code: number; out: string }> {
  const r = await docker(d, [
    "run",
    "--rm",
    ...netArgs,
    "busybox",
    "sh",
    "-c",
    `printf 'GET / HTTP/1.0\\r\\n\\r\\n' | nc -w 2 ${host} ${port}`,
  ]);
  return { code: r.code, out: r.stdout };
}

async function iptablesNat(): Promise<string> {
  return (await run("iptables-save", ["-t", "nat"])).stdout;
}

/** Rules are written in the background (the proxy serves meanwhile): poll for up to 5 s. */
async function eventually(check: () => Promise<boolean>, what: string): Promise<void> {
  const deadline = Date.now() + 5000;
  while (!(await check())) {
    if (Date.now() > deadline) assert.fail(`timed out waiting: ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

before(async () => {
  bip = (await freeSubnet()).replace(/\.0\/24$/, ".1/24");
  d = await startDaemon({ name: "net", bip });
  await importBusybox(d);
  // Below the ephemeral range, where the daemon picks ports for -P and ip::port.
  [P, P2, P3, R0] = [await freeRange(1), await freeRange(1), await freeRange(1), await freeRange(10)];
});
after(async () => {
  await d?.stop();
});

describe("default bridge", () => {
  test("a container gets a veth, an address from --bip, a default route, MAC and /etc files", async () => {
    const prefix = bip.split(".").slice(0, 3).join(".");
    const out = await ok([
      "run",
      "--rm",
      "--hostname",
      "myhost",
      "--add-host",
      "extra.example:10.1.2.3",
      "--dns",
      "10.9.9.9",
      "--dns-search",
      "corp.example",
      "--dns-option",
      "ndots:2",
      "busybox",
      "sh",
      "-c",
      "ip -4 addr show eth0; ip route; cat /etc/hosts /etc/resolv.conf /etc/hostname; cat /sys/class/net/eth0/address",
    ]);
    assert.match(out, new RegExp(`inet ${prefix.replaceAll(".", "\\.")}\\.\\d+/24`));
    assert.match(out, new RegExp(`default via ${prefix.replaceAll(".", "\\.")}\\.1 dev eth0`));
    assert.match(out, /127\.0\.0\.1\tlocalhost/);
    assert.match(out, /10\.1\.2\.3\textra\.example/);
    assert.match(out, new RegExp(`${prefix.replaceAll(".", "\\.")}\\.\\d+\\tmyhost`));
    assert.match(out, /search corp\.example\nnameserver 10\.9\.9\.9\noptions ndots:2/);
    assert.match(out, /^myhost$/m);
    assert.match(out, /^02:42:/m);
  });

  test("inspect shows the attachment; the bridge network lists the container; names do not resolve", async () => {
    await ok(["run", "-d", "--name", "b1", "busybox", "sleep", "600"]);
    const c = await api<{
      NetworkSettings: {
        IPAddress: string;
        Gateway: string;
        Networks: Record<string, { IPAddress: string }>;
      };
    }>(d, "GET", "/containers/b1/json");
    assert.ok(c.NetworkSettings.IPAddress);
    assert.equal(c.NetworkSettings.Networks.bridge.IPAddress, c.NetworkSettings.IPAddress);
    assert.equal(c.NetworkSettings.Gateway, bip.replace(/\/24$/, ""));
    const n = JSON.parse(await ok(["network", "inspect", "bridge"]))[0];
    assert.equal(n.IPAM.Config[0].Subnet, bip.replace(/\.1\/24$/, ".0/24"));
    assert.equal(n.Options["com.docker.network.bridge.name"], d.bridge);
    assert.ok(Object.values(n.Containers).some((x) => (x as { Name: string }).Name === "b1"));
    const r = await docker(d, ["run", "--rm", "busybox", "nslookup", "b1", bip.replace(/\/24$/, "")]);
    assert.notEqual(r.code, 0, "names are not resolvable on the default bridge");
    const linked = await ok(["run", "--rm", "--link", "b1:db", "busybox", "cat", "/etc/hosts"]);
    assert.match(linked, new RegExp(`${c.NetworkSettings.IPAddress.replaceAll(".", "\\.")}\\tdb b1`));
    await ok(["rm", "-f", "b1"]);
  });
});

describe("user-defined networks", () => {
  let subnet: string;
  before(async () => {
    subnet = await freeSubnet();
  });

  test("create with options, ls with filters, inspect in Docker's shape, rm refused while in use, prune", async () => {
    const range = subnet.replace(/\.0\/24$/, ".128/25");
    const gw = subnet.replace(/\.0\/24$/, ".254");
    const id = (
      await ok([
        "network",
        "create",
        "--subnet",
        subnet,
        "--gateway",
        gw,
        "--ip-range",
        range,
        "--label",
        "team=a",
        "-o",
        "com.docker.network.bridge.name=wtnet0",
        "unet",
      ])
    ).trim();
    assert.match(id, /^[0-9a-f]{64}$/);
    const dup = await docker(d, ["network", "create", "unet"]);
    assert.notEqual(dup.code, 0);
    assert.match(dup.stderr, /network with name unet already exists/);
    assert.match(
      await ok(["network", "ls", "--filter", "label=team=a", "--format", "{{.Name}}"]),
      /^unet\n$/,
    );
    assert.match(await ok(["network", "ls", "--filter", "type=custom", "--format", "{{.Name}}"]), /unet/);
    assert.doesNotMatch(
      await ok(["network", "ls", "--filter", "type=custom", "--format", "{{.Name}}"]),
      /bridge/,
    );
    const n = JSON.parse(await ok(["network", "inspect", "unet"]))[0];
    assert.deepEqual(n.IPAM.Config, [{ Subnet: subnet, Gateway: gw, IPRange: range }]);
    assert.equal(n.Driver, "bridge");
    assert.equal(n.Scope, "local");
    assert.deepEqual(n.Labels, { team: "a" });
    assert.equal(n.Options["com.docker.network.bridge.name"], "wtnet0");
    assert.ok(existsSync("/sys/class/net/wtnet0"));
    await ok(["run", "-d", "--name", "u1", "--network", "unet", "busybox", "sleep", "600"]);
    const ip = (await ok(["inspect", "-f", "{{.NetworkSettings.Networks.unet.IPAddress}}", "u1"])).trim();
    assert.ok(Number(ip.split(".")[3]) >= 128, `address ${ip} comes from the ip-range`);
    const rm = await docker(d, ["network", "rm", "unet"]);
    assert.notEqual(rm.code, 0);
    assert.match(rm.stderr, /has active endpoints/);
    await ok(["rm", "-f", "u1"]);
    assert.match(await ok(["network", "prune", "-f"]), /unet/);
    assert.ok(!existsSync("/sys/class/net/wtnet0"), "bridge removed with its network");
    const gone = await docker(d, ["network", "inspect", "unet"]);
    assert.notEqual(gone.code, 0);
    assert.match(gone.stderr, /network unet not found/);
    const pre = await docker(d, ["network", "rm", "bridge"]);
    assert.match(pre.stderr, /pre-defined network and cannot be removed/);
  });

  test("--link-local-ip adds the address to the interface and shows in the endpoint's IPAMConfig", async () => {
    await ok(["network", "create", "llnet"]);
    try {
      const addrs = await ok([
        "run",
        "--rm",
        "--network",
        "llnet",
        "--link-local-ip",
        "169.254.7.9",
        "busybox",
        "ip",
        "-4",
        "addr",
        "show",
        "eth0",
      ]);
      assert.match(addrs, /inet 169\.254\.7\.9\/16 /);
      await ok([
        "create",
        "--name",
        "llc",
        "--network",
        "llnet",
        "--link-local-ip",
        "169.254.7.10",
        "busybox",
      ]);
      const ipam = await ok([
        "inspect",
        "llc",
        "--format",
        "{{json .NetworkSettings.Networks.llnet.IPAMConfig}}",
      ]);
      assert.deepEqual(JSON.parse(ipam), { LinkLocalIPs: ["169.254.7.10"] });
      const bad = await docker(d, ["create", "--network", "llnet", "--link-local-ip", "nope", "busybox"]);
      assert.notEqual(bad.code, 0);
      assert.match(bad.stderr, /invalid link-local IP address: nope/);
    } finally {
      await docker(d, ["rm", "-f", "llc"]);
      await ok(["network", "rm", "llnet"]);
    }
  });

  test("names dockerd takes are taken: with a space, a colon, non-ASCII letters", async () => {
    for (const name of ["with space", "a:b", "ü-net"]) {
      const id = (await ok(["network", "create", name])).trim();
      assert.equal((await ok(["network", "inspect", name, "--format", "{{.Id}}"])).trim(), id);
      await ok(["run", "--rm", "--network", name, "busybox", "true"]);
      assert.equal((await ok(["network", "rm", name])).trim(), name);
    }
  });

  test("a network without --subnet gets a pool subnet that overlaps no host route", async () => {
    await ok(["network", "create", "auto1"]);
    const s = JSON.parse(await ok(["network", "inspect", "auto1"]))[0].IPAM.Config[0].Subnet as string;
    assert.match(s, /^(172\.(1[7-9]|2\d|3[01])\.0\.0\/16|192\.168\.\d+\.0\/20)$/);
    await ok(["network", "rm", "auto1"]);
  });

  test("embedded DNS: names, aliases, short IDs, name.network; isolation between networks", async () => {
    const s2 = await freeSubnet();
    await ok(["network", "create", "--subnet", subnet, "dnsnet"]);
    await ok(["network", "create", "--subnet", s2, "othernet"]);
    const id = await webServer("dweb", ["--network", "dnsnet", "--network-alias", "svc"]);
    const ip = (await ok(["inspect", "-f", "{{.NetworkSettings.Networks.dnsnet.IPAddress}}", "dweb"])).trim();
    const look = await ok([
      "run",
      "--rm",
      "--network",
      "dnsnet",
      "busybox",
      "sh",
      "-c",
      `cat /etc/resolv.conf; for n in dweb svc ${id.slice(0, 12)} dweb.dnsnet; do nslookup $n; done`,
    ]);
    assert.match(look, new RegExp(`nameserver ${subnet.replace(/\.0\/24$/, ".1").replaceAll(".", "\\.")}`));
    assert.equal(look.split(`Address: ${ip}`).length - 1, 4, look);
    const http = await fetchFrom(["--network", "dnsnet"], ip, 80);
    assert.match(http.out, /dweb/);
    const other = await docker(d, ["run", "--rm", "--network", "othernet", "busybox", "nslookup", "dweb"]);
    assert.doesNotMatch(other.stdout, new RegExp(`Address: ${ip}`));
    const blocked = await fetchFrom(["--network", "othernet"], ip, 80);
    assert.doesNotMatch(blocked.out, /dweb/, "containers on different networks cannot reach each other");
    const fromDefault = await fetchFrom([], ip, 80);
    assert.doesNotMatch(fromDefault.out, /dweb/);
    await ok(["rm", "-f", "dweb"]);
    await ok(["network", "rm", "dnsnet", "othernet"]);
  });

  test("DNS forwards other names to the container's --dns servers", async () => {
    await ok(["network", "create", "--subnet", subnet, "fwdnet"]);
    // A stand-in upstream resolver on loopback: answers every A query with 10.77.0.7.
    const upstream = createSocket("udp4");
    upstream.on("message", (q, r) => {
      let off = 12;
      while (q[off] !== 0) off += q[off] + 1;
      const head = Buffer.from(q.subarray(0, off + 5));
      head.writeUInt16BE(0x8180, 2);
      head.writeUInt16BE(1, 6);
      const rr = Buffer.from([0xc0, 0x0c, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 10, 77, 0, 7]);
      upstream.send(Buffer.concat([head, rr]), r.port, r.address);
    });
    await new Promise<void>((res) => upstream.bind(53, "127.0.0.153", res));
    try {
      const out = await ok([
        "run",
        "--rm",
        "--network",
        "fwdnet",
        "--dns",
        "127.0.0.153",
        "busybox",
        "nslookup",
        "far.away",
      ]);
      assert.match(out, /Address: 10\.77\.0\.7/);
    } finally {
      upstream.close();
    }
    await ok(["network", "rm", "fwdnet"]);
  });

  test("--internal networks have no route out but containers on them talk", async () => {
    await ok(["network", "create", "--internal", "--subnet", subnet, "inet"]);
    const ipOf = async (n: string) =>
      (await ok(["inspect", "-f", `{{.NetworkSettings.Networks.inet.IPAddress}}`, n])).trim();
    await webServer("iweb", ["--network", "inet"]);
    const routes = await ok(["run", "--rm", "--network", "inet", "busybox", "ip", "route"]);
    assert.doesNotMatch(routes, /default/);
    assert.match((await fetchFrom(["--network", "inet"], await ipOf("iweb"), 80)).out, /iweb/);
    await ok(["rm", "-f", "iweb"]);
    await ok(["network", "rm", "inet"]);
  });

  test("connect with --ip/--alias and disconnect on a running container", async () => {
    const s2 = await freeSubnet();
    await ok(["network", "create", "--subnet", subnet, "cnet1"]);
    await ok(["network", "create", "--subnet", s2, "cnet2"]);
    await ok(["run", "-d", "--name", "hot", "--network", "cnet1", "busybox", "sleep", "600"]);
    const fixed = s2.replace(/\.0\/24$/, ".77");
    await ok(["network", "connect", "--ip", fixed, "--alias", "hotalias", "cnet2", "hot"]);
    const addrs = await ok(["exec", "hot", "ip", "-4", "addr"]);
    assert.match(addrs, new RegExp(`inet ${fixed.replaceAll(".", "\\.")}/24`));
    const look = await ok(["run", "--rm", "--network", "cnet2", "busybox", "nslookup", "hotalias"]);
    assert.match(look, new RegExp(`Address: ${fixed.replaceAll(".", "\\.")}`));
    const n = JSON.parse(await ok(["inspect", "hot"]))[0].NetworkSettings.Networks;
    assert.deepEqual(Object.keys(n).sort(), ["cnet1", "cnet2"]);
    assert.equal(n.cnet2.IPAddress, fixed);
    assert.deepEqual(n.cnet2.Aliases, ["hotalias"]);
    await ok(["network", "disconnect", "cnet2", "hot"]);
    assert.doesNotMatch(
      await ok(["exec", "hot", "ip", "-4", "addr"]),
      new RegExp(fixed.replaceAll(".", "\\.")),
    );
    assert.deepEqual(Object.keys(JSON.parse(await ok(["inspect", "hot"]))[0].NetworkSettings.Networks), [
      "cnet1",
    ]);
    await ok(["rm", "-f", "hot"]);
    await ok(["network", "rm", "cnet1", "cnet2"]);
  });
});

describe("published ports", () => {
  test("-p, -p ip::port, -P with --expose, ranges: reachable from the host and from containers", async () => {
    const host = hostAddress();
    await webServer("pweb", [
      "-p",
      `${P}:80`,
      "-p",
      "127.0.0.1::80",
      "-P",
      "--expose",
      "81",
      "-p",
      `${R0}-${R0 + 9}:82`,
    ]);
    const port = await ok(["port", "pweb"]);
    const lo = /80\/tcp -> 127\.0\.0\.1:(\d+)/.exec(port)?.[1];
    const exposed = /81\/tcp -> 0\.0\.0\.0:(\d+)/.exec(port)?.[1];
    assert.match(port, new RegExp(`80/tcp -> 0\\.0\\.0\\.0:${P}\\b`));
    const ranged = Number(/82\/tcp -> 0\.0\.0\.0:(\d+)/.exec(port)?.[1]);
    assert.ok(ranged >= R0 && ranged <= R0 + 9, port);
    assert.ok(lo && Number(lo) >= 32768, port);
    assert.ok(exposed && Number(exposed) >= 32768, port);
    assert.equal((await ok(["port", "pweb", "80/tcp"])).split("\n")[0], `0.0.0.0:${P}`);
    const ins = await api<{ NetworkSettings: { Ports: Record<string, unknown> } }>(
      d,
      "GET",
      "/containers/pweb/json",
    );
    assert.deepEqual(ins.NetworkSettings.Ports["80/tcp"], [
      { HostIp: "0.0.0.0", HostPort: String(P) },
      { HostIp: "127.0.0.1", HostPort: lo },
    ]);
    assert.deepEqual(ins.NetworkSettings.Ports["81/tcp"], [{ HostIp: "0.0.0.0", HostPort: exposed }]);
    assert.equal((await httpGet(`http://127.0.0.1:${P}/`)).body, "pweb\n");
    assert.equal((await httpGet(`http://${host}:${P}/`)).body, "pweb\n");
    assert.equal((await httpGet(`http://127.0.0.1:${lo}/`)).body, "pweb\n");
    assert.match((await fetchFrom([], host, P)).out, /pweb/, "from a container via the host address");
    await eventually(
      async () => new RegExp(`--dport ${P} -j DNAT`).test(await iptablesNat()),
      "DNAT rule installed",
    );
    const ps = await ok(["ps", "--format", "{{.Ports}}", "--filter", "name=pweb"]);
    assert.match(ps, new RegExp(`0\\.0\\.0\\.0:${P}->80/tcp`));
    const busy = await docker(d, ["run", "-d", "-p", `${P}:80`, "busybox", "sleep", "1"]);
    assert.notEqual(busy.code, 0);
    assert.match(busy.stderr, new RegExp(`Bind for 0\\.0\\.0\\.0:${P} failed: port is already allocated`));
  });

  test("rm -f removes veths, DNAT rules, the netns and frees the port", async () => {
    const c = await api<{
      Id: string;
      NetworkSettings: { SandboxKey: string; Networks: { bridge: { NetworkID: string } } };
    }>(d, "GET", "/containers/pweb/json");
    // The host end's name is derived from container and network IDs (see src/network/sandbox.ts).
    const veth = `veth${createHash("sha256").update(`${c.Id}/${c.NetworkSettings.Networks.bridge.NetworkID}`).digest("hex").slice(0, 7)}`;
    assert.ok(existsSync(`/sys/class/net/${veth}`), veth);
    assert.ok(existsSync(c.NetworkSettings.SandboxKey));
    await ok(["rm", "-f", "pweb"]);
    await eventually(async () => !existsSync(`/sys/class/net/${veth}`), "veth removed with the netns");
    await eventually(async () => !new RegExp(`--dport ${P} `).test(await iptablesNat()), "DNAT rule removed");
    assert.ok(!existsSync(c.NetworkSettings.SandboxKey));
    await assert.rejects(httpGet(`http://127.0.0.1:${P}/`));
    await ok(["run", "-d", "--name", "reuse", "-p", `${P}:80`, "busybox", "sleep", "600"]);
    await ok(["rm", "-f", "reuse"]);
  });
});

describe("network modes", () => {
  test("--network host, none and container:<name>", async () => {
    const hostLinks = readdirSync("/sys/class/net").length;
    const inHost = await ok([
      "run",
      "--rm",
      "--network",
      "host",
      "busybox",
      "sh",
      "-c",
      "ls /sys/class/net | wc -l",
    ]);
    assert.ok(Math.abs(Number(inHost.trim()) - hostLinks) <= 2, `host links ${hostLinks} vs ${inHost}`);
    const none = await ok(["run", "--rm", "--network", "none", "busybox", "ls", "/sys/class/net"]);
    assert.equal(none.trim(), "lo");
    await ok(["run", "-d", "--name", "owner", "busybox", "sleep", "600"]);
    const ownerIp = (await ok(["inspect", "-f", "{{.NetworkSettings.IPAddress}}", "owner"])).trim();
    const joined = await ok(["run", "--rm", "--network", "container:owner", "busybox", "ip", "-4", "addr"]);
    assert.match(joined, new RegExp(`inet ${ownerIp.replaceAll(".", "\\.")}/`));
    const nets = async (args: string[]) => {
      const id = (await ok(["create", ...args, "busybox", "true"])).trim();
      const n = (await api<{ NetworkSettings: { Networks: object } }>(d, "GET", `/containers/${id}/json`))
        .NetworkSettings.Networks;
      await ok(["rm", id]);
      return Object.keys(n);
    };
    assert.deepEqual(await nets(["--network", "host"]), ["host"]);
    assert.deepEqual(await nets(["--network", "none"]), ["none"]);
    assert.deepEqual(await nets([]), ["bridge"]);
    const bad = await docker(d, ["run", "--rm", "--network", "none", "-p", "80:80", "busybox", "true"]);
    assert.notEqual(bad.code, 0);
    await ok(["rm", "-f", "owner"]);
  });
});

describe("events and recovery", () => {
  test("network create/connect/disconnect/destroy events", async () => {
    const since = Math.floor(Date.now() / 1000) - 1;
    await ok(["network", "create", "evnet"]);
    await ok(["run", "--rm", "--network", "evnet", "busybox", "true"]);
    await ok(["network", "rm", "evnet"]);
    const until = Math.floor(Date.now() / 1000) + 1;
    const ev = await ok([
      "events",
      "--since",
      String(since),
      "--until",
      String(until),
      "--filter",
      "type=network",
      "--format",
      "{{.Action}} {{.Actor.Attributes.name}}",
    ]);
    for (const a of ["create evnet", "connect evnet", "disconnect evnet", "destroy evnet"])
      assert.match(ev, new RegExp(a));
  });

  test("after SIGKILL of the daemon: published ports come back, leftovers of ended containers go", async () => {
    await webServer("survivor", ["-p", `${P2}:80`]);
    await ok(["run", "-d", "--name", "ender", "busybox", "sleep", "600"]);
    const enderVeth = (
      await api<{ NetworkSettings: { SandboxKey: string } }>(d, "GET", "/containers/ender/json")
    ).NetworkSettings.SandboxKey;
    const enderPid = (await ok(["inspect", "-f", "{{.State.Pid}}", "ender"])).trim();
    await d.restart({ kill: true });
    // ender dies while no daemon watches it: its netns and veth must be cleaned at the next start-up.
    process.kill(Number(enderPid), "SIGKILL");
    await d.restart({ kill: true });
    assert.equal((await httpGet(`http://127.0.0.1:${P2}/`)).body, "survivor\n");
    await eventually(
      async () => new RegExp(`--dport ${P2} -j DNAT`).test(await iptablesNat()),
      "DNAT rule restored",
    );
    assert.match(
      (await ok(["ps", "-a", "--filter", "name=ender", "--format", "{{.State}}"])).trim(),
      /exited/,
    );
    assert.ok(!existsSync(enderVeth), "netns of the ended container removed");
    await ok(["rm", "-f", "survivor", "ender"]);
    await assert.rejects(httpGet(`http://127.0.0.1:${P2}/`));
    assert.equal(readdirSync(join(d.execRoot, "netns")).length, 0);
  });

  test("a second daemon with another --bridge keeps its bridge, rules and ports across the first's restart", async () => {
    const d2 = await startDaemon({ name: "net2" });
    try {
      await importBusybox(d2);
      const r = await docker(d2, [
        "run",
        "-d",
        "--name",
        "other",
        "-p",
        `${P3}:80`,
        "busybox",
        "sh",
        "-c",
        "mkdir /www && echo other > /www/index.html && exec httpd -f -p 80 -h /www",
      ]);
      assert.equal(r.code, 0, r.stderr);
      await eventually(
        async () => new RegExp(`--dport ${P3} -j DNAT`).test(await iptablesNat()),
        "second daemon's rule",
      );
      await d.restart({ kill: true });
      assert.ok(existsSync(`/sys/class/net/${d2.bridge}`));
      assert.match(await iptablesNat(), new RegExp(`--dport ${P3} -j DNAT`));
      assert.match(await iptablesNat(), new RegExp(`-j WHARF-${d2.bridge}\\b`));
      assert.equal((await httpGet(`http://${hostAddress()}:${P3}/`)).body, "other\n");
    } finally {
      await d2.stop();
    }
    assert.ok(!existsSync(`/sys/class/net/${d2.bridge}`));
  });
});
