/**
 * Issue 18, containers: devices, groups, links and failed starts as dockerd 20.10 shows them through the
 * docker CLI (the expected texts and codes were taken from dockerd on this machine).
 */
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { after, before, describe, test } from "node:test";
import {
  DOCKER,
  docker,
  dockerOk,
  importBusybox,
  startDaemon,
  type TestDaemon,
  wharf,
} from "../../helpers/daemon.ts";

let d: TestDaemon;

before(async () => {
  d = await startDaemon({ name: "pctr" });
  await importBusybox(d);
});
after(async () => {
  await d?.stop();
});

/** A docker call that must succeed: its stdout. */
const ok = (args: string[]): Promise<string> => dockerOk(d, args);

/** A character device outside Docker's default allow list, so its cgroup rule is what grants access. */
const DEVICE = ["/dev/loop-control", "/dev/net/tun", "/dev/fuse"].find((p) => existsSync(p));

describe("devices (issue 18)", { skip: !existsSync(DOCKER) || !DEVICE }, () => {
  const dev = DEVICE ?? "";

  test("--device makes the node, its cgroup permissions hold, and a directory adds the nodes below it", async () => {
    const ro = await docker(d, [
      "run",
      "--rm",
      "--device",
      `${dev}:/dev/xdev:r`,
      "busybox",
      "sh",
      "-c",
      "ls -l /dev/xdev | cut -c1; exec 4</dev/xdev && echo openr; exec 3>/dev/xdev && echo openw",
    ]);
    assert.equal(ro.stdout, "c\nopenr\n");
    assert.match(ro.stderr, /can't create \/dev\/xdev: Operation not permitted/);
    assert.equal(
      await ok([
        "run",
        "--rm",
        "--device",
        `${dev}:/dev/xdev`,
        "busybox",
        "sh",
        "-c",
        "exec 3>/dev/xdev && echo openw",
      ]),
      "openw\n",
    );
    assert.equal(await ok(["run", "--rm", "--device", "/dev/net", "busybox", "ls", "/dev/net"]), "tun\n");
    await ok(["create", "--name", "devs", "--device", `${dev}:/dev/xdev:rw`, "busybox"]);
    assert.equal(
      await ok(["inspect", "-f", "{{json .HostConfig.Devices}}", "devs"]),
      `[{"PathOnHost":"${dev}","PathInContainer":"/dev/xdev","CgroupPermissions":"rw"}]\n`,
    );
    await ok(["rm", "devs"]);
  });

  test("--device-cgroup-rule lets the container make and open a node", async () => {
    const mk = "mknod /dev/lc c 10 237 && exec 3>/dev/lc && echo openw";
    assert.equal(
      await ok(["run", "--rm", "--device-cgroup-rule", "c 10:237 rwm", "busybox", "sh", "-c", mk]),
      "openw\n",
    );
    const denied = await docker(d, ["run", "--rm", "busybox", "sh", "-c", mk]);
    assert.match(denied.stderr, /can't create \/dev\/lc: Operation not permitted/);
    const bad = await docker(d, ["create", "--device-cgroup-rule", "c 1:3", "busybox"]);
    assert.notEqual(bad.code, 0);
  });

  test("a device path missing on the host fails the start with dockerd's text", async () => {
    const r = await docker(d, ["run", "--rm", "--device", "/dev/wharf-nonexistent", "busybox", "true"]);
    assert.equal(r.code, 127, r.stderr);
    assert.match(
      r.stderr,
      /Error response from daemon: error gathering device information while adding custom device "\/dev\/wharf-nonexistent": no such file or directory/,
    );
    assert.doesNotMatch(r.stderr, /Error waiting for container/);
  });
});

describe("groups (issue 18)", { skip: !existsSync(DOCKER) }, () => {
  test("the primary group is a supplementary group, and exec keeps the container's --group-add", async () => {
    assert.equal(
      await ok(["run", "--rm", "-u", "1000:mail", "--group-add", "123", "busybox", "id", "-G"]),
      "8 123\n",
    );
    assert.equal(await ok(["run", "--rm", "-u", "4242", "busybox", "id", "-G"]), "0\n");
    await ok([
      "run",
      "-d",
      "--name",
      "grp",
      "--group-add",
      "123",
      "--group-add",
      "mail",
      "-u",
      "1000",
      "busybox",
      "sleep",
      "300",
    ]);
    const sorted = async (args: string[]) =>
      (await ok(["exec", ...args, "grp", "id", "-G"]))
        .trim()
        .split(" ")
        .map(Number)
        .sort((a, b) => a - b);
    assert.deepEqual(await sorted([]), [8, 123, 1000, 1001]);
    assert.deepEqual(await sorted(["-u", "0"]), [0, 8, 10, 123]);
    assert.deepEqual(await sorted(["-u", "1000:1000"]), [8, 123, 1000]);
    await ok(["rm", "-f", "grp"]);
  });
});

describe("links and container networks (issue 18)", { skip: !existsSync(DOCKER) }, () => {
  test("--link to a missing container is refused at create", async () => {
    const r = await docker(d, ["run", "--rm", "--link", "nosuch:alias", "busybox", "true"]);
    assert.equal(r.code, 125);
    assert.match(
      r.stderr,
      /Error response from daemon: could not get container for nosuch: No such container: nosuch/,
    );
  });

  test("--network container:<missing> fails at start with No such container, and no pull is tried", async () => {
    const r = await docker(d, ["run", "--rm", "--network", "container:nosuch", "busybox", "true"]);
    assert.equal(r.code, 125);
    assert.match(r.stderr, /Error response from daemon: No such container: nosuch/);
    assert.doesNotMatch(r.stderr, /Unable to find image/);
    await ok(["create", "--name", "late", "--network", "container:joined", "busybox", "hostname"]);
    const id = (
      await ok(["run", "-d", "--name", "joined", "--hostname", "joinedhost", "busybox", "sleep", "300"])
    ).trim();
    await ok(["start", "late"]);
    assert.equal(await ok(["wait", "late"]), "0\n");
    assert.equal(await ok(["logs", "late"]), "joinedhost\n");
    await ok(["create", "--name", "early", "--network", "container:joined", "busybox"]);
    assert.equal(await ok(["inspect", "-f", "{{.HostConfig.NetworkMode}}", "early"]), `container:${id}\n`);
    await ok(["rm", "-f", "late", "early", "joined"]);
  });
});

describe("failed starts (issue 18)", { skip: !existsSync(DOCKER) }, () => {
  test("the CLI prints a failed start's error once, without 'Error waiting for container'", async () => {
    const r = await docker(d, ["run", "--name", "failstart", "busybox", "nosuchcmd"]);
    assert.equal(r.code, 127);
    assert.match(r.stderr, /executable file not found in \$PATH/);
    assert.doesNotMatch(r.stderr, /Error waiting for container/);
    assert.equal(
      await ok(["inspect", "-f", "{{.State.Status}} {{.State.ExitCode}}", "failstart"]),
      "created 127\n",
    );
    await ok(["rm", "failstart"]);
    // The wharf CLI ends too instead of holding its wait open.
    const w = await wharf(d, ["run", "--name", "failstart2", "busybox", "nosuchcmd"], { timeoutMs: 20_000 });
    assert.equal(w.code, 127, w.stderr);
    await ok(["rm", "failstart2"]);
  });
});
