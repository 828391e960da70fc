/**
 * A directory tree as a tar, for `docker export` (the merged rootfs) and `docker cp` out of a container
 * (one path): one walk and one way of writing each kind of file, so the two cannot drift apart.
 */
import { constants as fsc } from "node:fs";
import { lstat, open, readdir, readlink } from "node:fs/promises";
import { join } from "node:path";
import { Readable } from "node:stream";
import tar from "tar-stream";

/** Options of packTree. */
export interface PackOptions {
  /** The tar name of `host` itself; "" leaves the top directory's own entry out and names children bare. */
  name: string;
  /** Stores a file with several names once; later names become hard links to the first (export does). */
  hardLinks?: boolean;
  /** Keeps character and block devices (export does; `docker cp` leaves them out, as sockets always are). */
  devices?: boolean;
}

/** Packs `host` (a directory or a single file), names sorted, entries written as they are read. */
export function packTree(host: string, opts: PackOptions): Readable {
  const pack = tar.pack();
  const seen = new Map<string, string>();
  void addEntry(pack, host, { ...opts, seen }).then(
    () => pack.finalize(),
    (e: Error) => pack.destroy(e),
  );
  return Readable.from(pack as AsyncIterable<Buffer>);
}

async function addEntry(
  pack: tar.Pack,
  host: string,
  o: PackOptions & { seen: Map<string, string> },
): Promise<void> {
  const name = o.name;
  const st = await lstat(host);
  const base = { name, mode: Number(st.mode) & 0o7777, uid: st.uid, gid: st.gid, mtime: st.mtime };
  if (st.isDirectory()) {
    if (name) pack.entry({ ...base, name: `${name}/`, type: "directory" });
    for (const child of (await readdir(host)).sort())
      await addEntry(pack, join(host, child), { ...o, name: name ? `${name}/${child}` : child });
  } else if (st.isSymbolicLink()) {
    pack.entry({ ...base, type: "symlink", linkname: await readlink(host) });
  } else if (st.isFile()) {
    const key = `${st.dev}:${st.ino}`;
    const first = o.hardLinks && st.nlink > 1 ? o.seen.get(key) : undefined;
    if (first !== undefined) {
      pack.entry({ ...base, type: "link", linkname: first });
      return;
    }
    if (o.hardLinks && st.nlink > 1) o.seen.set(key, name);
    const fh = await open(host, fsc.O_RDONLY | fsc.O_NOFOLLOW);
    try {
      // tar-stream's entries are streamx streams, which node:stream's pipeline does not drive; write by hand.
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
  } else if (o.devices && (st.isCharacterDevice() || st.isBlockDevice())) {
    const { major, minor } = devParts(Number(st.rdev));
    const type = st.isCharacterDevice() ? "character-device" : "block-device";
    pack.entry({ ...base, type, devmajor: major, devminor: minor });
  }
}

function devParts(rdev: number): { major: number; minor: number } {
  return { major: (rdev >> 8) & 0xfff, minor: (rdev & 0xff) | ((rdev >> 12) & 0xfff00) };
}
