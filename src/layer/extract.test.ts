import assert from "node:assert/strict";
import { lstat, mkdir, mkdtemp, readdir, readFile, readlink, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { test } from "node:test";
import { isInvalidParameter } from "../errdefs/index.ts";
import { cleanEntryPath, extractLayer, hostSys } from "./index.ts";
import { makeTar, type TarEntry } from "./testing.ts";

interface Ctx {
  after(fn: () => Promise<void>): void;
}

async function tempDir(t: Ctx, prefix: string): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), prefix));
  t.after(() => rm(d, { recursive: true, force: true }));
  return d;
}

async function extract(t: Ctx, entries: TarEntry[]): Promise<{ root: string; outside: string }> {
  const base = await tempDir(t, "wharf-extract-");
  const root = join(base, "layer", "diff");
  const outside = join(base, "outside");
  await mkdir(root, { recursive: true });
  await mkdir(outside);
  await extractLayer(Readable.from([await makeTar(entries)]), root, { sys: hostSys });
  return { root, outside };
}

async function exists(p: string): Promise<boolean> {
  return lstat(p).then(
    () => true,
    () => false,
  );
}

test("cleanEntryPath confines absolute names and refuses climbing ones", () => {
  assert.equal(cleanEntryPath("/etc/passwd"), "etc/passwd");
  assert.equal(cleanEntryPath("./a/./b/"), "a/b");
  assert.equal(cleanEntryPath("a/../b"), "b");
  assert.equal(cleanEntryPath("/../../x"), "x");
  assert.equal(cleanEntryPath("./"), "");
  for (const bad of ["../x", "a/../../x", "..", "./../x"]) {
    assert.throws(
      () => cleanEntryPath(bad),
      (e) => isInvalidParameter(e),
      bad,
    );
  }
});

test("extracts files, dirs, links and devices with their metadata", async (t) => {
  const mtime = new Date(1_600_000_000_000);
  const { root } = await extract(t, [
    { name: "bin/", type: "directory", mode: 0o750, uid: 5, gid: 6, mtime },
    { name: "bin/tool", content: "#!/bin/sh\n", mode: 0o4755, uid: 1000, gid: 1000, mtime },
    { name: "bin/sh", type: "symlink", linkname: "tool", uid: 7, gid: 8 },
    { name: "bin/hard", type: "link", linkname: "bin/tool" },
    { name: "dev/null", type: "character-device", devmajor: 1, devminor: 3, mode: 0o666 },
    { name: "dev/loop9", type: "block-device", devmajor: 7, devminor: 9, mode: 0o660 },
    { name: "run/fifo", type: "fifo", mode: 0o640 },
    {
      name: "caps",
      content: "x",
      pax: { "SCHILY.xattr.user.bin": Buffer.from([0, 0xff, 0x80, 1]).toString("latin1") },
    },
  ]);
  const tool = await stat(join(root, "bin/tool"));
  assert.equal(tool.mode & 0o7777, 0o4755);
  assert.equal(tool.uid, 1000);
  assert.equal(tool.mtimeMs, mtime.getTime());
  assert.equal(tool.nlink, 2);
  assert.equal((await stat(join(root, "bin/hard"))).ino, tool.ino);
  assert.equal(await readFile(join(root, "bin/tool"), "utf8"), "#!/bin/sh\n");
  const bin = await stat(join(root, "bin"));
  assert.equal(bin.mode & 0o7777, 0o750);
  assert.equal(bin.uid, 5);
  assert.equal(bin.mtimeMs, mtime.getTime(), "directory mtime set after its children");
  assert.equal(await readlink(join(root, "bin/sh")), "tool");
  assert.equal((await lstat(join(root, "bin/sh"))).uid, 7);
  const dev = await stat(join(root, "dev/null"));
  assert.ok(dev.isCharacterDevice());
  assert.equal(dev.rdev, (1 << 8) | 3);
  assert.ok((await stat(join(root, "dev/loop9"))).isBlockDevice());
  assert.ok((await stat(join(root, "run/fifo"))).isFIFO());
  assert.deepEqual(hostSys.attrs.lgetxattr(join(root, "caps"), "user.bin"), Buffer.from([0, 0xff, 0x80, 1]));
});

test("whiteouts become overlay whiteouts and opaque markers", async (t) => {
  const { root } = await extract(t, [
    { name: "a/.wh.gone", uid: 3, gid: 4 },
    { name: "b/.wh..wh..opq" },
    { name: "b/kept", content: "k" },
    { name: "c/.wh..wh.plnk/123" },
  ]);
  const wh = await lstat(join(root, "a/gone"));
  assert.ok(wh.isCharacterDevice());
  assert.equal(wh.rdev, 0);
  assert.equal(wh.uid, 3);
  assert.equal(await exists(join(root, "a/.wh.gone")), false);
  assert.equal(hostSys.attrs.lgetxattr(join(root, "b"), "trusted.overlay.opaque")?.toString(), "y");
  assert.deepEqual(await readdir(join(root, "b")), ["kept"]);
  assert.equal(await exists(join(root, "c/.wh..wh.plnk")), false);
});

