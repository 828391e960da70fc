/**
 * `GET /system/df` as `docker system df` (with and without -v) and docker-py's `df()` read it: images with
 * SharedSize and Containers, containers with their writable layer, volumes with UsageData, the build cache.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import type { DiskUsage } from "../../../src/apitypes/index.ts";
import { api, docker, exec, importBusybox, startDaemon, type TestDaemon } from "../../helpers/daemon.ts";

let d: TestDaemon;

before(async () => {
  d = await startDaemon({ name: "df" });
  await importBusybox(d);
  const vol = await docker(d, ["volume", "create", "dfvol"]);
  assert.equal(vol.code, 0, vol.stderr);
  // A stopped container that wrote 4000 bytes into its volume and 2000 into its own layer.
  const w = await docker(d, [
    "run",
    "--name",
    "dfwriter",
    "-v",
    "dfvol:/data",
    "busybox",
    "sh",
    "-c",
    "head -c 4000 /dev/zero > /data/f; head -c 2000 /dev/zero > /own",
  ]);
  assert.equal(w.code, 0, w.stderr);
  const r = await docker(d, ["run", "-d", "--name", "dfrunning", "busybox", "sleep", "600"]);
  assert.equal(r.code, 0, r.stderr);
  const b = await docker(d, ["build", "-q", "-t", "dfbuilt", "-"], {
    input: "FROM busybox\nRUN echo built > /built\n",
    timeoutMs: 120_000,
  });
  assert.equal(b.code, 0, b.stderr);
});
after(async () => {
  await d?.stop();
});

describe("GET /system/df", () => {
  test("images, containers, volumes and build cache in Docker's shapes", async () => {
    const du = await api<DiskUsage>(d, "GET", "/system/df");
    const images = du.Images ?? [];
    const busybox = images.find((i) => i.RepoTags.includes("busybox:latest"));
    const built = images.find((i) => i.RepoTags.includes("dfbuilt:latest"));
    assert.ok(busybox && built, JSON.stringify(images));
    assert.equal(busybox.Containers, 2);
    assert.equal(built.Containers, 0);
    // The built image shares busybox's layer and adds its own.
    assert.equal(built.SharedSize, busybox.Size);
    assert.equal(busybox.SharedSize, busybox.Size);
    assert.ok(built.Size > busybox.Size);
    assert.equal(du.LayersSize, built.Size);

    const writer = du.Containers?.find((c) => c.Names.includes("/dfwriter"));
    assert.ok(writer, JSON.stringify(du.Containers));
    assert.ok((writer.SizeRw ?? 0) >= 2000, `SizeRw ${writer.SizeRw}`);
    assert.equal(writer.SizeRootFs, (writer.SizeRw ?? 0) + busybox.Size);

    const vol = du.Volumes?.find((v) => v.Name === "dfvol");
    assert.deepEqual(vol?.UsageData, { Size: 4000, RefCount: 1 });

    assert.ok((du.BuildCache ?? []).length >= 1, JSON.stringify(du.BuildCache));
    for (const c of du.BuildCache ?? []) {
      assert.equal(c.Type, "regular");
      assert.equal(c.InUse, false);
      assert.equal(typeof c.CreatedAt, "string");
    }
    // The RUN step's layer is part of dfbuilt, so it counts under Images, not again as cache.
    const run = du.BuildCache?.find((c) => c.Description?.includes("echo built"));
    assert.ok(run, JSON.stringify(du.BuildCache));
    assert.equal(run.Shared, true);
    assert.equal(run.Size, built.Size - busybox.Size);
  });

  test("type= computes only what is asked for; an unknown type is a 400", async () => {
    const du = await api<DiskUsage>(d, "GET", "/v1.47/system/df?type=volume");
    assert.equal(du.Images, null);
    assert.equal(du.Containers, null);
    assert.equal(du.BuildCache, null);
    assert.equal(du.Volumes?.length, 1);
    await assert.rejects(api(d, "GET", "/system/df?type=bogus"), (e: Error & { status: number }) => {
      assert.equal(e.status, 400);
      assert.equal(e.message, "unknown object type: bogus");
      return true;
    });
    // Before 1.42 there was no type=: everything comes back.
    const old = await api<DiskUsage>(d, "GET", "/v1.41/system/df?type=volume");
    assert.ok(old.Images?.length);
  });

  test("docker system df and -v", async () => {
    const r = await docker(d, ["system", "df", "--format", "{{.Type}} {{.TotalCount}} {{.Active}}"]);
    assert.equal(r.code, 0, r.stderr);
    const rows = r.stdout.trim().split("\n");
    assert.equal(rows[0], "Images 2 1");
    assert.equal(rows[1], "Containers 2 1");
    assert.equal(rows[2], "Local Volumes 1 1");
    assert.match(rows[3], /^Build Cache \d+ 0$/);
    const v = await docker(d, ["system", "df", "-v"]);
    assert.equal(v.code, 0, v.stderr);
    assert.match(v.stdout, /^dfvol\s+1\s+4kB$/m);
    assert.match(v.stdout, /^busybox\s+latest\s+\w{12}\s.*\s2\s*$/m);
    assert.match(v.stdout, /dfwriter/);
  });

  test("docker-py's df()", async () => {
    const script = [
      "import docker, json",
      `c = docker.DockerClient(base_url=${JSON.stringify(d.host)})`,
      "df = c.df()",
      "print(json.dumps(sorted(k for k, v in df.items() if v is not None)))",
    ].join("\n");
    const r = await exec("python3", ["-c", script]);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(JSON.parse(r.stdout), ["BuildCache", "Containers", "Images", "LayersSize", "Volumes"]);
  });
});
