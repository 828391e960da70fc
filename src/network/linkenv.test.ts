import assert from "node:assert/strict";
import { test } from "node:test";
import { linkEnv } from "./linkenv.ts";

test("a link's variables in dockerd's order: default port, a run of 3+ ports as START/END, each port, name, env", () => {
  const env = linkEnv({
    parent: "app",
    alias: "my-db",
    ip: "10.0.0.2",
    env: ["PATH=/bin", "HOME=/root", "PASS=a=b", "BARE"],
    exposed: ["8082/tcp", "53/udp", "8080/tcp", "53/tcp", "8081/tcp"],
  });
  assert.deepEqual(env, [
    "MY_DB_PORT=tcp://10.0.0.2:53",
    "MY_DB_PORT_8080_TCP_START=tcp://10.0.0.2:8080",
    "MY_DB_PORT_8080_TCP_ADDR=10.0.0.2",
    "MY_DB_PORT_8080_TCP_PROTO=tcp",
    "MY_DB_PORT_8080_TCP_PORT_START=8080",
    "MY_DB_PORT_8080_TCP_END=tcp://10.0.0.2:8082",
    "MY_DB_PORT_8080_TCP_PORT_END=8082",
    "MY_DB_PORT_53_TCP=tcp://10.0.0.2:53",
    "MY_DB_PORT_53_TCP_ADDR=10.0.0.2",
    "MY_DB_PORT_53_TCP_PORT=53",
    "MY_DB_PORT_53_TCP_PROTO=tcp",
    "MY_DB_PORT_53_UDP=udp://10.0.0.2:53",
    "MY_DB_PORT_53_UDP_ADDR=10.0.0.2",
    "MY_DB_PORT_53_UDP_PORT=53",
    "MY_DB_PORT_53_UDP_PROTO=udp",
    "MY_DB_PORT_8080_TCP=tcp://10.0.0.2:8080",
    "MY_DB_PORT_8080_TCP_ADDR=10.0.0.2",
    "MY_DB_PORT_8080_TCP_PORT=8080",
    "MY_DB_PORT_8080_TCP_PROTO=tcp",
    "MY_DB_PORT_8081_TCP=tcp://10.0.0.2:8081",
    "MY_DB_PORT_8081_TCP_ADDR=10.0.0.2",
    "MY_DB_PORT_8081_TCP_PORT=8081",
    "MY_DB_PORT_8081_TCP_PROTO=tcp",
    "MY_DB_PORT_8082_TCP=tcp://10.0.0.2:8082",
    "MY_DB_PORT_8082_TCP_ADDR=10.0.0.2",
    "MY_DB_PORT_8082_TCP_PORT=8082",
    "MY_DB_PORT_8082_TCP_PROTO=tcp",
    "MY_DB_NAME=/app/my-db",
    "MY_DB_ENV_PASS=a=b",
  ]);
});

test("no exposed ports: only the name and the env", () => {
  assert.deepEqual(linkEnv({ parent: "p", alias: "x", ip: "1.2.3.4", env: [], exposed: [] }), [
    "X_NAME=/p/x",
  ]);
});
