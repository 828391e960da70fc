/**
 * The reverse of extract.ts: an overlay upper dir (a container's or a build step's changes) as a layer tar,
 * with overlay's whiteouts turned back into the OCI `.wh.` form.
 */
import { constants as fsc, type Stats } from "node:fs";
import { lstat, open, readdir, readlink } from "node:fs/promises";
import { join } from "node:path";
import { Readable } from "node:stream";
import tar from "tar-stream";
import { isErrno } from "../errdefs/index.ts";
import { log } from "../util/index.ts";
import { WHITEOUT_OPAQUE, WHITEOUT_PREFIX } from "./extract.ts";
import { XATTR_PREFIX } from "./pax.ts";
import { type LayerSys, OVERLAY_OPAQUE_XATTR } from "./sys.ts";

/** What one entry of a diff is. */
export type DiffKind = "dir" | "file" | "symlink" | "whiteout" | "fifo" | "chardev" | "blockdev";

/** One entry of an upper dir, as scanned. */
export interface DiffEntry {
  /** Path relative to the upper dir, "/"-separated, no leading slash. */
  rel: string;
  kind: DiffKind;
  st: Stats;
  /** The directory hides everything below it in lower layers. */
  opaque: boolean;
  xattrs: Record<string, string>;
}

/** Options of `scanUpperDir`. */
export interface DiffOptions {
  sys: Pick<LayerSys, "lgetxattr" | "llistxattr">;
  /** Leaves an entry (and, for a directory, everything below it) out of the diff. */
  exclude?: (e: DiffEntry) => boolean;
}

/** A scanned upper dir, ready to be written as a tar. */
export interface UpperDiff {
  entries: DiffEntry[];
  /** The layer tar (uncompressed); each call starts a new stream. */
  tar(): Readable;
}

/** Walks an upper dir (parents before children, names sorted, so equal trees give equal tars). */
export async function scanUpperDir(upper: string, opts: DiffOptions): Promise<UpperDiff> {
  const entries: DiffEntry[] = [];
  const walk = async (dir: string, relDir: string): Promise<void> => {
    let names: string[];
    try {
      names = (await readdir(dir)).sort();
    } catch (e) {
      if (isErrno(e, "ENOENT") && relDir === "") return;
      throw e;
    }
    for (const name of names) {
      const abs = join(dir, name);
      const rel = relDir ? `${relDir}/${name}` : name;
      const st = await lstat(abs);
      const kind = kindOf(st);
      if (!kind) {
        log("warn", "layer: diff skips a socket", { path: rel });
        continue;
      }
      const e: DiffEntry = {
        rel,
        kind,
        st,
        opaque: kind === "dir" && isOpaque(abs, opts.sys),
        xattrs: kind === "whiteout" ? {} : readXattrs(abs, opts.sys),
      };
      if (opts.exclude?.(e)) continue;
      entries.push(e);
      if (kind === "dir") await walk(abs, rel);
    }
  };
  await walk(upper, "");
  return { entries, tar: () => packDiff(upper, entries) };
}

function kindOf(st: Stats): DiffKind | undefined {
  if (st.isDirectory()) return "dir";
  if (st.isFile()) return "file";
  if (st.isSymbolicLink()) return "symlink";
  if (st.isFIFO()) return "fifo";
  // overlayfs records a deletion as a 0/0 character device.
  if (st.isCharacterDevice()) return st.rdev === 0 ? "whiteout" : "chardev";
  if (st.isBlockDevice()) return "blockdev";
  return undefined;
}

function isOpaque(abs: string, sys: DiffOptions["sys"]): boolean {
  try {
    return sys.lgetxattr(abs, OVERLAY_OPAQUE_XATTR)?.toString() === "y";
  } catch {
    return false;
  }
}