test("a bare .wh. entry is refused rather than whiting out its directory", async (t) => {
  await assert.rejects(extract(t, [{ name: "keep/file", content: "x" }, { name: "keep/.wh." }]), (e) =>
    isInvalidParameter(e),
  );
});

test("absolute names are confined to the layer", async (t) => {
  const { root } = await extract(t, [{ name: "/etc/wharf-test-x", content: "x" }]);
  assert.equal(await readFile(join(root, "etc/wharf-test-x"), "utf8"), "x");
  assert.equal(await exists("/etc/wharf-test-x"), false);
});

test("names climbing out of the layer are refused and write nothing outside", async (t) => {
  for (const name of ["../x", "a/../../x", "../outside/x"]) {
    await assert.rejects(extract(t, [{ name, content: "x" }]), (e) => isInvalidParameter(e), name);
  }
});

test("a symlink never carries a later entry out of the layer", async (t) => {
  const base = await tempDir(t, "wharf-escape-");
  const victim = join(base, "victim");
  await mkdir(victim);
  const cases: TarEntry[][] = [
    [
      { name: "a", type: "symlink", linkname: victim },
      { name: "a/pwned", content: "x" },
    ],
    [
      { name: "a", type: "symlink", linkname: "../../../../../../../../../../../.." + victim },
      { name: "a/pwned", content: "x" },
    ],
    [
      { name: "d/", type: "directory" },
      { name: "d/up", type: "symlink", linkname: "../.." },
      { name: "d/up/pwned", content: "x" },
    ],
    // A symlink as the final component is replaced, not written through.
    [
      { name: "pwned", type: "symlink", linkname: join(victim, "pwned") },
      { name: "pwned", content: "x" },
    ],
  ];
  for (const entries of cases) {
    const { root } = await extract(t, entries);
    assert.deepEqual(await readdir(victim), [], JSON.stringify(entries));
    assert.ok((await readdir(root, { recursive: true })).some((p) => p.endsWith("pwned")));
  }
  const { root } = await extract(t, [
    { name: "etc", type: "symlink", linkname: "/real/etc" },
    { name: "etc/passwd", content: "root" },
  ]);
  assert.equal(await readFile(join(root, "real/etc/passwd"), "utf8"), "root");
});

test("hardlinks must point inside the layer", async (t) => {
  const base = await tempDir(t, "wharf-hl-");
  const secret = join(base, "secret");
  await mkdir(secret);
  const cases: TarEntry[][] = [
    [{ name: "h", type: "link", linkname: "../../../../../../../../etc/passwd" }],
    [{ name: "h", type: "link", linkname: "/etc/passwd" }],
    [
      { name: "s", type: "symlink", linkname: "/etc" },
      { name: "h", type: "link", linkname: "s/passwd" },
    ],
    [
      { name: "dir/", type: "directory" },
      { name: "h", type: "link", linkname: "dir" },
    ],
  ];
  for (const entries of cases) {
    await assert.rejects(extract(t, entries), (e) => isInvalidParameter(e), JSON.stringify(entries));
  }
  // A hardlink to a symlink links the symlink itself, never its target.
  const { root } = await extract(t, [
    { name: "s", type: "symlink", linkname: "/etc/passwd" },
    { name: "h", type: "link", linkname: "s" },
  ]);
  assert.equal(await readlink(join(root, "h")), "/etc/passwd");
});

test("later entries replace earlier ones; directories merge", async (t) => {
  const { root } = await extract(t, [
    { name: "x", content: "file" },
    { name: "x/", type: "directory" },
    { name: "x/y", content: "1" },
    { name: "x/", type: "directory", mode: 0o700 },
    { name: "z", type: "symlink", linkname: "x" },
    { name: "z", content: "now a file" },
  ]);
  assert.equal(await readFile(join(root, "x/y"), "utf8"), "1");
  assert.equal((await stat(join(root, "x"))).mode & 0o777, 0o700);
  assert.equal(await readFile(join(root, "z"), "utf8"), "now a file");
});

test("a truncated archive is an error", async (t) => {
  const base = await tempDir(t, "wharf-trunc-");
  const tarBuf = await makeTar([{ name: "big", content: Buffer.alloc(10_000, 1) }]);
  await assert.rejects(extractLayer(Readable.from([tarBuf.subarray(0, 3000)]), base, { sys: hostSys }));
});

test("a directory replaced by a symlink is not stamped through it: nothing outside changes", async (t) => {
  const base = await tempDir(t, "wharf-stamp-");
  const victim = join(base, "victim");
  await mkdir(join(victim, "b"), { recursive: true });
  const before = (await stat(join(victim, "b"))).mtimeMs;
  const { root } = await extract(t, [
    { name: "a/", type: "directory" },
    { name: "a/b/", type: "directory", mtime: new Date(1_000_000_000) },
    { name: "a", type: "symlink", linkname: victim },
  ]);
  assert.equal(await readlink(join(root, "a")), victim);
  assert.equal((await stat(join(victim, "b"))).mtimeMs, before);
});
