import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { chown, link, mkdir, mkdtemp, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { after, before, test } from "node:test";
import tar from "tar-stream";
import { parseDockerignore } from "../dockerignore.ts";
import { addContext, addTarEntry, packTree, tarPack } from "./index.ts";

interface Seen {
  name: string;
  type: string;
  linkname?: string;
  body: string;
  owner?: string;
}

async function entries(stream: Readable, owners = false): Promise<Seen[]> {
  const ex = tar.extract();
  stream.pipe(ex as unknown as NodeJS.WritableStream);
  const out: Seen[] = [];
  for await (const e of ex) {
    const parts: Buffer[] = [];
    for await (const c of e) parts.push(c as Buffer);
    const h = e.header;
    const seen: Seen = {
      name: h.name,
      type: h.type,
      linkname: h.linkname || undefined,
      body: Buffer.concat(parts).toString(),
    };
    if (owners) seen.owner = `${h.uid}:${h.gid}`;
    out.push(seen);
  }
  return out;
}

let dir = "";
before(async () => {
  dir = await mkdtemp(join(tmpdir(), "wharf-tar-"));
  await mkdir(join(dir, "top/sub"), { recursive: true });
  await writeFile(join(dir, "top/b.txt"), "bee");
  await writeFile(join(dir, "top/sub/a.txt"), "ay");
  await link(join(dir, "top/b.txt"), join(dir, "top/c.txt"));
  await symlink("b.txt", join(dir, "top/link"));
  execFileSync("mkfifo", [join(dir, "top/pipe")]);
  await symlink("top", join(dir, "alias"));
});
after(() => rm(dir, { recursive: true, force: true }));

test("packs a tree: sorted names, each kind of file, hard links on request", async () => {
  const seen = await entries(packTree(join(dir, "top"), { name: "t", hardLinks: true }));
  assert.deepEqual(seen, [
    { name: "t/", type: "directory", linkname: undefined, body: "" },
    { name: "t/b.txt", type: "file", linkname: undefined, body: "bee" },
    { name: "t/c.txt", type: "link", linkname: "t/b.txt", body: "" },
    { name: "t/link", type: "symlink", linkname: "b.txt", body: "" },
    { name: "t/pipe", type: "fifo", linkname: undefined, body: "" },
    { name: "t/sub/", type: "directory", linkname: undefined, body: "" },
    { name: "t/sub/a.txt", type: "file", linkname: undefined, body: "ay" },
  ]);
});

test("an empty name leaves the top out; skip leaves paths out; follow reads through a top symlink", async () => {
  const skip = (rel: string) => rel === "sub" || rel === "pipe";
  const seen = await entries(packTree(join(dir, "alias"), { name: "", follow: true, skip }));
  assert.deepEqual(
    seen.map((e) => `${e.type} ${e.name} ${e.body}`),
    ["file b.txt bee", "file c.txt bee", "symlink link ", "file sub/a.txt ay"],
  );
  const link = await entries(packTree(join(dir, "alias"), { name: "alias" }));
  assert.deepEqual(link, [{ name: "alias", type: "symlink", linkname: "top", body: "" }]);
});

test("addTarEntry writes a buffer or a stream, and resolves once written", async () => {
  const pack = tarPack();
  const out = entries(pack as unknown as Readable);
  await addTarEntry(pack, { name: "a", size: 2 }, Buffer.from("hi"));
  await addTarEntry(pack, { name: "b", size: 6 }, Readable.from([Buffer.from("str"), Buffer.from("eam")]));
  await addTarEntry(pack, { name: "d/", type: "directory" });
  pack.finalize();
  assert.deepEqual(
    (await out).map((e) => `${e.type} ${e.name} ${e.body}`),
    ["file a hi", "file b stream", "directory d/ "],
  );
});

test('a top named "." keeps its entry and prefixes the names (docker cp out of dir/.)', async () => {
  const seen = await entries(packTree(join(dir, "top/sub"), { name: "." }));
  assert.deepEqual(
    seen.map((e) => e.name),
    ["./", "./a.txt"],
  );
});

test("a build context leaves out what .dockerignore excludes, keeps what it must, all owned by root", async () => {
  const ctx = join(dir, "ctx");
  await mkdir(join(ctx, "node_modules/x"), { recursive: true });
  await mkdir(join(ctx, "src"), { recursive: true });
  await writeFile(join(ctx, "node_modules/x/i.js"), "");
  await writeFile(join(ctx, "src/app.js"), "app");
  await writeFile(join(ctx, "debug.log"), "");
  await writeFile(join(ctx, "Dockerfile"), "FROM x");
  await writeFile(join(ctx, ".dockerignore"), "node_modules\n*.log\nDockerfile\n.dockerignore\n");
  await chown(join(ctx, "src/app.js"), 1000, 1000);
  const pack = tarPack();
  const out = entries(pack as unknown as Readable, true);
  const rules = parseDockerignore("node_modules\n*.log\nDockerfile\n.dockerignore\n");
  await addContext(pack, ctx, { rules, keep: new Set(["Dockerfile", ".dockerignore"]) });
  pack.finalize();
  assert.deepEqual(
    (await out).map((e) => `${e.name} ${e.owner}`),
    [".dockerignore 0:0", "Dockerfile 0:0", "src/ 0:0", "src/app.js 0:0"],
  );
});
