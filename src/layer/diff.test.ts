import assert from "node:assert/strict";
import {
  link,
  lstat,
  mkdir,
  mkdtemp,
  readFile,
  readlink,
  rm,
  symlink,
  utimes,
  writeFile,
} from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import tar from "tar-stream";
import { extractLayer, feedTar, hostSys, OVERLAY_OPAQUE_XATTR, scanUpperDir } from "./index.ts";

async function entriesOf(stream: NodeJS.ReadableStream): Promise<tar.Header[]> {
  const ex = tar.extract();
  const feeding = feedTar(stream as never, ex);
  const out: tar.Header[] = [];
  for await (const e of ex) {
    out.push(e.header);
    e.resume();
  }
  await feeding;
  return out;
}

test("an upper dir becomes a layer tar with whiteouts, opaque dirs, links and owners, and extracts back", async (t) => {
  const base = await mkdtemp(join(tmpdir(), "wharf-diff-"));
  t.after(() => rm(base, { recursive: true, force: true }));
  const upper = join(base, "upper");
  await mkdir(join(upper, "etc/sub"), { recursive: true });
  await writeFile(join(upper, "etc/app.conf"), "x=1\n", { mode: 0o640 });
  await link(join(upper, "etc/app.conf"), join(upper, "etc/hard"));
  await symlink("app.conf", join(upper, "etc/soft"));
  hostSys.attrs.mknod(join(upper, "etc/gone"), 0o020000, { major: 0, minor: 0 });
  hostSys.attrs.lsetxattr(join(upper, "etc/sub"), OVERLAY_OPAQUE_XATTR, Buffer.from("y"));
  hostSys.attrs.lsetxattr(join(upper, "etc/app.conf"), "user.note", Buffer.from("hello"));
  await import("node:fs/promises").then((f) => f.lchown(join(upper, "etc/app.conf"), 1000, 1001));
  await utimes(join(upper, "etc/app.conf"), 1_600_000_000, 1_600_000_000);

  const diff = await scanUpperDir(upper, { sys: hostSys });
  assert.deepEqual(
    diff.entries.map((e) => `${e.kind}:${e.rel}`),
    ["dir:etc", "file:etc/app.conf", "whiteout:etc/gone", "file:etc/hard", "symlink:etc/soft", "dir:etc/sub"],
  );
  const headers = await entriesOf(diff.tar());
  const byName = new Map(headers.map((h) => [h.name, h]));
  assert.equal(byName.get("etc/.wh.gone")?.type, "file");
  assert.equal(byName.get("etc/sub/.wh..wh..opq")?.type, "file");
  assert.equal(byName.get("etc/hard")?.type, "link");
  assert.equal(byName.get("etc/hard")?.linkname, "etc/app.conf");
  const conf = byName.get("etc/app.conf");
  assert.equal(conf?.uid, 1000);
  assert.equal(conf?.gid, 1001);
  assert.equal(conf?.mode, 0o640);
  assert.equal(conf?.mtime?.getTime(), 1_600_000_000_000);
  assert.equal((conf?.pax as Record<string, string> | undefined)?.["SCHILY.xattr.user.note"], "hello");

  // Extracting the diff as a layer gives overlay's form back.
  const out = join(base, "out");
  await mkdir(out);
  await extractLayer(diff.tar(), out, { sys: hostSys });
  assert.equal(await readFile(join(out, "etc/app.conf"), "utf8"), "x=1\n");
  assert.equal((await lstat(join(out, "etc/gone"))).isCharacterDevice(), true);
  assert.equal(hostSys.attrs.lgetxattr(join(out, "etc/sub"), OVERLAY_OPAQUE_XATTR)?.toString(), "y");
  assert.equal(await readlink(join(out, "etc/soft")), "app.conf");
  assert.equal((await lstat(join(out, "etc/hard"))).ino, (await lstat(join(out, "etc/app.conf"))).ino);
});

