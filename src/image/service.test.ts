import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { test } from "node:test";
import zlib from "node:zlib";
import { isConflict, isInvalidParameter, isNotFound } from "../errdefs/index.ts";
import { makeTar } from "../layer/testing.ts";
import { createImageService, type LocalImageService } from "./index.ts";
import { BUSYBOX_CHANGES, busyboxRootfsTar } from "./testdata.ts";

interface Ctx {
  after(fn: () => Promise<void> | void): void;
}

// node:test runs after-hooks in registration order; cleanups must run last-in first-out (unmount before rm).
function cleanupStack(t: Ctx): (fn: () => Promise<void> | void) => void {
  const fns: (() => Promise<void> | void)[] = [];
  t.after(async () => {
    for (const f of fns.reverse()) await f();
  });
  return (fn) => fns.push(fn);
}

async function newService(
  t: Ctx,
): Promise<{ svc: LocalImageService; root: string; defer: ReturnType<typeof cleanupStack> }> {
  const defer = cleanupStack(t);
  const root = await mkdtemp(join(tmpdir(), "wharf-images-"));
  defer(() => rm(root, { recursive: true, force: true }));
  const events: string[] = [];
  const svc = createImageService({
    dataRoot: root,
    events: (e) => events.push(`${e.Action} ${e.Actor.Attributes?.name}`),
  });
  await svc.init();
  return { svc, root, defer };
}

const small = (content: string) => makeTar([{ name: "f", content }]);

test("import a busybox rootfs, then inspect, resolve and history", async (t) => {
  const { svc, root } = await newService(t);
  const id = await svc.importTar(busyboxRootfsTar(), { repo: "busybox", changes: [...BUSYBOX_CHANGES] });
  assert.match(id, /^sha256:[a-f0-9]{64}$/);
  // The ID is the digest of the config blob.
  const configBytes = await svc.content.read(id);
  assert.equal(`sha256:${createHash("sha256").update(configBytes).digest("hex")}`, id);
  const config = JSON.parse(configBytes.toString());
  assert.equal(config.architecture, "amd64");
  assert.equal(config.os, "linux");
  assert.deepEqual(config.history[0].comment, "Imported from -");
  assert.match(config.created, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/);

  const ins = await svc.inspect("busybox");
  assert.equal(ins.Id, id);
  assert.deepEqual(ins.RepoTags, ["busybox:latest"]);
  assert.deepEqual(ins.RepoDigests, []);
  assert.equal(ins.Comment, "Imported from -");
  assert.deepEqual(ins.Config.Cmd, ["sh"]);
  assert.equal(ins.Config.Hostname, "");
  assert.equal(ins.RootFS.Type, "layers");
  assert.equal(ins.RootFS.Layers?.length, 1);
  assert.ok(ins.Size > 1_900_000, `size ${ins.Size}`);
  assert.equal(ins.GraphDriver.Name, "overlay2");
  assert.notEqual(ins.Metadata.LastTagTime, "0001-01-01T00:00:00Z");

  // The layer blob is stored gzip-compressed and the manifest points at it.
  const blobs = await svc.content.list();
  assert.equal(blobs.length, 3);
  const manifest = JSON.parse(
    (await Promise.all(blobs.map(async (b) => (await svc.content.read(b.digest)).toString("latin1")))).find(
      (s) => s.includes('"schemaVersion"'),
    )!,
  );
  assert.equal(manifest.config.digest, id);
  assert.equal(manifest.layers[0].mediaType, "application/vnd.oci.image.layer.v1.tar+gzip");
  const layerBlob = await svc.content.read(manifest.layers[0].digest);
  assert.equal(layerBlob[0], 0x1f);

  for (const name of [
    id,
    id.slice(7),
    id.slice(7, 19),
    `sha256:${id.slice(7, 15)}`,
    "docker.io/library/busybox:latest",
  ]) {
    assert.equal((await svc.resolve(name)).id, id, name);
  }
  const r = await svc.resolve("busybox:latest");
  assert.deepEqual(r.config.Cmd, ["sh"]);
  assert.equal(r.chainIds.length, 1);
  assert.equal(r.lowerDirs.length, 1);
  assert.ok(r.lowerDirs[0].startsWith(join(root, "layers")));

  const h = await svc.history("busybox");
  assert.equal(h.length, 1);
  assert.equal(h[0].Id, id);
  assert.deepEqual(h[0].Tags, ["busybox:latest"]);
  assert.equal(h[0].Comment, "Imported from -");
  assert.equal(h[0].Size, ins.Size);
});

