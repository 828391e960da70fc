import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { type ImageRecord, ImageRecords } from "./records.ts";

const d = (c: string) => `sha256:${c.repeat(64)}`;
const layer = (digest: string) => ({ diffId: digest, chainId: digest, digest, mediaType: "m", size: 1 });

test("a blob is in use while any record references it, through puts, deletes and a reload", async (t) => {
  const root = await mkdtemp(join(tmpdir(), "wharf-records-"));
  t.after(() => rm(root, { recursive: true, force: true }));
  const records = new ImageRecords(join(root, "images"), root);
  await records.init();
  const a: ImageRecord = { id: d("a"), manifestDigest: d("m"), layers: [layer(d("1")), layer(d("2"))] };
  const b: ImageRecord = { id: d("b"), layers: [layer(d("1")), layer(d("3")), layer(d("3"))] };
  await records.put(a);
  await records.put(b);
  for (const x of ["a", "m", "1", "2", "b", "3"]) assert.ok(records.blobInUse(d(x)), x);
  assert.equal(records.blobInUse(d("c")), false);
  // Putting a record again (a tag time, a ghost flag) counts it once.
  await records.put({ ...a, ghost: true });
  await records.delete(a.id);
  for (const x of ["a", "m", "2"]) assert.equal(records.blobInUse(d(x)), false, x);
  for (const x of ["1", "b", "3"]) assert.ok(records.blobInUse(d(x)), x);
  const again = new ImageRecords(join(root, "images"), root);
  await again.init();
  assert.ok(again.blobInUse(d("3")));
  await again.delete(b.id);
  for (const x of ["1", "b", "3"]) assert.equal(again.blobInUse(d(x)), false, x);
});
