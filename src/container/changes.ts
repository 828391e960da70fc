import { lstat, readdir } from "node:fs/promises";
import { join } from "node:path";
import type { Readable } from "node:stream";
import type { FilesystemChange } from "../apitypes/index.ts";
import { isErrno } from "../errdefs/index.ts";
import { scanUpperDir } from "../layer/index.ts";
import type { IdMap, IdPair } from "../util/index.ts";
import { packTree } from "../util/tar/index.ts";

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
export function exportRootfs(rootfs: string, idMap?: IdMap): Readable {
  return packTree(rootfs, {
    name: "",
    hardLinks: true,
    devices: true,
    ...(idMap ? { ids: (p: IdPair) => idMap.toContainer(p) } : {}),
  });
}