test("lookups fail as Docker's do", async (t) => {
  const { svc } = await newService(t);
  await assert.rejects(
    svc.inspect("nope"),
    (e) => isNotFound(e) && e.message === "No such image: nope:latest",
  );
  await assert.rejects(svc.inspect("nope:1"), /^NotFoundError: No such image: nope:1$/);
  await assert.rejects(svc.resolve(`sha256:${"c".repeat(64)}`), /No such image: sha256:c{64}/);
  await assert.rejects(
    svc.inspect("Busybox"),
    (e) => isInvalidParameter(e) && /invalid reference format/.test(e.message),
  );
  await assert.rejects(svc.tag("nope", "x"), (e) => isNotFound(e));
  await assert.rejects(svc.tag("nope", "x", "-bad"), (e) => isInvalidParameter(e));
  await assert.rejects(svc.tag("nope", "x@sha256:" + "a".repeat(64)), (e) => isInvalidParameter(e));
  await assert.rejects(svc.importTar(Readable.from([Buffer.alloc(0)]), { repo: "UPPER/Case" }), (e) =>
    isInvalidParameter(e),
  );
});

test("gzip and zstd imports, changes, and layer sharing", async (t) => {
  const { svc } = await newService(t);
  const tarBuf = await small("x");
  const a = await svc.importTar(Readable.from([zlib.gzipSync(tarBuf)]), { repo: "a", message: "hello" });
  const b = await svc.importTar(Readable.from([zlib.zstdCompressSync(tarBuf)]), {
    repo: "b",
    tag: "v1",
    platform: "linux/arm64/v8",
    changes: [
      "ENV A=1",
      "WORKDIR /w",
      "USER 1000",
      "LABEL k=v",
      "EXPOSE 80",
      "VOLUME /data",
      "ENTRYPOINT echo",
    ],
  });
  assert.notEqual(a, b);
  assert.equal(svc.layers.list().length, 1, "same diff, one layer");
  assert.equal(svc.layers.list()[0].refcount, 2);
  const ia = await svc.inspect("a");
  assert.equal(ia.Comment, "hello");
  assert.deepEqual((await svc.history("a"))[0].Comment, "hello");
  const ib = await svc.inspect("b:v1");
  assert.equal(ib.Architecture, "arm64");
  assert.equal(ib.Variant, "v8");
  assert.deepEqual(ib.Config.Env, ["A=1"]);
  assert.equal(ib.Config.WorkingDir, "/w");
  assert.equal(ib.Config.User, "1000");
  assert.deepEqual(ib.Config.Labels, { k: "v" });
  assert.deepEqual(ib.Config.ExposedPorts, { "80/tcp": {} });
  assert.deepEqual(ib.Config.Volumes, { "/data": {} });
  assert.deepEqual(ib.Config.Entrypoint, ["/bin/sh", "-c", "echo"]);
  await assert.rejects(svc.importTar(Readable.from([tarBuf]), { changes: ["RUN x"] }), /not a valid change/);
  // A broken archive leaves neither a layer nor a blob behind.
  const before = (await svc.content.list()).length;
  await assert.rejects(svc.importTar(Readable.from([await makeTar([{ name: "../x", content: "x" }])]), {}));
  assert.equal((await svc.content.list()).length, before);
  await assert.rejects(svc.importTar(Readable.from([tarBuf]), { platform: "windows/amd64" }), (e) =>
    isInvalidParameter(e),
  );
});

