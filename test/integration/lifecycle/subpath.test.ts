/**
 * Volume subpaths (`--mount type=volume,...,volume-subpath=`, VolumeOptions.Subpath of API 1.45), through the
 * real docker CLI: a directory, a link inside the volume and a single file mount their part only; an empty
 * subdirectory is filled from the image like a new volume; a path that leaves the volume is refused at create,
 * one that does not exist or whose links lead out of the volume at start, in dockerd's words.
 */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { docker, importBusybox, startDaemon, type TestDaemon } from "../../helpers/daemon.ts";
import { ok } from "./common.ts";

let d: TestDaemon;
before(async () => {
  d = await startDaemon({ name: "subpath" });
  await importBusybox(d);
  await ok(d, ["volume", "create", "sp"]);
  await ok(d, [
    "run",
    "--rm",
    "-v",
    "sp:/v",
    "busybox",
    "sh",
    "-c",
    "echo foo > /v/bar.txt && mkdir /v/bin /v/subdir /v/hack && echo world > /v/subdir/hello.txt && " +
      "ln -s / /v/hack/root && ln -s ../subdir /v/hack/good && ln -s root /v/hack/bad",
  ]);
});
after(async () => {
  await d?.stop();
});

const mount = (sub: string, dst = "/volume") => [
  "--mount",
  `type=volume,src=sp,dst=${dst},volume-subpath=${sub}`,
];

test("a subdirectory, a link to one inside the volume, and a file mount only that part", async () => {
  assert.equal(await ok(d, ["run", "--rm", ...mount("subdir"), "busybox", "ls", "/volume"]), "hello.txt");
  assert.equal(await ok(d, ["run", "--rm", ...mount("hack/good"), "busybox", "ls", "/volume"]), "hello.txt");
  assert.equal(await ok(d, ["run", "--rm", ...mount("bar.txt"), "busybox", "cat", "/volume"]), "foo");
});

test("an empty subdirectory gets the image's files at the destination, as a new volume does", async () => {
  assert.equal(
    await ok(d, ["run", "--rm", ...mount("bin", "/bin"), "busybox", "ls", "/bin/busybox"]),
    "/bin/busybox",
  );
});

test("a subpath leaving the volume is refused at create; a missing one or one linking out, at start", async () => {
  const back = await docker(d, ["create", ...mount("../../../../../../etc/passwd"), "busybox"]);
  assert.notEqual(back.code, 0);
  assert.match(back.stderr, /subpath must be a relative path within the volume/);
  const missing = await docker(d, ["run", "--rm", ...mount("not-existing-path"), "busybox", "true"]);
  assert.notEqual(missing.code, 0);
  assert.match(missing.stderr, /cannot access path .*not-existing-path/);
  for (const sub of ["hack/root", "hack/bad"]) {
    const out = await docker(d, ["run", "--rm", ...mount(sub), "busybox", "ls", "/volume"]);
    assert.notEqual(out.code, 0, `${sub}: ${out.stdout}`);
    assert.match(out.stderr, /path concatenation escapes the base directory/);
  }
});
