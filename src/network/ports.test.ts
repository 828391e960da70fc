import assert from "node:assert/strict";
import { test } from "node:test";
import { portList, portMap, wantedBindings } from "./ports.ts";

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
