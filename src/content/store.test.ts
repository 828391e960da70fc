import assert from "node:assert/strict";
import { mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { test } from "node:test";
import { isInvalidParameter, isNotFound } from "../errdefs/index.ts";
import { DigestMismatchError, FsContentStore, sha256Digest } from "./index.ts";

async function tempStore(t: {
  after(fn: () => Promise<void>): void;
}): Promise<{ store: FsContentStore; root: string }> {
  const root = await mkdtemp(join(tmpdir(), "wharf-content-"));
  t.after(() => rm(root, { recursive: true, force: true }));
  const store = new FsContentStore(root);
  await store.init();
  return { store, root };
}

test("writeBlob stores by digest and reads back", async (t) => {
  const { store } = await tempStore(t);
  const info = await store.writeBlob("hello");
  assert.equal(info.digest, sha256Digest("hello"));
  assert.equal(info.size, 5);
  assert.ok(await store.has(info.digest));
  assert.equal((await store.read(info.digest)).toString(), "hello");
  assert.deepEqual(await store.list(), [info]);
  assert.ok(store.path(info.digest).endsWith(`/content/blobs/sha256/${info.digest.slice(7)}`));
  const chunks: Buffer[] = [];
  for await (const c of await store.readStream(info.digest)) chunks.push(c as Buffer);
  assert.equal(Buffer.concat(chunks).toString(), "hello");
});

test("writeBlob with a wrong expected digest throws and stores nothing", async (t) => {
  const { store, root } = await tempStore(t);
  await assert.rejects(store.writeBlob("hello", sha256Digest("other")), DigestMismatchError);
  assert.deepEqual(await store.list(), []);
  assert.deepEqual(await readdir(join(root, "tmp")), []);
});

test("ingest verifies digest and size while streaming and leaves nothing on mismatch", async (t) => {
  const { store, root } = await tempStore(t);
  const data = Buffer.alloc(300_000, 7);
  const digest = sha256Digest(data);
  const chunks = () => Readable.from([data.subarray(0, 100_000), data.subarray(100_000)]);

  await assert.rejects(store.ingest(chunks(), { expectedDigest: sha256Digest("x") }), (e) =>
    isInvalidParameter(e),
  );
  await assert.rejects(store.ingest(chunks(), { expectedSize: 10 }), DigestMismatchError);
  await assert.rejects(store.ingest(chunks(), { expectedSize: 400_000 }), /size mismatch/);
  assert.equal(await store.has(digest), false);
  assert.deepEqual(await readdir(join(root, "tmp")), []);

  const info = await store.ingest(chunks(), { expectedDigest: digest, expectedSize: data.length });
  assert.deepEqual(info, { digest, size: data.length });
  assert.ok((await store.read(digest)).equals(data));
  // Ingesting the same content again is harmless.
  assert.deepEqual(await store.ingest(chunks()), info);
});

test("a failing source stream leaves nothing behind", async (t) => {
  const { store, root } = await tempStore(t);
  async function* broken() {
    yield Buffer.from("partial");
    throw new Error("connection reset");
  }
  await assert.rejects(store.ingest(Readable.from(broken())), /connection reset/);
  assert.deepEqual(await readdir(join(root, "tmp")), []);
  assert.deepEqual(await store.list(), []);
});

test("missing blobs are NotFound, bad digests InvalidParameter", async (t) => {
  const { store } = await tempStore(t);
  const d = sha256Digest("nope");
  await assert.rejects(store.read(d), (e) => isNotFound(e));
  await assert.rejects(store.info(d), (e) => isNotFound(e));
  await assert.rejects(store.readStream(d), (e) => isNotFound(e));
  assert.equal(await store.delete(d), false);
  assert.throws(
    () => store.path("sha256:abc"),
    (e) => isInvalidParameter(e),
  );
  assert.throws(
    () => store.path("md5:0123"),
    (e) => isInvalidParameter(e),
  );
  await assert.rejects(store.ingest(Readable.from([]), { expectedDigest: "bogus" }), (e) =>
    isInvalidParameter(e),
  );
});

test("delete removes a blob; init removes crash leftovers in tmp", async (t) => {
  const { store, root } = await tempStore(t);
  const info = await store.writeBlob("bye");
  assert.equal(await store.delete(info.digest), true);
  assert.equal(await store.has(info.digest), false);

  await writeFile(join(root, "tmp", "ingest-deadbeef"), "half");
  await writeFile(join(root, "tmp", "someone-else"), "keep");
  await store.init();
  assert.deepEqual(await readdir(join(root, "tmp")), ["someone-else"]);
});