test("tag and list with filters", async (t) => {
  const { svc } = await newService(t);
  const a = await svc.importTar(Readable.from([await small("a")]), {
    repo: "busybox",
    changes: ["LABEL tier=base"],
  });
  const b = await svc.importTar(Readable.from([await small("b")]), {
    repo: "app",
    tag: "1.0",
    changes: ["LABEL tier=app"],
  });
  const c = await svc.importTar(Readable.from([await small("c")]), {});
  await svc.tag("busybox", "localhost:5000/a/b", "t");
  await svc.tag(a.slice(7, 19), "mine");
  assert.deepEqual((await svc.inspect(a)).RepoTags, [
    "busybox:latest",
    "localhost:5000/a/b:t",
    "mine:latest",
  ]);

  const ids = async (filters: Record<string, string[]>) => (await svc.list({ filters })).map((s) => s.Id);
  assert.deepEqual(await ids({}), [c, b, a], "newest first");
  const all = await svc.list({});
  assert.deepEqual(all.find((s) => s.Id === c)?.RepoTags, []);
  assert.equal(all[0].SharedSize, -1);
  assert.equal(all[0].Containers, -1);
  assert.deepEqual(all.find((s) => s.Id === b)?.Labels, { tier: "app" });
  assert.deepEqual(await ids({ dangling: ["true"] }), [c]);
  assert.deepEqual(await ids({ dangling: ["false"] }), [b, a]);
  assert.deepEqual(await ids({ label: ["tier=app"] }), [b]);
  assert.deepEqual(await ids({ label: ["tier"] }), [b, a]);
  assert.deepEqual(await ids({ before: ["app:1.0"] }), [a]);
  assert.deepEqual(await ids({ since: ["busybox"] }), [c, b]);
  assert.deepEqual(await ids({ until: ["1"] }), []);
  const byRef = await svc.list({ filters: { reference: ["busy*"] } });
  assert.deepEqual(
    byRef.map((s) => [s.Id, s.RepoTags]),
    [[a, ["busybox:latest"]]],
  );
  assert.deepEqual(await ids({ reference: ["*:latest"] }), [a]);
  assert.deepEqual(await ids({ reference: ["localhost:5000/a/*"] }), [a]);
  await assert.rejects(svc.list({ filters: { bogus: ["x"] } }), /invalid filter 'bogus'/);
  await assert.rejects(svc.list({ filters: { dangling: ["maybe"] } }), /invalid filter 'dangling=maybe'/);
  await assert.rejects(svc.list({ filters: { before: ["nope"] } }), (e) => isNotFound(e));
});

test("remove: untag, conflicts and deletion as Docker's", async (t) => {
  const { svc, root } = await newService(t);
  const id = await svc.importTar(Readable.from([await small("a")]), { repo: "busybox" });
  await svc.tag("busybox", "other");
  const chain = svc.layers.list()[0].chainId;

  // Removing one of two names only untags.
  assert.deepEqual(await svc.remove("other", {}), [{ Untagged: "other:latest" }]);
  await svc.tag("busybox", "other", "2");

  // By ID with names in two repositories: must be forced.
  await assert.rejects(
    svc.remove(id.slice(7, 19), {}),
    (e) =>
      isConflict(e) &&
      e.message ===
        `conflict: unable to delete ${id.slice(7, 19)} (must be forced) - image is referenced in multiple repositories`,
  );
  const stopped = () => ({ running: false, containerId: "f".repeat(64) });
  const running = () => ({ running: true, containerId: "e".repeat(64) });
  // A running container blocks even a forced delete.
  await assert.rejects(
    svc.remove(id, { force: true, inUse: running }),
    (e) =>
      isConflict(e) &&
      /\(cannot be forced\) - image is being used by running container eeeeeeeeeeee/.test(e.message),
  );
  const items = await svc.remove(id, { force: true });
  assert.deepEqual(items, [
    { Untagged: "busybox:latest" },
    { Untagged: "other:2" },
    { Deleted: id },
    { Deleted: chain },
  ]);
  assert.deepEqual(await svc.list({}), []);
  assert.deepEqual(await svc.content.list(), []);
  assert.deepEqual(svc.layers.list(), []);
  assert.deepEqual(await readdir(join(root, "images", "records")), []);

  // The only name of an image a container uses.
  const id2 = await svc.importTar(Readable.from([await small("b")]), { repo: "app" });
  await assert.rejects(
    svc.remove("app", { inUse: stopped }),
    (e) =>
      isConflict(e) &&
      e.message ===
        `conflict: unable to remove repository reference "app" (must force) - container ffffffffffff is using its referenced image ${id2.slice(7, 19)}`,
  );
  await assert.rejects(
    svc.remove(id2, { inUse: stopped }),
    /unable to delete .* \(must be forced\) - image is being used by stopped container ffffffffffff/,
  );
  // Forced: the image goes, but the container keeps its layers and can still mount them.
  svc.retain(id2);
  const forced = await svc.remove("app", { force: true, inUse: stopped });
  assert.deepEqual(forced, [{ Untagged: "app:latest" }, { Deleted: id2 }]);
  await assert.rejects(svc.inspect(id2), (e) => isNotFound(e));
  assert.equal(svc.layers.list().length, 1);
  const base = join(root, "ctr");
  const dirs = { upperDir: join(base, "u"), workDir: join(base, "w"), target: join(base, "m") };
  for (const d of Object.values(dirs)) await mkdir(d, { recursive: true });
  try {
    await svc.mountRootfs({ imageId: id2, ...dirs });
    assert.equal(await readFile(join(dirs.target, "f"), "utf8"), "b");
  } finally {
    await svc.unmountRootfs(dirs.target);
  }
  svc.release(id2);
  await svc.whenIdle();
  assert.deepEqual(svc.layers.list(), []);
});

