import { constants as fsc } from "node:fs";
import { lstat, open, readdir, readlink } from "node:fs/promises";
import { join } from "node:path";
import { Readable } from "node:stream";
import tar from "tar-stream";
import type { FilesystemChange } from "../apitypes/index.ts";
import { isErrno } from "../errdefs/index.ts";
import { scanUpperDir } from "../layer/index.ts";

function devParts(rdev: number): { major: number; minor: number } {
  return { major: (rdev >> 8) & 0xfff, minor: (rdev & 0xff) | ((rdev >> 12) & 0xfff00) };
}

async function existsIn(dirs: string[], rel: string): Promise<boolean> {
  for (const d of dirs) {
    try {
      await lstat(join(d, rel));
      return true;
    } catch (e) {
      if (!isErrno(e, "ENOENT") && !isErrno(e, "ENOTDIR")) throw e;
    }
  }
  return false;
}

/**
 * A container's changes from its overlay upper dir: whiteouts are deletions, paths the image's layers
 * have are modifications (parent directories of any change included), the rest additions.
 */
export async function upperChanges(upper: string, lowerDirs: string[]): Promise<FilesystemChange[]> {
  const out: FilesystemChange[] = [];
  for (const e of (await scanUpperDir(upper, { sockets: true })).entries)
    out.push({
      Path: `/${e.rel}`,
      Kind: e.kind === "whiteout" ? 2 : (await existsIn(lowerDirs, e.rel)) ? 0 : 1,
    });
  return out.sort((a, b) => (a.Path < b.Path ? -1 : a.Path > b.Path ? 1 : 0));
}

/** Bytes of the files in a directory tree (directories count nothing; hard links once), as Docker's directory.Size. */
export async function upperSize(dir: string): Promise<number> {
  const seen = new Set<string>();
  const walk = async (d: string): Promise<number> => {
    let names: string[];
    try {
      names = await readdir(d);
    } catch (e) {
      if (isErrno(e, "ENOENT") || isErrno(e, "ENOTDIR")) return 0;
      throw e;
    }
    let total = 0;
    for (const n of names) {
      const st = await lstat(join(d, n)).catch(() => undefined);
      if (!st) continue;
      if (st.isDirectory()) {
        total += await walk(join(d, n));
        continue;
      }
      const key = `${st.dev}:${st.ino}`;
      if (st.nlink > 1 && seen.has(key)) continue;
      seen.add(key);
      total += st.size;
    }
    return total;
  };
  return walk(dir);
}

/** GET /containers/{id}/export: the merged root filesystem as a tar, entries named without a leading slash. */
export function exportRootfs(rootfs: string): Readable {
  const pack = tar.pack();
  // Files with several names are stored once; later names become hard links to the first.
  const seen = new Map<string, string>();
  const add = async (rel: string): Promise<void> => {
    const host = rel ? join(rootfs, rel) : rootfs;
    const st = await lstat(host);
    const base = { name: rel, mode: Number(st.mode) & 0o7777, uid: st.uid, gid: st.gid, mtime: st.mtime };
    if (st.isDirectory()) {
      if (rel) pack.entry({ ...base, name: `${rel}/`, type: "directory" });
      for (const child of (await readdir(host)).sort()) await add(rel ? `${rel}/${child}` : child);
    } else if (st.isSymbolicLink()) {
      pack.entry({ ...base, type: "symlink", linkname: await readlink(host) });
    } else if (st.isFile()) {
      const key = `${st.dev}:${st.ino}`;
      const first = st.nlink > 1 ? seen.get(key) : undefined;
      if (first !== undefined) {
        pack.entry({ ...base, type: "link", linkname: first });
        return;
      }
      if (st.nlink > 1) seen.set(key, rel);
      const fh = await open(host, fsc.O_RDONLY | fsc.O_NOFOLLOW);
      try {
        // tar-stream's entries are streamx streams: written by hand, not through pipeline.
        const entry = pack.entry({ ...base, type: "file", size: Number(st.size) });
        for await (const chunk of fh.createReadStream({ autoClose: false }))
          if (!entry.write(chunk)) await new Promise<void>((resolve) => entry.once("drain", resolve));
        await new Promise<void>((resolve, reject) => {
          entry.once("error", reject);
          entry.end(resolve);
        });
      } finally {
        await fh.close();
      }
    } else if (st.isFIFO()) {
      pack.entry({ ...base, type: "fifo" });
    } else if (st.isCharacterDevice() || st.isBlockDevice()) {
      const { major, minor } = devParts(Number(st.rdev));
      const type = st.isCharacterDevice() ? "character-device" : "block-device";
      pack.entry({ ...base, type, devmajor: major, devminor: minor });
    }
  };
  void add("").then(
    () => pack.finalize(),
    (e: Error) => pack.destroy(e),
  );
  return Readable.from(pack as AsyncIterable<Buffer>);
}
