import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { lstat, mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { test } from "node:test";
import zlib from "node:zlib";
import { isNotFound } from "../errdefs/index.ts";
import { chainId, chainIds, FsLayerStore, MAX_MOUNT_DATA } from "./index.ts";
import { makeTar, type TarEntry } from "./testing.ts";

interface Ctx {
  after(fn: () => Promise<void> | void): void;
}

// node:test runs after-hooks in registration order; cleanups must run last-in first-out (unmount before rm).
const cleanups = new WeakMap<Ctx, (() => Promise<void> | void)[]>();
function defer(t: Ctx, fn: () => Promise<void> | void): void {
  let list = cleanups.get(t);
  if (!list) {
    const fresh: (() => Promise<void> | void)[] = [];
    cleanups.set(t, fresh);
    t.after(async () => {
      for (const f of fresh.reverse()) await f();
    });
    list = fresh;
  }
  list.push(fn);
}

async function newStore(t: Ctx, rootName = "wharf-layers-"): Promise<{ store: FsLayerStore; root: string }> {
  const root = await mkdtemp(join(tmpdir(), rootName));
  defer(t, () => rm(root, { recursive: true, force: true }));
  const store = new FsLayerStore(root);
  await store.init();
  return { store, root };
}

const sha = (b: Buffer) => `sha256:${createHash("sha256").update(b).digest("hex")}`;
const layerTar = (entries: TarEntry[]) => makeTar(entries);

/** Mounts and registers the unmount before anything can fail. */
async function mountChain(t: Ctx, store: FsLayerStore, top: string | null, base: string): Promise<string> {
  const dirs = { upperDir: join(base, "upper"), workDir: join(base, "work"), target: join(base, "merged") };
  for (const d of Object.values(dirs)) await mkdir(d, { recursive: true });
  defer(t, () => store.unmount(dirs.target));
  await store.mount(top, dirs);
  return dirs.target;
}

test("chain IDs follow the OCI image spec", () => {
  const a = `sha256:${"a".repeat(64)}`;
  const b = `sha256:${"b".repeat(64)}`;
  assert.equal(chainId(null, a), a);
  const ab = `sha256:${createHash("sha256").update(`${a} ${b}`).digest("hex")}`;
  assert.equal(chainId(a, b), ab);
  assert.deepEqual(chainIds([a, b]), [a, ab]);
});

test("applyTar takes plain, gzip and zstd, computes the diff ID of the plain tar and shares the layer", async (t) => {
  const { store, root } = await newStore(t);
  const tarBuf = await layerTar([{ name: "hello.txt", content: "hello world" }]);
  const l1 = await store.applyTar(Readable.from([tarBuf]), null);
  assert.equal(l1.diffId, sha(tarBuf));
  assert.equal(l1.chainId, l1.diffId);
  assert.equal(l1.parent, null);
  assert.equal(l1.size, 11);
  assert.equal(l1.refcount, 1);
  assert.equal(await readFile(join(store.diffDir(l1.chainId), "hello.txt"), "utf8"), "hello world");
  const meta = JSON.parse(await readFile(join(root, "layers", l1.chainId.slice(7), "meta.json"), "utf8"));
  assert.equal(meta.diffId, l1.diffId);
  assert.equal(meta.refcount, 1);

  const l2 = await store.applyTar(Readable.from([zlib.gzipSync(tarBuf)]), null);
  const l3 = await store.applyTar(Readable.from([zlib.zstdCompressSync(tarBuf)]), null);
  assert.equal(l2.chainId, l1.chainId);
  assert.equal(l3.chainId, l1.chainId);
  assert.equal(l3.refcount, 3);
  assert.equal(store.list().length, 1);
  // Staging dirs are gone either way.
  assert.deepEqual(await readdir(join(root, "tmp")), []);
});

test("a failed extraction leaves no layer and no staging dir", async (t) => {
  const { store, root } = await newStore(t);
  await assert.rejects(
    store.applyTar(Readable.from([await layerTar([{ name: "../evil", content: "x" }])]), null),
  );
  await assert.rejects(store.applyTar(Readable.from([Buffer.from("BZh91AY&SY garbage")]), null), /bzip2/);
  assert.deepEqual(store.list(), []);
  assert.deepEqual(await readdir(join(root, "tmp")), []);
  await assert.rejects(store.applyTar(Readable.from([await layerTar([])]), `sha256:${"0".repeat(64)}`), (e) =>
    isNotFound(e),
  );
});

test("refcounts: a layer lives while referenced or while it has children", async (t) => {
  const { store } = await newStore(t);
  const base = await store.applyTar(Readable.from([await layerTar([{ name: "base", content: "b" }])]), null);
  const top = await store.applyTar(
    Readable.from([await layerTar([{ name: "top", content: "t" }])]),
    base.chainId,
  );
  assert.equal(top.chainId, chainId(base.chainId, top.diffId));
  assert.deepEqual(store.lowerDirs(top.chainId), [store.diffDir(top.chainId), store.diffDir(base.chainId)]);

  // The caller's reference to the base can go: the child holds it.
  assert.deepEqual(await store.release(base.chainId), []);
  assert.ok(store.get(base.chainId));
  await store.retain(top.chainId);
  assert.deepEqual(await store.release(top.chainId), []);
  assert.deepEqual(await store.release(top.chainId), [top.chainId, base.chainId]);
  assert.deepEqual(store.list(), []);
  await assert.rejects(store.retain(top.chainId), (e) => isNotFound(e));
});

test("init removes half-done staging, layers without meta.json, and repairs links and counts", async (t) => {
  const { store, root } = await newStore(t);
  const l = await store.applyTar(Readable.from([await layerTar([{ name: "f", content: "1" }])]), null);
  const layers = join(root, "layers");
  await mkdir(join(root, "tmp", "layer-0123abcd", "diff"), { recursive: true });
  await mkdir(join(layers, "f".repeat(64), "diff"), { recursive: true });
  await mkdir(join(layers, "e".repeat(64), "diff"), { recursive: true });
  await writeFile(join(layers, "e".repeat(64), "meta.json"), '{"chainId":');
  await rm(join(layers, "l", l.shortId));
  await symlink("../nowhere/diff", join(layers, "l", "STALELINK"));

  const again = new FsLayerStore(root);
  await again.init();
  assert.deepEqual(await readdir(join(root, "tmp")), []);
  assert.deepEqual((await readdir(layers)).sort(), [l.chainId.slice(7), "empty", "l"].sort());
  assert.deepEqual(await readdir(join(layers, "l")), [l.shortId]);
  assert.deepEqual(again.get(l.chainId), l);

  // The image service knows the real holders; reconcile fixes counts and drops what nobody holds.
  assert.deepEqual(await again.reconcile(new Map()), [l.chainId]);
  assert.deepEqual(again.list(), []);
});

test("whiteouts and opaque dirs hide lower content in a real overlay mount", async (t) => {
  const { store, root } = await newStore(t);
  const lower = await store.applyTar(
    Readable.from([
      await layerTar([
        { name: "a/gone", content: "1" },
        { name: "a/stays", content: "2" },
        { name: "o/old1", content: "3" },
        { name: "o/sub/old2", content: "4" },
      ]),
    ]),
    null,
  );
  const upper = await store.applyTar(
    Readable.from([
      await layerTar([
        { name: "a/.wh.gone" },
        { name: "o/", type: "directory" },
        { name: "o/.wh..wh..opq" },
        { name: "o/new", content: "5" },
      ]),
    ]),
    lower.chainId,
  );
  const merged = await mountChain(t, store, upper.chainId, join(root, "c1"));
  assert.deepEqual((await readdir(join(merged, "a"))).sort(), ["stays"]);
  assert.deepEqual((await readdir(join(merged, "o"))).sort(), ["new"]);
  // Writes go to the container's upper dir, never into the shared layers.
  await writeFile(join(merged, "a", "stays"), "changed");
  assert.equal(await readFile(join(store.diffDir(lower.chainId), "a", "stays"), "utf8"), "2");
  assert.equal(await readFile(join(root, "c1", "upper", "a", "stays"), "utf8"), "changed");
  await store.unmount(merged);
  await store.unmount(merged); // a second unmount is harmless
});

test("an image with no layers still mounts", async (t) => {
  const { store, root } = await newStore(t);
  const merged = await mountChain(t, store, null, join(root, "c"));
  assert.deepEqual(await readdir(merged), []);
  await writeFile(join(merged, "x"), "y");
  assert.deepEqual(await readdir(store.emptyDir), []);
});

test("a chain of 70 layers mounts even with a long data root", async (t) => {
  const { store, root } = await newStore(t, `wharf-layers-${"long-path-component-".repeat(4)}`);
  let top: string | null = null;
  for (let i = 0; i < 70; i++) {
    const l = await store.applyTar(
      Readable.from([await layerTar([{ name: `f${i}`, content: `${i}` }])]),
      top,
    );
    if (top) await store.release(top);
    top = l.chainId;
  }
  const absolute = store
    .lowerDirs(top)
    .map((_, i) => join(store.linkDir, "X".repeat(26) + i))
    .join(":");
  assert.ok(absolute.length > MAX_MOUNT_DATA, "the test must exceed the one-page limit with absolute paths");
  const cwd = process.cwd();
  const merged = await mountChain(t, store, top, join(root, "c"));
  assert.equal(process.cwd(), cwd);
  assert.equal((await readdir(merged)).length, 70);
  assert.equal(await readFile(join(merged, "f0"), "utf8"), "0");
  assert.equal(await readFile(join(merged, "f69"), "utf8"), "69");
  assert.ok((await lstat(join(store.linkDir, store.get(top!)!.shortId))).isSymbolicLink());
});

test("adoptDir moves a diff dir in as a layer on its parent, and a second copy of the same layer only adds a reference", async (t) => {
  const { store, root } = await newStore(t);
  const base = await store.applyTar(Readable.from([layerTar([{ name: "a", content: "A" }])]), null);
  const mk = async (name: string) => {
    const dir = join(root, name);
    await mkdir(dir);
    await writeFile(join(dir, "b"), "BB");
    return dir;
  };
  const dir = await mk("upper1");
  const l = { diffId: sha(Buffer.from("a tar of b")), parent: base.chainId, size: 2 };
  const info = await store.adoptDir(dir, l);
  assert.equal(info.chainId, chainId(base.chainId, l.diffId));
  assert.equal(info.size, 2);
  assert.equal(await readFile(join(store.diffDir(info.chainId), "b"), "utf8"), "BB");
  await assert.rejects(lstat(dir), (e: NodeJS.ErrnoException) => e.code === "ENOENT");
  const again = await store.adoptDir(await mk("upper2"), l);
  assert.equal(again.refcount, 2);
  const merged = await mountChain(t, store, info.chainId, join(root, "m"));
  assert.deepEqual((await readdir(merged)).sort(), ["a", "b"]);
});
