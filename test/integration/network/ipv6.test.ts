/**
 * IPv6 with real containers through the real docker CLI: user networks with --ipv6, static --ip6, AAAA names
 * from the embedded DNS, HTTP over IPv6, isolation between networks, ports published on [::] and [::1], the
 * default bridge of a daemon started with --ipv6 --fixed-cidr-v6, dockerd's error texts and inspect fields
 * (compared with a dockerd of the test's own when docker.io is installed). Subnets are random ULA /64s no
 * host route overlaps; traffic goes only to loopback and those subnets. Every ip6tables chain, bridge and
 * address the daemon made is checked gone afterwards.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { readFile, writeFile } from "node:fs/promises";
import { get } from "node:http";
import { after, before, describe, test } from "node:test";
import { promisify } from "node:util";
import {
  docker,
  exec,
  freePort,
  freeSubnet,
  freeSubnet6,
  importBusybox,
  startDaemon,
  type TestDaemon,
} from "../../helpers/daemon.ts";
import { startDockerd, type TestDockerd } from "../../helpers/dockerd.ts";

const run = promisify(execFile);
const HAS_IPV6 = existsSync("/proc/sys/net/ipv6/conf/all/disable_ipv6");

let d: TestDaemon;
/** The default bridge's --fixed-cidr-v6, and two user networks' subnets. */
let fixed6: string;
let sub6: string;
let other6: string;
let sub4: string;
let other4: string;

/** "fdXX:...::/64" → "fdXX:...::" */
const prefixOf = (cidr: string) => cidr.replace(/\/64$/, "");

async function ok(args: string[], on: { host: string; dir?: string } = d): Promise<string> {
  const r = on === d ? await docker(d, args) : await exec("/usr/local/bin/docker", ["-H", on.host, ...args]);
  assert.equal(r.code, 0, `docker ${args.join(" ")}: ${r.stderr}${r.stdout}`);
  return r.stdout;
}

function inspect<T>(what: string, format: string, on: { host: string } = d): Promise<T> {
  return ok(["inspect", "--format", `{{json ${format}}}`, what], on).then((o) => JSON.parse(o) as T);
}

function httpGet(url: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = get(url, { timeout: 5000 }, (res) => {
      let body = "";
      res.on("data", (c: Buffer) => {
        body += c.toString();
      });
      res.on("end", () => resolve(body));
    });
    req.on("timeout", () => req.destroy(new Error(`timeout: ${url}`)));
    req.on("error", reject);
  });
}

/** A detached busybox httpd serving `text`. */
async function webServer(name: string, args: string[], text = name): Promise<void> {
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
  ]);
}

/** Everything of the daemon's in ip6tables (its chains carry its bridge name). */
async function ip6tablesOf(bridge: string): Promise<string> {
  const out = [];
  for (const t of ["nat", "filter"]) out.push((await run("ip6tables-save", ["-t", t])).stdout);
  return out
    .join("\n")
    .split("\n")
    .filter((l) => l.includes(`WHARF-${bridge}`))
    .join("\n");
}

