/**
 * Issue 18, storage, networks, volumes, commit and events: what dockerd 20.10 shows through the docker CLI
 * (texts and attributes taken from dockerd on this machine).
 */
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { after, before, describe, test } from "node:test";
import {
  api,
  DOCKER,
  docker,
  dockerOk,
  importBusybox,
  startDaemon,
  type TestDaemon,
} from "../../helpers/daemon.ts";

let d: TestDaemon;

before(async () => {
  d = await startDaemon({ name: "pobj" });
  await importBusybox(d);
});
after(async () => {
  await d?.stop();
});

/** A docker call that must succeed: its stdout. */
const ok = (args: string[]): Promise<string> => dockerOk(d, args);

/** Whole seconds since the epoch, as `docker events --since/--until` take them. */
const nowS = () => Math.floor(Date.now() / 1000);

describe("storage options (issue 18)", { skip: !existsSync(DOCKER) }, () => {
  test("--storage-opt size is refused without xfs project quotas, an unknown option too", async () => {
    const size = await docker(d, ["run", "--rm", "--storage-opt", "size=10m", "busybox", "true"]);
    assert.equal(size.code, 125);
    assert.match(
      size.stderr,
      /Error response from daemon: --storage-opt is supported only for overlay over xfs with 'pquota' mount option/,
    );
    const other = await docker(d, ["create", "--storage-opt", "foo=bar", "busybox"]);
    assert.match(other.stderr, /Error response from daemon: Unknown option foo/);
  });
});

describe("network MTU (issue 18)", { skip: !existsSync(DOCKER) }, () => {
  test("com.docker.network.driver.mtu sets the container's interface MTU; a bad value is refused", async () => {
    await ok(["network", "create", "-o", "com.docker.network.driver.mtu=1400", "mtunet"]);
    const link = await ok([
      "run",
      "--rm",
      "--network",
      "mtunet",
      "busybox",
      "cat",
      "/sys/class/net/eth0/mtu",
    ]);
    assert.equal(link, "1400\n");
    await ok(["network", "rm", "mtunet"]);
    const bad = await docker(d, ["network", "create", "-o", "com.docker.network.driver.mtu=abc", "mtubad"]);
    assert.notEqual(bad.code, 0);
    assert.match(
      bad.stderr,
      /failed to parse com.docker.network.driver.mtu value: abc \(strconv.Atoi: parsing "abc": invalid syntax\)/,
    );
  });
});

describe("volumes (issue 18)", { skip: !existsSync(DOCKER) }, () => {
  test("--mount volume-label labels the volume it creates; an existing volume keeps its labels", async () => {
    await ok([
      "run",
      "--rm",
      "--mount",
      "type=volume,src=lblv,dst=/m,volume-label=k=v,volume-label=a=b",
      "busybox",
      "true",
    ]);
    assert.equal(await ok(["volume", "inspect", "-f", "{{json .Labels}}", "lblv"]), '{"a":"b","k":"v"}\n');
    await ok(["run", "--rm", "--mount", "type=volume,src=lblv,dst=/m,volume-label=z=y", "busybox", "true"]);
    assert.equal(await ok(["volume", "inspect", "-f", "{{json .Labels}}", "lblv"]), '{"a":"b","k":"v"}\n');
    await ok(["volume", "rm", "lblv"]);
  });

  test("volume prune before API 1.42 removes named unused volumes too", async () => {
    await ok(["volume", "create", "keepme"]);
    const now = await api<{ VolumesDeleted: string[] | null }>(d, "POST", "/v1.47/volumes/prune");
    assert.ok(!(now.VolumesDeleted ?? []).includes("keepme"), "1.47 prunes only anonymous volumes");
    const old = await api<{ VolumesDeleted: string[] | null }>(d, "POST", "/v1.41/volumes/prune");
    assert.ok((old.VolumesDeleted ?? []).includes("keepme"), JSON.stringify(old));
    assert.equal((await docker(d, ["volume", "inspect", "keepme"])).code, 1);
  });
});