test("exclude drops an entry and what is below it; a missing upper dir is an empty diff", async (t) => {
  const base = await mkdtemp(join(tmpdir(), "wharf-diff-"));
  t.after(() => rm(base, { recursive: true, force: true }));
  await mkdir(join(base, "u/skip/deep"), { recursive: true });
  await writeFile(join(base, "u/keep"), "");
  const diff = await scanUpperDir(join(base, "u"), { sys: hostSys, exclude: (e) => e.rel === "skip" });
  assert.deepEqual(
    diff.entries.map((e) => e.rel),
    ["keep"],
  );
  assert.equal((await scanUpperDir(join(base, "nope"), { sys: hostSys })).entries.length, 0);
});

test("binary xattrs (security.capability-like values) survive the diff byte for byte, long paths too", async (t) => {
  const base = await mkdtemp(join(tmpdir(), "wharf-diff-"));
  t.after(() => rm(base, { recursive: true, force: true }));
  const upper = join(base, "upper");
  const deep = `d/${"x".repeat(60)}/${"y".repeat(60)}`;
  await mkdir(join(upper, deep), { recursive: true });
  const value = Buffer.from([1, 0, 0, 2, 0x20, 0x04, 0, 0, 0xff, 0x80, 0xc3, 0]);
  const files = ["bin/ping", `${deep}/tool`];
  for (const f of files) {
    await mkdir(join(upper, f, ".."), { recursive: true });
    await writeFile(join(upper, f), "elf");
    hostSys.attrs.lsetxattr(join(upper, f), "user.cap", value);
    hostSys.attrs.lsetxattr(join(upper, f), "user.note", Buffer.from("héllo"));
  }
  const diff = await scanUpperDir(upper, { sys: hostSys });
  const out = join(base, "out");
  await mkdir(out);
  await extractLayer(diff.tar(), out, { sys: hostSys });
  for (const f of files) {
    assert.equal(await readFile(join(out, f), "utf8"), "elf");
    assert.deepEqual(hostSys.attrs.lgetxattr(join(out, f), "user.cap"), value, f);
    assert.equal(hostSys.attrs.lgetxattr(join(out, f), "user.note")?.toString("utf8"), "héllo");
  }
  const names = (await entriesOf(diff.tar())).map((h) => h.name);
  assert.ok(names.includes(`${deep}/tool`), "the PAX path names the long entry");
});

test("under fuse-overlayfs, its .wh..wh..opq and .wh.NAME files are an opaque dir and whiteouts", async (t) => {
  const { setOverlayMountProgram } = await import("../host/index.ts");
  const dir = await mkdtemp(join(tmpdir(), "diff-fuse-"));
  t.after(async () => {
    setOverlayMountProgram(undefined);
    await rm(dir, { recursive: true, force: true });
  });
  await mkdir(join(dir, "d"));
  await writeFile(join(dir, "d", ".wh..wh..opq"), "");
  await writeFile(join(dir, "d", "kept"), "k");
  await writeFile(join(dir, ".wh.gone"), "");
  setOverlayMountProgram("/usr/bin/fuse-overlayfs");
  const diff = await scanUpperDir(dir, { sys: hostSys });
  assert.deepEqual(
    diff.entries.map((e) => [e.rel, e.kind, e.opaque]),
    [
      ["gone", "whiteout", false],
      ["d", "dir", true],
      ["d/kept", "file", false],
    ],
  );
  const names = (await entriesOf(diff.tar())).map((h) => h.name);
  assert.deepEqual(names, [".wh.gone", "d/", "d/.wh..wh..opq", "d/kept"]);
  setOverlayMountProgram(undefined);
  const plain = await scanUpperDir(dir, { sys: hostSys });
  assert.ok(
    plain.entries.some((e) => e.rel === "d/.wh..wh..opq"),
    "the kernel's overlayfs leaves no such files",
  );
});