test("a busybox image mounts as a working root filesystem", async (t) => {
  const { svc, root, defer } = await newService(t);
  const id = await svc.importTar(busyboxRootfsTar({ gzip: true }), {
    repo: "busybox",
    changes: [...BUSYBOX_CHANGES],
  });
  const base = join(root, "containers", "c1");
  const dirs = { upperDir: join(base, "upper"), workDir: join(base, "work"), target: join(base, "merged") };
  for (const d of Object.values(dirs)) await mkdir(d, { recursive: true });
  defer(() => svc.unmountRootfs(dirs.target));
  await svc.mountRootfs({ imageId: id, ...dirs });
  assert.match(await readFile(join(dirs.target, "etc/passwd"), "utf8"), /^wharf:x:1000:1000:/m);
  const out = execFileSync(
    "chroot",
    [dirs.target, "/bin/sh", "-c", "echo hi > /tmp/x && cat /tmp/x && id -u wharf"],
    {
      encoding: "utf8",
    },
  );
  assert.equal(out, "hi\n1000\n");
  assert.equal(await readFile(join(dirs.upperDir, "tmp/x"), "utf8"), "hi\n");
});

test("state survives a restart, and init repairs what a crash left", async (t) => {
  const { svc, root } = await newService(t);
  const id = await svc.importTar(Readable.from([await small("a")]), { repo: "keep" });
  // A layer unpacked but never recorded (crash before the image record was written).
  const orphan = await svc.layers.applyTar(Readable.from([await small("orphan")]), null);
  // A record whose config blob is gone.
  const ghostId = `sha256:${"d".repeat(64)}`;
  await writeFile(
    join(root, "images", "records", `${"d".repeat(64)}.json`),
    JSON.stringify({ id: ghostId, layers: [] }),
  );

  const again = createImageService({ dataRoot: root });
  await again.init();
  assert.deepEqual((await again.inspect("keep")).Id, id);
  assert.deepEqual(
    (await again.list({})).map((s) => s.Id),
    [id],
  );
  assert.equal(again.layers.get(orphan.chainId), undefined);
  assert.equal(again.layers.list().length, 1);
  assert.equal(again.layers.list()[0].refcount, 1);
  await assert.rejects(again.inspect(ghostId), (e) => isNotFound(e));
});

test("an image with no layers imports from an empty tar and still mounts", async (t) => {
  const { svc, root, defer } = await newService(t);
  const id = await svc.importTar(Readable.from([await makeTar([])]), { repo: "empty" });
  const base = join(root, "c");
  const dirs = { upperDir: join(base, "u"), workDir: join(base, "w"), target: join(base, "m") };
  for (const d of Object.values(dirs)) await mkdir(d, { recursive: true });
  defer(() => svc.unmountRootfs(dirs.target));
  await svc.mountRootfs({ imageId: id, ...dirs });
  assert.deepEqual(await readdir(dirs.target), []);
});