describe("commit (issue 18)", { skip: !existsSync(DOCKER) }, () => {
  test("a committed image keeps the container's Hostname, Image, Tty and Attach flags; the commit event", async () => {
    const since = nowS();
    await ok(["run", "--name", "cm", "--hostname", "hh", "-t", "-l", "lab=one", "busybox", "true"]);
    const imageId = (await ok(["commit", "-m", "a comment", "cm", "cmimg:1"])).trim();
    assert.equal(
      await ok([
        "image",
        "inspect",
        "-f",
        "{{.Config.Hostname}} {{.Config.Image}} {{.Config.Tty}} {{.Config.AttachStdout}} {{.Config.AttachStderr}} {{.Config.AttachStdin}}",
        "cmimg:1",
      ]),
      "hh busybox true true true false\n",
    );
    await ok(["commit", "cm"]);
    await ok(["rm", "cm"]);
    const until = nowS() + 1;
    const ev = await ok([
      "events",
      "--since",
      String(since),
      "--until",
      String(until),
      "--filter",
      "event=commit",
      "--format",
      "{{json .Actor.Attributes}}",
    ]);
    const [first, second] = ev
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as Record<string, string>);
    assert.deepEqual(first, {
      comment: "a comment",
      image: "busybox",
      imageID: imageId,
      imageRef: "cmimg:1",
      lab: "one",
      name: "cm",
    });
    assert.equal(second?.imageRef, "");
    assert.equal(second?.comment, "");
    await ok(["rmi", "cmimg:1"]);
  });
});

describe("volume events (issue 18)", { skip: !existsSync(DOCKER) }, () => {
  test("a start mounts its volumes and an exit unmounts them, with dockerd's attributes and order", async () => {
    const since = nowS();
    const id = (await ok(["create", "--name", "vev", "-v", "vevv:/data:ro", "busybox", "true"])).trim();
    await ok(["start", "-a", "vev"]);
    await ok(["rm", "vev"]);
    await ok(["volume", "rm", "vevv"]);
    const out = await ok([
      "events",
      "--since",
      String(since),
      "--until",
      String(nowS() + 1),
      "--filter",
      "type=volume",
      "--filter",
      "type=container",
      "--format",
      "{{.Type}} {{.Action}} {{json .Actor.Attributes}}",
    ]);
    const lines = out.trim().split("\n");
    const actions = lines.map((l) => l.split(" ").slice(0, 2).join(" "));
    const at = (a: string) => actions.indexOf(a);
    assert.ok(at("volume mount") > -1 && at("volume mount") < at("container start"), actions.join(", "));
    assert.ok(at("volume unmount") > at("container die"), actions.join(", "));
    const mount = JSON.parse(lines[at("volume mount")]?.split(" ").slice(2).join(" ") ?? "{}");
    assert.deepEqual(mount, {
      container: id,
      destination: "/data",
      driver: "local",
      propagation: "",
      "read/write": "false",
    });
    const unmount = JSON.parse(lines[at("volume unmount")]?.split(" ").slice(2).join(" ") ?? "{}");
    assert.deepEqual(unmount, { container: id, driver: "local" });
  });
});

describe("event filters on replay (issue 18)", { skip: !existsSync(DOCKER) }, () => {
  test("container=<old name> matches until the rename, the ID always; label filters replay every event", async () => {
    const since = nowS();
    const id = (
      await ok(["create", "--name", "evold", "-l", "evlab=1", "--network", "none", "busybox", "true"])
    ).trim();
    await ok(["start", "-a", "evold"]);
    await ok(["rename", "evold", "evnew"]);
    await ok(["start", "-a", "evnew"]);
    await ok(["rm", "evnew"]);
    const replay = async (filter: string) =>
      (
        await ok([
          "events",
          "--since",
          String(since),
          "--until",
          String(nowS() + 1),
          "--filter",
          "type=container",
          "--filter",
          filter,
          "--format",
          "{{.Action}}",
        ])
      )
        .trim()
        .split("\n");
    // As dockerd 20.10: the name filter compares the name an event carried when it was published.
    assert.deepEqual(await replay("container=evold"), ["create", "attach", "start", "die"]);
    const all = ["create", "attach", "start", "die", "rename", "attach", "start", "die", "destroy"];
    assert.deepEqual(await replay("container=evnew"), ["rename", "attach", "start", "die", "destroy"]);
    assert.deepEqual(await replay(`container=${id}`), all);
    assert.deepEqual(await replay("label=evlab=1"), all);
  });
});