describe("IPv6", { skip: HAS_IPV6 ? false : "the kernel has no IPv6 (/proc/sys/net/ipv6 missing)" }, () => {
  /** IPv6 forwarding as found: the daemon turns it on (as dockerd does) and this file turns it back. */
  const forwarding: Record<string, string> = {};
  const FWD = (f: string) => `/proc/sys/net/ipv6/conf/${f}/forwarding`;

  before(async () => {
    for (const f of ["all", "default"]) forwarding[f] = (await readFile(FWD(f), "utf8")).trim();
    [fixed6, sub6, other6] = [await freeSubnet6(), await freeSubnet6(), await freeSubnet6()];
    [sub4, other4] = [await freeSubnet(), await freeSubnet()];
    d = await startDaemon({ name: "ipv6", args: ["--ipv6", "--fixed-cidr-v6", fixed6] });
    await importBusybox(d);
    await ok(["network", "create", "--ipv6", "--subnet", sub4, "--subnet", sub6, "six"]);
  });

  after(async () => {
    const bridge = d?.bridge;
    await d?.stop();
    for (const [f, v] of Object.entries(forwarding)) await writeFile(FWD(f), v).catch(() => undefined);
    if (!bridge) return;
    assert.equal(await ip6tablesOf(bridge), "", "no ip6tables chain or jump of the daemon is left");
    const routes = (await run("ip", ["-6", "route", "show", "table", "all"])).stdout;
    for (const s of [fixed6, sub6, other6])
      assert.ok(!routes.includes(prefixOf(s)), `no route or address of ${s} is left:\n${routes}`);
  });

  test("network create --ipv6: dual stack IPAM and EnableIPv6 in inspect", async () => {
    const n = await inspect<{ EnableIPv6: boolean; IPAM: { Config: object[] } }>("six", ".");
    assert.equal(n.EnableIPv6, true);
    assert.deepEqual(n.IPAM.Config, [
      { Subnet: sub4, Gateway: sub4.replace(/0\/24$/, "1") },
      { Subnet: sub6 },
    ]);
  });

  test("two containers reach each other over IPv6 by address and by name (AAAA); HTTP over IPv6", async () => {
    await webServer("web6", ["--network", "six"]);
    await ok(["run", "-d", "--name", "cli6", "--network", "six", "busybox", "sleep", "300"]);
    const web = await inspect<{ GlobalIPv6Address: string }>("web6", ".NetworkSettings.Networks.six");
    assert.equal(web.GlobalIPv6Address, `${prefixOf(sub6)}2`, "the first address after the gateway");
    const byAddr = await docker(d, ["exec", "cli6", "ping6", "-c", "1", "-W", "3", web.GlobalIPv6Address]);
    assert.equal(byAddr.code, 0, byAddr.stdout + byAddr.stderr);
    const byName = await docker(d, ["exec", "cli6", "ping6", "-c", "1", "-W", "3", "web6"]);
    assert.equal(byName.code, 0, byName.stdout + byName.stderr);
    assert.match(byName.stdout, new RegExp(`PING web6 \\(${web.GlobalIPv6Address}\\)`));
    const aaaa = await ok(["exec", "cli6", "nslookup", "-type=AAAA", "web6"]);
    assert.match(aaaa, new RegExp(`Address: ${web.GlobalIPv6Address}`));
    const page = await ok([
      "exec",
      "cli6",
      "sh",
      "-c",
      `wget -q -O /tmp/page "http://[${web.GlobalIPv6Address}]/" && cat /tmp/page`,
    ]);
    assert.equal(page.trim(), "web6");
    const hosts = await ok(["exec", "web6", "cat", "/etc/hosts"]);
    assert.match(hosts, new RegExp(`^${web.GlobalIPv6Address}\\t`, "m"), "the IPv6 address is in /etc/hosts");
    const route = await ok(["exec", "cli6", "ip", "-6", "route", "show", "default"]);
    assert.match(route, new RegExp(`default via ${prefixOf(sub6)}1 dev eth0`));
    const addrs = await ok(["exec", "cli6", "ip", "-6", "addr", "show", "eth0"]);
    assert.match(addrs, /inet6 fe80::/, "eth0 also has its link-local address");
  });

  test("a name with an A record only gets NODATA for AAAA, not NXDOMAIN", async () => {
    await ok(["network", "create", "--subnet", other4, "four"]);
    await ok(["run", "-d", "--name", "only4", "--network", "four", "busybox", "sleep", "300"]);
    await ok(["run", "-d", "--name", "both", "--network", "four", "busybox", "sleep", "300"]);
    await ok(["network", "connect", "six", "both"]);
    const r = await docker(d, ["exec", "both", "nslookup", "-type=AAAA", "only4"]);
    assert.equal(
      r.code,
      0,
      `NODATA is an answer (busybox nslookup fails on NXDOMAIN): ${r.stdout}${r.stderr}`,
    );
    assert.doesNotMatch(r.stdout, /Address: .*:.*:/);
    const nx = await docker(d, ["exec", "both", "nslookup", "-type=AAAA", "no-such-name-here"]);
    assert.notEqual(nx.code, 0);
    const six = await ok(["exec", "both", "nslookup", "-type=AAAA", "cli6"]);
    assert.match(six, new RegExp(`Address: ${prefixOf(sub6)}`));
  });

  test("a static --ip6, and dockerd's texts for a bad one and one in use", async () => {
    const ip6 = `${prefixOf(sub6)}99`;
    await ok(["run", "-d", "--name", "fixed6", "--network", "six", "--ip6", ip6, "busybox", "sleep", "300"]);
    const e = await inspect<Record<string, unknown>>("fixed6", ".NetworkSettings.Networks.six");
    assert.deepEqual(e.IPAMConfig, { IPv6Address: ip6 });
    assert.equal(e.GlobalIPv6Address, ip6);
    const inUse = await docker(d, ["run", "--rm", "--network", "six", "--ip6", ip6, "busybox", "true"]);
    assert.match(inUse.stderr, /Address already in use/);
    const outside = await docker(d, [
      "run",
      "--rm",
      "--network",
      "six",
      "--ip6",
      `${prefixOf(other6)}5`,
      "busybox",
      "true",
    ]);
    assert.match(
      outside.stderr,
      new RegExp(`Invalid address ${prefixOf(other6)}5: It does not belong to any of this network's subnets`),
    );
    const bad = await docker(d, ["run", "--rm", "--network", "six", "--ip6", "zz", "busybox", "true"]);
    assert.match(bad.stderr, /invalid IPv6 address: zz/);
    const onDefault = await docker(d, ["run", "--rm", "--ip6", `${prefixOf(fixed6)}99`, "busybox", "true"]);
    assert.match(onDefault.stderr, /user specified IP address is supported on user defined networks only/);
  });

  test("bad and overlapping subnets get dockerd's words", async () => {
    const cases: [string[], RegExp][] = [
      [
        ["--ipv6", "--subnet", "fd5a:zz::/64"],
        /Invalid subnet fd5a:zz::\/64 : invalid CIDR address: fd5a:zz::\/64/,
      ],
      [
        ["--ipv6", "--subnet", sub6.replace("::/64", ":0:1::/80")],
        /Pool overlaps with other one on this address space/,
      ],
      [["--ipv6", "--subnet", fixed6], /Pool overlaps with other one on this address space/],
      [["--ipv6"], /could not find an available, non-overlapping IPv6 address pool among the defaults/],
      [
        ["--ipv6", "--subnet", other6, "--subnet", other6.replace(/:[0-9a-f]+::\/64$/, ":ffff::/64")],
        /bridge driver doesn't support multiple subnets/,
      ],
    ];
    for (const [args, want] of cases) {
      const r = await docker(d, ["network", "create", ...args, "bad6"]);
      assert.notEqual(r.code, 0, args.join(" "));
      assert.match(r.stderr, want, args.join(" "));
    }
  });

  test("isolation: containers on different IPv6 networks cannot reach each other", async () => {
    await ok(["network", "create", "--ipv6", "--subnet", other6, "six2"]);
    await ok(["run", "-d", "--name", "far6", "--network", "six2", "busybox", "sleep", "300"]);
    const far = await inspect<{ GlobalIPv6Address: string }>("far6", ".NetworkSettings.Networks.six2");
    const r = await docker(d, ["exec", "cli6", "ping6", "-c", "1", "-W", "1", far.GlobalIPv6Address]);
    assert.notEqual(r.code, 0, "the other network's address is dropped");
    const rules = await ip6tablesOf(d.bridge);
    assert.match(rules, /-A WHARF-\S+-ISO2 -o br-\S+ -j DROP/);
  });

  test("ports published on [::] and [::1] are reached at [::1] from the host", async () => {
    const p = await freePort();
    const lo = await freePort();
    await webServer("pub6", ["--network", "six", "-p", `${p}:80`, "-p", `[::1]:${lo}:80`], "pub6");
    const ports = await ok(["port", "pub6", "80/tcp"]);
    assert.deepEqual(ports.trim().split("\n").sort(), [`0.0.0.0:${p}`, `[::1]:${lo}`, `[::]:${p}`].sort());
    assert.equal((await httpGet(`http://[::1]:${p}/`)).trim(), "pub6");
    assert.equal((await httpGet(`http://[::1]:${lo}/`)).trim(), "pub6");
    assert.equal((await httpGet(`http://127.0.0.1:${p}/`)).trim(), "pub6");
    const ip6 = (await inspect<{ GlobalIPv6Address: string }>("pub6", ".NetworkSettings.Networks.six"))
      .GlobalIPv6Address;
    // The rules are written in the background while the proxy already serves: wait for them.
    const deadline = Date.now() + 5000;
    while (!(await ip6tablesOf(d.bridge)).includes(`--dport ${p} -j DNAT --to-destination [${ip6}]:80`)) {
      if (Date.now() > deadline) assert.fail(`no DNAT rule for [::]:${p}:\n${await ip6tablesOf(d.bridge)}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    // Through the gateway (the host's own address on this subnet) the DNAT rule takes the connection.
    assert.equal((await httpGet(`http://[${prefixOf(sub6)}1]:${p}/`)).trim(), "pub6");
    await ok(["rm", "-f", "pub6"]);
    assert.doesNotMatch(await ip6tablesOf(d.bridge), new RegExp(`--dport ${p} `));
  });

  test("network connect gives a running container an IPv6 address on the network it joins", async () => {
    await ok(["run", "-d", "--name", "joiner", "busybox", "sleep", "300"]);
    await ok(["network", "connect", "six", "joiner"]);
    const e = await inspect<{ GlobalIPv6Address: string; IPv6Gateway: string }>(
      "joiner",
      ".NetworkSettings.Networks.six",
    );
    assert.ok(e.GlobalIPv6Address.startsWith(prefixOf(sub6)), e.GlobalIPv6Address);
    assert.equal(e.IPv6Gateway, `${prefixOf(sub6)}1`);
    const addrs = await ok(["exec", "joiner", "ip", "-6", "addr", "show", "eth1"]);
    assert.match(addrs, new RegExp(`inet6 ${e.GlobalIPv6Address}/64`));
    const r = await docker(d, ["exec", "joiner", "ping6", "-c", "1", "-W", "3", "web6"]);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    await ok(["network", "disconnect", "six", "joiner"]);
    assert.doesNotMatch(await ok(["exec", "joiner", "ip", "-6", "addr"]), new RegExp(prefixOf(sub6)));
  });

  test("after a daemon crash, IPv6 addresses stay held and [::] ports and their rules come back", async () => {
    const p = await freePort();
    await webServer("keep6", ["--network", "six", "-p", `${p}:80`]);
    const before = (await inspect<{ GlobalIPv6Address: string }>("keep6", ".NetworkSettings.Networks.six"))
      .GlobalIPv6Address;
    await d.restart();
    assert.equal((await httpGet(`http://[::1]:${p}/`)).trim(), "keep6");
    const deadline = Date.now() + 5000;
    while (!(await ip6tablesOf(d.bridge)).includes(`--to-destination [${before}]:80`)) {
      if (Date.now() > deadline)
        assert.fail(`the DNAT rule did not come back:\n${await ip6tablesOf(d.bridge)}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    await ok(["run", "-d", "--name", "new6", "--network", "six", "busybox", "sleep", "300"]);
    const fresh = (await inspect<{ GlobalIPv6Address: string }>("new6", ".NetworkSettings.Networks.six"))
      .GlobalIPv6Address;
    assert.notEqual(fresh, before, "a restored container's address is not handed out again");
  });

  test("the default bridge of a daemon with --ipv6 --fixed-cidr-v6: MAC-built addresses, inspect fields", async () => {
    const n = await inspect<{ EnableIPv6: boolean; IPAM: { Config: { Subnet: string }[] } }>("bridge", ".");
    assert.equal(n.EnableIPv6, true);
    assert.deepEqual(n.IPAM.Config[1], { Subnet: fixed6 });
    await ok(["run", "-d", "--name", "def6", "busybox", "sleep", "300"]);
    const s = await inspect<Record<string, string | number>>("def6", ".NetworkSettings");
    const mac = String(s.MacAddress).split(":");
    const low = [mac.slice(0, 2), mac.slice(2, 4), mac.slice(4, 6)].map((b) =>
      Number.parseInt(b.join(""), 16).toString(16),
    );
    assert.equal(
      s.GlobalIPv6Address,
      `${prefixOf(fixed6)}${low.join(":")}`,
      "the subnet's prefix and the MAC",
    );
    assert.equal(s.GlobalIPv6PrefixLen, 64);
    assert.equal(s.IPv6Gateway, `${prefixOf(fixed6)}1`);
    const e = await inspect<Record<string, unknown>>("def6", ".NetworkSettings.Networks.bridge");
    assert.deepEqual(
      [e.GlobalIPv6Address, e.GlobalIPv6PrefixLen, e.IPv6Gateway],
      [s.GlobalIPv6Address, 64, s.IPv6Gateway],
    );
    const ping = await docker(d, ["exec", "def6", "ping6", "-c", "1", "-W", "3", `${prefixOf(fixed6)}1`]);
    assert.equal(ping.code, 0, ping.stdout + ping.stderr);
  });

  /** A network with an IPv6 --ip-range (and --gateway when `gw`) and one container: what inspect shows. */
  async function rangeNet(on: { host: string }, gw: boolean): Promise<unknown> {
    const r6 = await freeSubnet6();
    const r4 = await freeSubnet();
    const name = `rng6${gw ? "g" : "n"}${Math.random().toString(36).slice(2, 8)}`;
    const range = `${prefixOf(r6).replace(/::$/, ":0:8000::")}/120`;
    const gwArgs = gw ? ["--gateway", `${prefixOf(r6)}fe`] : [];
    await ok(
      ["network", "create", "--ipv6", "--subnet", r4, "--subnet", r6, ...gwArgs, "--ip-range", range, name],
      on,
    );
    try {
      await ok(["run", "-d", "--name", `${name}c`, "--network", name, "busybox", "sleep", "60"], on);
      const n = await inspect<{ IPAM: { Config: object[] } }>(name, ".", on);
      const e = await inspect<Record<string, unknown>>(`${name}c`, `.NetworkSettings.Networks.${name}`, on);
      return JSON.parse(
        JSON.stringify([n.IPAM.Config[1], e.GlobalIPv6Address, e.IPv6Gateway]).replaceAll(
          r6.replace(/::\/64$/, ""),
          "R",
        ),
      );
    } finally {
      await exec("/usr/local/bin/docker", ["-H", on.host, "rm", "-f", `${name}c`]);
      await exec("/usr/local/bin/docker", ["-H", on.host, "network", "rm", name]);
    }
  }

  test("network and container inspect show the same IPv6 fields as dockerd", async (t) => {
    const fixedD = await freeSubnet6();
    const dd: TestDockerd | undefined = await startDockerd("ipv6", {
      args: ["--ipv6", "--fixed-cidr-v6", fixedD],
    });
    if (!dd) return t.skip("dockerd is not installed");
    try {
      await importBusybox(dd);
      const seen: Record<string, unknown> = {};
      for (const [name, on, fixed] of [
        ["wharf", d, fixed6],
        ["dockerd", dd, fixedD],
      ] as const) {
        const s6 = await freeSubnet6();
        const s4 = await freeSubnet();
        const net = `cmp6${name}`;
        const ctr = `cmp6-${name}`;
        const norm = (v: unknown) =>
          JSON.parse(
            JSON.stringify(v ?? null)
              .replaceAll(prefixOf(s6), "P::")
              .replaceAll(s4.replace(/0\/24$/, ""), "V."),
          );
        await ok(["network", "create", "--ipv6", "--subnet", s4, "--subnet", s6, net], on);
        try {
          await ok(
            [
              "run",
              "-d",
              "--name",
              ctr,
              "--network",
              net,
              "--ip6",
              `${prefixOf(s6)}7`,
              "busybox",
              "sleep",
              "60",
            ],
            on,
          );
          await ok(["run", "-d", "--name", `${ctr}b`, "--network", net, "busybox", "sleep", "60"], on);
          const n = await inspect<{ EnableIPv6: boolean; IPAM: { Config: object[] } }>(net, ".", on);
          const e = await inspect<Record<string, unknown>>(ctr, `.NetworkSettings.Networks.${net}`, on);
          const e2 = await inspect<Record<string, unknown>>(
            `${ctr}b`,
            `.NetworkSettings.Networks.${net}`,
            on,
          );
          const c = await inspect<Record<string, { IPv6Address: string }>>(net, ".Containers", on);
          // The default bridge: its IPv6 subnet, and a container's MAC-built address there.
          const bridge = await inspect<{ EnableIPv6: boolean; IPAM: { Config: object[] } }>(
            "bridge",
            ".",
            on,
          );
          await ok(["run", "-d", "--name", `${ctr}d`, "busybox", "sleep", "60"], on);
          const ns = await inspect<Record<string, unknown>>(`${ctr}d`, ".NetworkSettings", on);
          const macLow = String(ns.MacAddress)
            .split(":")
            .reduce((acc, b) => (acc << 8n) | BigInt(Number.parseInt(b, 16)), 0n);
          const defaults = JSON.parse(
            JSON.stringify({
              enabled: bridge.EnableIPv6,
              v6: bridge.IPAM.Config[1],
              ip6: ns.GlobalIPv6Address,
              len: ns.GlobalIPv6PrefixLen,
              gw6: ns.IPv6Gateway,
              ep: [
                (ns.Networks as Record<string, Record<string, unknown>>).bridge.GlobalIPv6Address,
                (ns.Networks as Record<string, Record<string, unknown>>).bridge.IPv6Gateway,
              ],
            })
              .replaceAll(
                `${prefixOf(fixed)}${[(macLow >> 32n) & 0xffffn, (macLow >> 16n) & 0xffffn, macLow & 0xffffn].map((x) => x.toString(16)).join(":")}`,
                "F::MAC",
              )
              .replaceAll(prefixOf(fixed), "F::"),
          );
          seen[name] = norm({
            defaults,
            EnableIPv6: n.EnableIPv6,
            // The IPv6 entry; the IPv4 one differs apart from IPv6 (wharf names the gateway of a given subnet).
            IPAM: [n.IPAM.Config.length, n.IPAM.Config[1]],
            fixed: [e.IPAMConfig, e.GlobalIPv6Address, e.GlobalIPv6PrefixLen, e.IPv6Gateway],
            next: [e2.IPAMConfig, e2.GlobalIPv6Address, e2.GlobalIPv6PrefixLen, e2.IPv6Gateway],
            members: Object.values(c)
              .map((x) => x.IPv6Address)
              .sort(),
            // --ip-range with and without --gateway: where the gateway and the first container land.
            ranged: [await rangeNet(on, true), await rangeNet(on, false)],
          });
        } finally {
          for (const x of [ctr, `${ctr}b`, `${ctr}d`])
            await exec("/usr/local/bin/docker", ["-H", on.host, "rm", "-f", x]);
          await exec("/usr/local/bin/docker", ["-H", on.host, "network", "rm", net]);
        }
      }
      assert.deepEqual(seen.wharf, seen.dockerd);
    } finally {
      await dd.stop();
    }
  });
});
