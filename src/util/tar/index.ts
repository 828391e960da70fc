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
import type { IgnoreMatcher } from "../dockerignore.ts";

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
    // An entry destroyed with an error (its source failed, or the pack went first) emits 'error'; a streamx
    // stream without a listener for it throws out of the daemon (a build client gone mid-context did).
    if (body === undefined || Buffer.isBuffer(body)) {
      pack.entry(header, body ?? EMPTY, done).on("error", done);
      return;
    }
    const entry = pack.entry(header, done);
    entry.on("error", done);
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
  /** Stores every entry with this owner instead of the file's. */
  owner?: { uid: number; gid: number };
  /** Rewrites each file's owner (a remapped container's host ids back to the ids it sees). */
  ids?: (p: { uid: number; gid: number }) => { uid: number; gid: number };
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
  const { uid, gid } = o.owner ?? (o.ids ? o.ids({ uid: st.uid, gid: st.gid }) : st);
  const base = { name, mode: Number(st.mode) & 0o7777, uid, gid, mtime: st.mtime };
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

/** What addContext leaves out and what it keeps. */
export interface ContextOptions {
  /** The context's .dockerignore. */
  rules: IgnoreMatcher;
  /** Paths sent even when .dockerignore excludes them: the Dockerfile and .dockerignore, as docker sends them. */
  keep: ReadonlySet<string>;
}

const ROOT = { uid: 0, gid: 0 };

/**
 * A build context: the tree under `root` minus what .dockerignore excludes, names sorted, every entry owned
 * by root as the docker CLI sends it. Without `!` exceptions nothing under an excluded directory can come
 * back, so such a directory is not walked.
 */
export function addContext(pack: TarPack, root: string, opts: ContextOptions): Promise<void> {
  return addContextDir(pack, root, "", opts);
}

async function addContextDir(pack: TarPack, root: string, rel: string, o: ContextOptions): Promise<void> {
  for (const name of (await readdir(join(root, rel))).sort()) {
    const r = rel ? `${rel}/${name}` : name;
    const abs = join(root, r);
    const st = await lstat(abs);
    const excluded = !o.keep.has(r) && o.rules.ignores(r);
    if (st.isDirectory()) {
      if (excluded && !o.rules.hasExceptions && ![...o.keep].some((k) => k.startsWith(`${r}/`))) continue;
      if (!excluded) {
        const header = { name: `${r}/`, type: "directory" as const, mode: st.mode & 0o7777, mtime: st.mtime };
        await addTarEntry(pack, { ...header, ...ROOT });
      }
      await addContextDir(pack, root, r, o);
    } else if (!excluded) {
      await addTree(pack, abs, { name: r, owner: ROOT });
    }
  }
}

function devParts(rdev: number): { major: number; minor: number } {
  return { major: (rdev >> 8) & 0xfff, minor: (rdev & 0xff) | ((rdev >> 12) & 0xfff00) };
}
