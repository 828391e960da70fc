/** --mac-address (Config.MacAddress, EndpointSettings.MacAddress) sets the container's eth0 MAC, shown by inspect. */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import {
  api,
  dockerOk,
  freeSubnet,
  importBusybox,
  startDaemon,
  type TestDaemon,
} from "../../helpers/daemon.ts";

let d: TestDaemon;

/** A docker call that must succeed: its stdout. */
const ok = (args: string[]): Promise<string> => dockerOk(d, args);

before(async () => {
  d = await startDaemon({ name: "mac" });
  await importBusybox(d);
});
after(async () => {
  await d?.stop();
});

test("--mac-address on the default bridge and on a user network", async () => {
  const bridge = await ok([
    "run",
    "--rm",
    "--mac-address",
    "02:42:AC:11:00:99",
    "busybox",
    "cat",
    "/sys/class/net/eth0/address",
  ]);
  assert.equal(bridge.trim(), "02:42:ac:11:00:99");
  await ok(["network", "create", "--subnet", await freeSubnet(), "macnet"]);
  await ok([
    "run",
    "-d",
    "--name",
    "m1",
    "--network",
    "macnet",
    "--mac-address",
    "02:00:00:00:aa:01",
    "busybox",
    "sleep",
    "600",
  ]);
  const inside = await ok(["exec", "m1", "cat", "/sys/class/net/eth0/address"]);
  assert.equal(inside.trim(), "02:00:00:00:aa:01");
  const mac = await ok(["inspect", "-f", "{{.NetworkSettings.Networks.macnet.MacAddress}}", "m1"]);
  assert.equal(mac.trim(), "02:00:00:00:aa:01");
  // Through the API with a malformed address: a 400, before anything is created.
  await assert.rejects(
    api(d, "POST", "/containers/create", {
      Image: "busybox",
      HostConfig: { NetworkMode: "macnet" },
      NetworkingConfig: { EndpointsConfig: { macnet: { MacAddress: "nope" } } },
    }),
    (e: Error & { status: number }) => e.status === 400 && /invalid MAC address: nope/.test(e.message),
  );
  await ok(["rm", "-f", "m1"]);
  await ok(["network", "rm", "macnet"]);
});