function readXattrs(abs: string, sys: DiffOptions["sys"]): Record<string, string> {
  const out: Record<string, string> = {};
  let names: string[];
  try {
    names = sys.llistxattr(abs);
  } catch {
    return out;
  }
  for (const name of names) {
    // overlay's bookkeeping (opaque, origin, impure, redirect) is not part of the layer.
    if (name.startsWith("trusted.overlay.")) continue;
    let v: Buffer | undefined;
    try {
      v = sys.lgetxattr(abs, name);
    } catch {
      continue;
    }
    if (!v) continue;
    const text = v.toString("utf8");
    // tar-stream writes PAX values as UTF-8 text; a binary value would come back altered, so it is left out.
    if (!Buffer.from(text, "utf8").equals(v)) {
      log("warn", "layer: diff leaves out a binary xattr", { path: abs, xattr: name });
      continue;
    }
    out[`${XATTR_PREFIX}${name}`] = text;
  }
  return out;
}

// A file entry given no body waits for one to be written; empty markers pass an empty one.
const EMPTY = Buffer.alloc(0);

function packDiff(upper: string, entries: DiffEntry[]): Readable {
  const pack = tar.pack();
  void (async () => {
    try {
      const inodes = new Map<string, string>();
      for (const e of entries) await writeEntry(pack, upper, e, inodes);
      pack.finalize();
    } catch (err) {
      pack.destroy(err as Error);
    }
  })();
  return Readable.from(pack as AsyncIterable<Buffer>);
}

async function writeEntry(pack: tar.Pack, upper: string, e: DiffEntry, inodes: Map<string, string>) {
  const st = e.st;
  const base = {
    mode: Number(st.mode) & 0o7777,
    uid: st.uid,
    gid: st.gid,
    mtime: st.mtime,
    ...(Object.keys(e.xattrs).length ? { pax: e.xattrs } : {}),
  };
  const slash = e.rel.lastIndexOf("/");
  const dir = slash < 0 ? "" : e.rel.slice(0, slash + 1);
  const name = e.rel.slice(slash + 1);
  switch (e.kind) {
    case "whiteout":
      pack.entry(
        { ...base, mode: 0o600, name: `${dir}${WHITEOUT_PREFIX}${name}`, type: "file", size: 0 },
        EMPTY,
      );
      return;
    case "dir":
      pack.entry({ ...base, name: `${e.rel}/`, type: "directory" });
      if (e.opaque)
        pack.entry(
          { ...base, pax: undefined, name: `${e.rel}/${WHITEOUT_OPAQUE}`, type: "file", size: 0 },
          EMPTY,
        );
      return;
    case "symlink":
      pack.entry({ ...base, name: e.rel, type: "symlink", linkname: await readlink(join(upper, e.rel)) });
      return;
    case "fifo":
      pack.entry({ ...base, name: e.rel, type: "fifo" });
      return;
    case "chardev":
    case "blockdev":
      pack.entry({
        ...base,
        name: e.rel,
        type: e.kind === "chardev" ? "character-device" : "block-device",
        devmajor: major(st.rdev),
        devminor: minor(st.rdev),
      });
      return;
    case "file": {
      if (st.nlink > 1) {
        const key = `${st.dev}:${st.ino}`;
        const first = inodes.get(key);
        if (first) {
          pack.entry({ ...base, name: e.rel, type: "link", linkname: first });
          return;
        }
        inodes.set(key, e.rel);
      }
      const fh = await open(join(upper, e.rel), fsc.O_RDONLY | fsc.O_NOFOLLOW);
      try {
        // tar-stream entries are streamx streams: write by hand, with backpressure.
        const entry = pack.entry({ ...base, name: e.rel, type: "file", size: Number(st.size) });
        for await (const chunk of fh.createReadStream({ autoClose: false })) {
          if (!entry.write(chunk)) await new Promise<void>((resolve) => entry.once("drain", resolve));
        }
        await new Promise<void>((resolve, reject) => {
          entry.once("error", reject);
          entry.end(resolve);
        });
      } finally {
        await fh.close();
      }
    }
  }
}

// Linux's dev_t encoding (glibc's gnu_dev_major/minor).
function major(dev: number): number {
  return ((dev >>> 8) & 0xfff) | (Math.floor(dev / 2 ** 32) & ~0xfff);
}

function minor(dev: number): number {
  return (dev & 0xff) | ((dev >>> 12) & ~0xff & 0xfffff);
}
