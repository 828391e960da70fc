import assert from "node:assert/strict";
import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { test } from "node:test";
import tar from "tar-stream";
import { unpackContext } from "./context.ts";

type Entry = {
  name: string;
  body?: string;
  type?: "directory" | "symlink";
  linkname?: string;
  mode?: number;
};

async function tarOf(entries: Entry[]): Promise<Readable> {
  const pack = tar.pack();
  for (const e of entries) {
    if (e.type) pack.entry({ name: e.name, type: e.type, linkname: e.linkname, mode: e.mode ?? 0o755 });
    else pack.entry({ name: e.name, mode: e.mode ?? 0o644 }, e.body ?? "");
  }
  pack.finalize();
  const chunks: Buffer[] = [];
  for await (const c of pack as AsyncIterable<Buffer>) chunks.push(c);
  return Readable.from([Buffer.concat(chunks)]);
}

const base: Entry[] = [
  { name: "Dockerfile", body: "FROM scratch\n" },
  { name: ".dockerignore", body: "*.key\nskip\n!skip/keep.txt\n" },
  { name: "a.txt", body: "a" },
  { name: "b.txt", body: "b" },
  { name: "x.key", body: "secret" },
  { name: "skip/", type: "directory" },
  { name: "skip/drop.txt", body: "d" },
  { name: "skip/keep.txt", body: "k" },
  { name: "real/", type: "directory" },
  { name: "real/in.txt", body: "in" },
  { name: "lnk", type: "symlink", linkname: "real" },
];

test("the context is indexed as it streams: .dockerignore, globs, checksums, lazy unpacking", async (t) => {
  const root = await mkdtemp(join(tmpdir(), "wharf-ctx-"));
  t.after(() => rm(root, { recursive: true, force: true }));
  const ctx = await unpackContext(await tarOf(base), join(root, "one"), { dockerfile: "" });
  assert.equal(ctx.dockerfile, "FROM scratch\n");
  assert.ok(!ctx.entries.has("x.key") && !ctx.entries.has("skip/drop.txt"));
  assert.ok(ctx.entries.has("skip/keep.txt") && ctx.entries.has("skip"), "a re-included file keeps its dir");
  assert.deepEqual(
    ctx.findSources(["*.txt"], "COPY")?.map((s) => s.rel),
    ["a.txt", "b.txt"],
  );
  assert.equal(ctx.findSources(["lnk/in.txt"], "COPY"), undefined, "symlinked paths are resolved on disk");
  assert.throws(() => ctx.findSources(["x.key"], "COPY"), /file not found in build context/);
  assert.throws(() => ctx.findSources(["*.nope"], "COPY"), /no source files were specified/);
  assert.deepEqual(await readdir(ctx.dir), [], "nothing unpacked until a step needs files");
  await ctx.materialize();
  assert.deepEqual((await readdir(ctx.dir)).sort(), [
    ".dockerignore",
    "Dockerfile",
    "a.txt",
    "b.txt",
    "lnk",
    "real",
    "skip",
  ]);
  assert.deepEqual(await readdir(join(ctx.dir, "skip")), ["keep.txt"]);
  assert.equal(await readFile(join(ctx.dir, "real/in.txt"), "utf8"), "in");

  const sum = (c: typeof ctx, p: string) => c.checksum(c.findSources([p], "COPY") ?? []);
  const changed = base.map((e) => (e.name === "real/in.txt" ? { ...e, body: "IN" } : e));
  const other = await unpackContext(await tarOf(changed), join(root, "two"), { dockerfile: "" });
  assert.equal(sum(ctx, "a.txt"), sum(other, "a.txt"));
  assert.notEqual(sum(ctx, "real"), sum(other, "real"), "content is in the sum of a directory");
  const chmodded = base.map((e) => (e.name === "a.txt" ? { ...e, mode: 0o600 } : e));
  const third = await unpackContext(await tarOf(chmodded), join(root, "three"), { dockerfile: "" });
  assert.notEqual(sum(ctx, "a.txt"), sum(third, "a.txt"), "modes are in the sum");
});

test("a bare Dockerfile body and a Dockerfile named in the query", async (t) => {
  const root = await mkdtemp(join(tmpdir(), "wharf-ctx-"));
  t.after(() => rm(root, { recursive: true, force: true }));
  const bare = await unpackContext(Readable.from([Buffer.from("FROM busybox\n")]), join(root, "bare"), {
    dockerfile: "",
  });
  assert.equal(bare.dockerfile, "FROM busybox\n");
  const named = await unpackContext(
    await tarOf([...base, { name: "ci/Build.df", body: "FROM x\n" }]),
    join(root, "named"),
    { dockerfile: "ci/Build.df" },
  );
  assert.equal(named.dockerfile, "FROM x\n");
  await assert.rejects(
    unpackContext(await tarOf(base), join(root, "missing"), { dockerfile: "nope" }),
    /Cannot locate specified Dockerfile: nope/,
  );
});
