/**
 * Writing tars with tar-stream: one entry at a time with backpressure, and a host tree with one way of
 * writing each kind of file, for `docker export`, `docker cp` (both ends), the build context, `docker save`
 * and BuildKit's context.
 */
import { constants as fsc } from "node:fs";
import { lstat, open, readdir, readlink, stat } from "node:fs/promises";
import { join } from "node:path";
import { Readable } from "node:stream";
import tar from "tar-stream";

/** A tar being written (tar-stream's pack). */
export type TarPack = tar.Pack;
/** One entry's header. */
export type TarHeader = Partial<tar.Header> & { name: string };

const EMPTY = Buffer.alloc(0);

/** A new tar to add entries to; finalize() it after the last. */
export function tarPack(): TarPack {
  return tar.pack();
}

/**
 * Adds one entry and resolves once it is written. A body given as a stream is copied with backpressure
 * (tar-stream's entries are streamx streams, which node:stream's pipeline does not drive); no body is an
 * empty one.
 */
export function addTarEntry(
  pack: TarPack,
  header: TarHeader,
  body?: Buffer | AsyncIterable<Uint8Array>,
): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const done = (e?: Error | null) => (e ? reject(e) : resolve());
    if (body === undefined || Buffer.isBuffer(body)) {
      pack.entry(header, body ?? EMPTY, done);
      return;
    }
    const entry = pack.entry(header, done);
    void (async () => {
      try {
        for await (const chunk of body)
          if (!entry.write(chunk)) await new Promise<void>((r) => entry.once("drain", () => r()));
        entry.end(undefined);
      } catch (e) {
        entry.destroy(e as Error);
        reject(e);
      }
    })();
  });
}

/** Options of packTree and addTree. */
export interface TreeOptions {
  /** The tar name of the path itself; "" leaves a top directory's own entry out and names children bare. */
  name: string;
  /** Follows the path itself when it is a symlink (docker cp -L); links below it are stored as links. */
  follow?: boolean;
  /** Leaves out a path (relative to the top, slash-separated); a left-out directory's children are still seen. */
  skip?: (rel: string, isDir: boolean) => boolean;
  /** Stores a file with several names once; later names become hard links to the first (export does). */
  hardLinks?: boolean;
  /** Keeps character and block devices (export does; `docker cp` leaves them out, as sockets always are). */
  devices?: boolean;
}

/** A readable tar of `host` (a directory or a single file): names sorted, entries written as they are read. */
export function packTree(host: string, opts: TreeOptions): Readable {
  const pack = tar.pack();
  void addTree(pack, host, opts).then(
    () => pack.finalize(),
    (e: Error) => pack.destroy(e),
  );
  return Readable.from(pack as AsyncIterable<Buffer>);
}

/** Adds `host` (file, directory tree, symlink, fifo) to `pack` under `opts.name`. */
export function addTree(pack: TarPack, host: string, opts: TreeOptions): Promise<void> {
  return addNode(pack, host, { ...opts, rel: "", seen: new Map() });
}

async function addNode(
  pack: TarPack,
  host: string,
  o: TreeOptions & { rel: string; seen: Map<string, string> },
): Promise<void> {
  const { name, rel } = o;
  const st = o.follow ? await stat(host) : await lstat(host);
  const base = { name, mode: Number(st.mode) & 0o7777, uid: st.uid, gid: st.gid, mtime: st.mtime };
  if (st.isDirectory()) {
    if (name !== "" && !o.skip?.(rel, true))
      await addTarEntry(pack, { ...base, name: `${name}/`, type: "directory" });
    for (const child of (await readdir(host)).sort()) {
      await addNode(pack, join(host, child), {
        ...o,
        follow: false,
        name: name ? `${name}/${child}` : child,
        rel: rel ? `${rel}/${child}` : child,
      });
    }
    return;
  }
  if (o.skip?.(rel, false)) return;
  if (st.isSymbolicLink()) {
    await addTarEntry(pack, { ...base, type: "symlink", linkname: await readlink(host) });
  } else if (st.isFile()) {
    const key = `${st.dev}:${st.ino}`;
    const first = o.hardLinks && st.nlink > 1 ? o.seen.get(key) : undefined;
    if (first !== undefined) return addTarEntry(pack, { ...base, type: "link", linkname: first });
    if (o.hardLinks && st.nlink > 1) o.seen.set(key, name);
    const fh = await open(host, fsc.O_RDONLY | (o.follow ? 0 : fsc.O_NOFOLLOW));
    try {
      const header = { ...base, type: "file" as const, size: Number(st.size) };
      await addTarEntry(pack, header, fh.createReadStream({ autoClose: false }));
    } finally {
      await fh.close();
    }
  } else if (st.isFIFO()) {
    await addTarEntry(pack, { ...base, type: "fifo" });
  } else if (o.devices && (st.isCharacterDevice() || st.isBlockDevice())) {
    const { major, minor } = devParts(Number(st.rdev));
    const type = st.isCharacterDevice() ? "character-device" : "block-device";
    await addTarEntry(pack, { ...base, type, devmajor: major, devminor: minor });
  }
}

function devParts(rdev: number): { major: number; minor: number } {
  return { major: (rdev >> 8) & 0xfff, minor: (rdev & 0xff) | ((rdev >> 12) & 0xfff00) };
}
