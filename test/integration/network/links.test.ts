/**
 * Legacy links on the default bridge as dockerd sets them up: the `<ALIAS>_PORT*`, `<ALIAS>_NAME` and
 * `<ALIAS>_ENV_*` variables in the linking container (its own variables win), through the docker CLI.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import {
  docker,
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
  d = await startDaemon({ name: "links" });
  await importBusybox(d);
});
after(async () => {
  await d?.stop();
});

describe("--link on the default bridge", () => {
  test("the linked container's ports, name and environment as variables", async () => {
    await ok([
      "run",
      "-d",
      "--name",
      "web-srv",
      "--expose",
      "80",
      "--expose",
      "8080-8082",
      "-e",
      "FOO=bar",
      "-e",
      "HOME=/x",
      "busybox",
      "sleep",
      "600",
    ]);
    const ip = (await ok(["inspect", "-f", "{{.NetworkSettings.IPAddress}}", "web-srv"])).trim();
    const env = (await ok(["run", "--name", "client1", "--link", "web-srv:my-web", "busybox", "env"]))
      .trim()
      .split("\n")
      .filter((l) => l.startsWith("MY_WEB_"));
    const each = (p: number) => [
      `MY_WEB_PORT_${p}_TCP=tcp://${ip}:${p}`,
      `MY_WEB_PORT_${p}_TCP_ADDR=${ip}`,
      `MY_WEB_PORT_${p}_TCP_PORT=${p}`,
      `MY_WEB_PORT_${p}_TCP_PROTO=tcp`,
    ];
    // The START block repeats two names of the 8080 lines; runc keeps each name once, at its first place.
    const once = (xs: string[]) =>
      xs.filter((x, i) => xs.findIndex((y) => y.split("=")[0] === x.split("=")[0]) === i);
    assert.deepEqual(
      env,
      once([
        `MY_WEB_PORT=tcp://${ip}:80`,
        `MY_WEB_PORT_8080_TCP_START=tcp://${ip}:8080`,
        `MY_WEB_PORT_8080_TCP_ADDR=${ip}`,
        "MY_WEB_PORT_8080_TCP_PROTO=tcp",
        "MY_WEB_PORT_8080_TCP_PORT_START=8080",
        `MY_WEB_PORT_8080_TCP_END=tcp://${ip}:8082`,
        "MY_WEB_PORT_8080_TCP_PORT_END=8082",
        ...each(80),
        ...each(8080),
        ...each(8081),
        ...each(8082),
        "MY_WEB_NAME=/client1/my-web",
        "MY_WEB_ENV_FOO=bar",
      ]),
    );
    // The container's own variable of the same name wins; a link without alias takes the name.
    const own = await ok([
      "run",
      "--rm",
      "-e",
      "MY_WEB_NAME=mine",
      "--link",
      "web-srv:my-web",
      "busybox",
      "env",
    ]);
    assert.match(own, /^MY_WEB_NAME=mine$/m);
    assert.doesNotMatch(own, /MY_WEB_NAME=\//);
    const bare = await ok(["run", "--rm", "--name", "client2", "--link", "web-srv", "busybox", "env"]);
    assert.match(bare, /^WEB_SRV_NAME=\/client2\/web-srv$/m);

    // docker rm --link drops the link: inspect no longer lists it, the next start neither sets nor maps it.
    const rmMissing = await docker(d, ["rm", "--link", "/client1/nope"]);
    assert.notEqual(rmMissing.code, 0);
    assert.match(rmMissing.stderr, /No such container: \/?client1\/nope/);
    const rmDefault = await docker(d, ["rm", "--link", "web-srv"]);
    assert.notEqual(rmDefault.code, 0);
    assert.match(rmDefault.stderr, /Conflict, cannot remove the default link name of the container/);
    assert.equal(await ok(["rm", "--link", "/client1/my-web"]), "/client1/my-web\n");
    assert.equal((await ok(["inspect", "-f", "{{json .HostConfig.Links}}", "client1"])).trim(), "null");
    const again = await ok(["start", "-a", "client1"]);
    assert.doesNotMatch(again, /MY_WEB_/);
    await ok(["rm", "-f", "web-srv", "client1"]);
  });
});

describe("--link: what inspect shows and what start needs", () => {
  test("HostConfig.Links reads /<child>:/<parent>/<alias> with the names as they are now", async () => {
    await ok(["run", "-d", "--name", "lk-db", "busybox", "sleep", "300"]);
    await ok(["create", "--name", "lk-web", "--link", "lk-db:dba", "--link", "lk-db", "busybox", "true"]);
    const links = async () =>
      JSON.parse(await ok(["inspect", "lk-web", "--format", "{{json .HostConfig.Links}}"]));
    assert.deepEqual((await links()).sort(), ["/lk-db:/lk-web/dba", "/lk-db:/lk-web/lk-db"]);
    await ok(["rename", "lk-db", "lk-db2"]);
    assert.deepEqual((await links()).sort(), ["/lk-db2:/lk-web/dba", "/lk-db2:/lk-web/lk-db"]);
    await ok(["rm", "-f", "lk-web", "lk-db2"]);
  });

  test("a start refuses a link to a container that is not running, in dockerd's words", async () => {
    await ok(["create", "--name", "lk-stopped", "busybox", "sleep", "300"]);
    const r = await docker(d, ["run", "--name", "lk-user", "--link", "lk-stopped:x", "busybox", "true"]);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /Cannot link to a non running container: \/lk-stopped AS \/lk-user\/x/);
    await ok(["start", "lk-stopped"]);
    assert.equal(await ok(["start", "-a", "lk-user"]), "");
    await ok(["rm", "-f", "lk-user", "lk-stopped"]);
  });
});

describe("--link on a user-defined network", () => {
  test("the alias resolves to the linked container for the linking container only", async () => {
    const subnet = await freeSubnet();
    await ok(["network", "create", "--subnet", subnet, "lnet"]);
    await ok(["run", "-d", "--name", "lsrv", "--network", "lnet", "busybox", "sleep", "600"]);
    const ip = (await ok(["inspect", "-f", "{{.NetworkSettings.Networks.lnet.IPAddress}}", "lsrv"])).trim();
    const linked = await docker(d, [
      "run",
      "--rm",
      "--network",
      "lnet",
      "--link",
      "lsrv:dbalias",
      "busybox",
      "nslookup",
      "dbalias",
    ]);
    assert.equal(linked.code, 0, linked.stdout + linked.stderr);
    assert.match(linked.stdout, new RegExp(`Address: ${ip.replaceAll(".", "\\.")}`));
    const other = await docker(d, ["run", "--rm", "--network", "lnet", "busybox", "nslookup", "dbalias"]);
    assert.notEqual(other.code, 0, other.stdout);
    await ok(["rm", "-f", "lsrv"]);
    await ok(["network", "rm", "lnet"]);
  });
});
