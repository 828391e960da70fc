/**
 * A container started on the default bridge and then connected to a user network resolves names on it, as on
 * dockerd (its resolv.conf is rewritten to the embedded DNS on connect), and answers to its --alias there;
 * disconnected again, it gets the host's resolvers back.
 */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { docker, freeSubnet, importBusybox, startDaemon, type TestDaemon } from "../../helpers/daemon.ts";

let d: TestDaemon;

async function ok(args: string[]): Promise<string> {
  const r = await docker(d, args);
  assert.equal(r.code, 0, `docker ${args.join(" ")}: ${r.stdout}${r.stderr}`);
  return r.stdout;
}

before(async () => {
  d = await startDaemon({ name: "cdns" });
  await importBusybox(d);
});
after(async () => {
  await d?.stop();
});

test("network connect of a default-bridge container: names resolve both ways", async () => {
  await ok(["network", "create", "--subnet", await freeSubnet(), "cnet"]);
  await ok(["run", "-d", "--name", "other", "--network", "cnet", "busybox", "sleep", "600"]);
  await ok(["run", "-d", "--name", "late", "busybox", "sleep", "600"]);
  await ok(["network", "connect", "--alias", "late-alias", "cnet", "late"]);
  const otherIp = (
    await ok(["inspect", "-f", "{{.NetworkSettings.Networks.cnet.IPAddress}}", "other"])
  ).trim();
  const lateIp = (await ok(["inspect", "-f", "{{.NetworkSettings.Networks.cnet.IPAddress}}", "late"])).trim();
  const gw = (await ok(["network", "inspect", "-f", "{{(index .IPAM.Config 0).Gateway}}", "cnet"])).trim();
  assert.match(
    await ok(["exec", "late", "cat", "/etc/resolv.conf"]),
    new RegExp(`^nameserver ${gw.replaceAll(".", "\\.")}$`, "m"),
  );
  const there = await ok(["exec", "late", "nslookup", "other"]);
  assert.match(there, new RegExp(`Address: ${otherIp.replaceAll(".", "\\.")}`));
  const back = await ok(["exec", "other", "nslookup", "late-alias"]);
  assert.match(back, new RegExp(`Address: ${lateIp.replaceAll(".", "\\.")}`));
  // Disconnected again, it has no embedded DNS left to ask: the host's resolvers come back (the gateway of
  // the network it left would no longer answer).
  await ok(["network", "disconnect", "cnet", "late"]);
  const after = await ok(["exec", "late", "cat", "/etc/resolv.conf"]);
  assert.doesNotMatch(after, new RegExp(`nameserver ${gw.replaceAll(".", "\\.")}`));
  assert.equal(after, await ok(["run", "--rm", "busybox", "cat", "/etc/resolv.conf"]));
  await ok(["rm", "-f", "other", "late"]);
  await ok(["network", "rm", "cnet"]);
});
