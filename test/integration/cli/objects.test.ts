/** wharf's volume, network and system commands against a real daemon, compared with the docker CLI's. */
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { after, before, describe, test } from "node:test";
import {
  DOCKER,
  docker,
  freePort,
  freeSubnet,
  importBusybox,
  startDaemon,
  type TestDaemon,
  wharf,
} from "../../helpers/daemon.ts";
import { same } from "./same.ts";

let d: TestDaemon;

before(async () => {
  d = await startDaemon({ name: "cliobj" });
  await importBusybox(d);
});
after(async () => {
  await d?.stop();
});

describe("volume, network and system commands", { skip: !existsSync(DOCKER) }, () => {
  test("volumes: create, ls (filters, formats), inspect, rm, prune", async () => {
    assert.equal((await wharf(d, ["volume", "create", "--label", "team=a", "v10"])).stdout, "v10\n");
    assert.equal(
      (await wharf(d, ["volume", "create", "-o", "type=tmpfs", "-o", "device=tmpfs", "v2"])).stdout,
      "v2\n",
    );
    await same(d, ["volume", "create", "--name", "x", "y"]);
    await same(d, ["volume", "ls"]);
    await same(d, ["volume", "ls", "-q", "--filter", "label=team=a"]);
    await same(d, ["volume", "ls", "--format", '{{.Name}}\t{{.Labels}}\t{{.Label "team"}}']);
    await same(d, ["volume", "ls", "--format", "json"]);
    await same(d, ["volume", "ls", "--format", "table {{.Name}}\t{{.Driver}}\t{{.Scope}}"]);
    await same(d, ["volume", "inspect", "v10"]);
    await same(d, ["volume", "inspect", "-f", "{{.Name}} {{.Labels}}", "v10", "v2"]);
    await same(d, ["volume", "inspect", "nope"]);
    await wharf(d, ["run", "-d", "--name", "user", "-v", "v2:/data", "busybox", "sleep", "100"]);
    await same(d, ["volume", "rm", "v2"]);
    await same(d, ["volume", "rm", "nope"]);
    assert.equal((await wharf(d, ["volume", "rm", "v10"])).stdout, "v10\n");
    await wharf(d, ["volume", "create", "v3"]);
    await same(d, ["volume", "prune"], { input: "n\n" });
    const pr = await wharf(d, ["volume", "prune", "-a", "-f"]);
    assert.equal(pr.stdout, "Deleted Volumes:\nv3\n\nTotal reclaimed space: 0B\n");
    await same(d, ["volume", "prune", "-f"]);
    await wharf(d, ["rm", "-f", "user"]);
  });

  test("networks: create with IPAM flags, ls, inspect, connect/disconnect, rm, prune", async () => {
    const subnet = await freeSubnet();
    const base = subnet.replace(/\.0\/24$/, "");
    const c = await wharf(d, [
      "network",
      "create",
      "--subnet",
      subnet,
      "--gateway",
      `${base}.1`,
      "--ip-range",
      `${base}.128/25`,
      "--label",
      "x=y",
      "n10",
    ]);
    assert.equal(c.code, 0, c.stderr);
    assert.match(c.stdout, /^[0-9a-f]{64}\n$/);
    assert.equal((await wharf(d, ["network", "create", "--internal", "n2"])).code, 0);
    await same(d, ["network", "ls"]);
    await same(d, ["network", "ls", "--no-trunc", "-q", "-f", "label=x=y"]);
    await same(d, ["network", "ls", "--format", "json"]);
    await same(d, [
      "network",
      "ls",
      "--format",
      "{{.Name}} {{.Internal}} {{.IPv6}} {{.Labels}} {{.CreatedAt}}",
    ]);
    await same(d, [
      "network",
      "inspect",
      "-f",
      "{{.Name}} {{range .IPAM.Config}}{{.Subnet}} {{.Gateway}} {{.IPRange}}{{end}}",
      "n10",
    ]);
    await same(d, ["network", "inspect", "nope"]);
    await same(d, ["network", "create", "--gateway", "10.1.1.1", "bad"]);
    await same(d, ["network", "create", "--subnet", subnet, "--ip-range", "10.99.0.0/24", "bad"]);
    await wharf(d, ["run", "-d", "--name", "member", "busybox", "sleep", "100"]);
    const con = await wharf(d, [
      "network",
      "connect",
      "--alias",
      "al",
      "--ip",
      `${base}.200`,
      "n10",
      "member",
    ]);
    assert.equal(con.code, 0, con.stderr);
    const ip = await wharf(d, [
      "inspect",
      "-f",
      '{{(index .NetworkSettings.Networks "n10").IPAddress}}',
      "member",
    ]);
    assert.equal(ip.stdout, `${base}.200\n`);
    await same(d, ["network", "connect", "n10", "nope"]);
    await same(d, ["network", "rm", "n10"]);
    assert.equal((await wharf(d, ["network", "disconnect", "n10", "member"])).code, 0);
    await same(d, ["network", "rm", "nope"]);
    await same(d, ["network", "rm", "-f", "nope"]);
    assert.equal((await wharf(d, ["network", "rm", "n10"])).stdout, "n10\n");
    await same(d, ["network", "prune"], { input: "n\n" });
    const pr = await wharf(d, ["network", "prune", "-f"]);
    assert.equal(pr.stdout, "Deleted Networks:\nn2\n\n");
    await same(d, ["network", "prune", "-f"]);
    await wharf(d, ["rm", "-f", "member"]);
  });

  test("run with published ports, networks and volumes, seen by port and inspect", async () => {
    const r = await wharf(d, [
      "run",
      "-d",
      "--name",
      "pub",
      "-p",
      "127.0.0.1::80",
      "-p",
      `127.0.0.1:${await freePort()}:81/udp`,
      "--expose",
      "90",
      "-v",
      "named:/n",
      "--tmpfs",
      "/t",
      "--hostname",
      "hh",
      "--add-host",
      "extra:10.9.9.9",
      "busybox",
      "sleep",
      "100",
    ]);
    assert.equal(r.code, 0, r.stderr);
    await same(d, ["port", "pub"]);
    await same(d, ["port", "pub", "81/udp"]);
    const hosts = await wharf(d, [
      "exec",
      "pub",
      "sh",
      "-c",
      "hostname; grep extra /etc/hosts; mount | grep -c ' /t '",
    ]);
    assert.match(hosts.stdout, /^hh\n10\.9\.9\.9\textra\n1\n$/);
    await wharf(d, ["rm", "-f", "pub"]);
  });

  test("system df, system prune, system info and system events", async () => {
    const df = await wharf(d, ["system", "df"]);
    const kdf = await docker(d, ["system", "df"]);
    assert.equal(df.stdout, kdf.stdout);
    assert.equal(df.code, kdf.code);
    await same(d, ["system", "prune"], { input: "n\n" });
    await same(d, ["system", "prune", "-f"]);
    await same(d, ["system", "info", "--format", "{{.Driver}} {{.OSType}}"]);
    const now = String(Math.floor(Date.now() / 1000) + 1);
    await same(d, ["system", "events", "--since", "0", "--until", now, "--filter", "type=volume"]);
  });
});
