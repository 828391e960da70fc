import { constants as fsc } from "node:fs";
import { chmod, lchown, link, lstat, lutimes, mkdir, readlink, rm, symlink } from "node:fs/promises";
import { join, posix } from "node:path";
import type { Readable } from "node:stream";
import tar from "tar-stream";
import { InvalidParameterError, isErrno } from "../errdefs/index.ts";
import { type IdMap, log, writeChunks } from "../util/index.ts";
import { useBinarySafePax, XATTR_PREFIX } from "./pax.ts";
import { type LayerSys, OVERLAY_OPAQUE_XATTR, S_IFMT } from "./sys.ts";

/** The layer tar's naming of overlay/AUFS whiteouts (OCI image spec, "Whiteouts"). */
export const WHITEOUT_PREFIX = ".wh.";
/** Marks its directory opaque: nothing from lower layers shows through. */
export const WHITEOUT_OPAQUE = ".wh..wh..opq";
/** Other `.wh..wh.` names are AUFS bookkeeping that carry nothing for overlay. */
const WHITEOUT_META_PREFIX = ".wh..wh.";

/** Linux's limit on symlinks followed while resolving one path. */
const MAX_SYMLINKS = 40;

/** What one extraction produced. */
export interface ExtractStats {
  /** Sum of regular-file sizes (hardlinks counted once), as Docker reports a layer's size. */
  size: number;
  entries: number;
}

/** Options of `extractLayer`. */
export interface ExtractOptions {
  sys: LayerSys;
  /** `--userns-remap`: owners are shifted onto the host's ranges, so the remapped root owns the layer's root files. */
  idMap?: IdMap;
}

interface Header {
  name: string;
  type?: string | null;
  mode?: number;
  uid?: number;
  gid?: number;
  size?: number;
  mtime?: Date;
  linkname?: string | null;
  devmajor?: number;
  devminor?: number;
  pax?: Record<string, string> | null;
}

/**
 * Cleans a tar entry name into a path relative to the layer root, as Docker does: absolute names are taken as
 * relative to the root, `.`/`..` are resolved lexically, and a name that still climbs above the root is refused.
 * Returns "" for the root itself.
 */
export function cleanEntryPath(name: string): string {
  const norm = posix.normalize(name.replace(/\/+$/, "") || ".");
  if (norm === ".." || norm.startsWith("../")) {
    throw new InvalidParameterError(
      `invalid tar entry ${JSON.stringify(name)}: path is outside of the layer`,
    );
  }
  const rel = norm.replace(/^\/+/, "");
  return rel === "." ? "" : rel;
}

/**
 * Extracts an uncompressed layer tar into `root` (an empty directory), converting whiteouts to overlayfs form.
 * Nothing is ever written outside `root`: symlinks met on the way to an entry are resolved as if `root` were
 * `/`, and the final component of an entry is replaced, never followed.
 */
export async function extractLayer(src: Readable, root: string, opts: ExtractOptions): Promise<ExtractStats> {
  const ex = tar.extract();
  useBinarySafePax(ex);
  const feeding = feed(src, ex);
  // A source that fails midway (a bomb cut off, a download cut) ends the entry loop below with its error;
  // without this the loop waited for entries that never came.
  feeding.catch((e: unknown) => ex.destroy(e as Error));
  const x = new Extractor(root, opts.sys, opts.idMap);
  try {
    for await (const entry of ex) {
      await x.entry(entry.header as Header, entry as AsyncIterable<Buffer>);
    }
    await feeding;
  } catch (e) {
    src.destroy();
    ex.destroy();
    throw e;
  }
  await x.finish();
  return { size: x.size, entries: x.count };
}

class Extractor {
  readonly root: string;
  readonly sys: LayerSys;
  readonly idMap: IdMap | undefined;
  size = 0;
  count = 0;
  // Parent dir (relative, as named in the archive) → its real path; dropped whenever the tree's shape changes.
  private dirCache = new Map<string, string>();
  private dirTimes: { path: string; atime: number; mtime: number }[] = [];

  constructor(root: string, sys: LayerSys, idMap?: IdMap) {
    this.root = root;
    this.sys = sys;
    this.idMap = idMap;
  }

  /** Sets the owner an entry names (shifted onto the host's ranges under a remapping). */
  private async own(target: string, hdr: { uid?: number; gid?: number }): Promise<void> {
    const ids = { uid: hdr.uid ?? 0, gid: hdr.gid ?? 0 };
    const { uid, gid } = this.idMap ? this.idMap.toHost(ids) : ids;
    await lchown(target, uid, gid);
  }

  async entry(hdr: Header, body: AsyncIterable<Buffer>): Promise<void> {
    this.count++;
    const rel = cleanEntryPath(hdr.name);
    const type = hdr.type ?? "file";
    if (rel === "") {
      // The root's own metadata belongs to the container's upper dir, not to a lower layer.
      await drain(body);
      return;
    }
    const base = posix.basename(rel);
    // AUFS bookkeeping (.wh..wh.plnk and the like) means nothing to overlay; Docker drops it too.
    if (base !== WHITEOUT_OPAQUE && rel.split("/").some((c) => c.startsWith(WHITEOUT_META_PREFIX))) {
      return drain(body);
    }
    const parent = await this.resolveDir(posix.dirname(rel), true);

    if (base === WHITEOUT_OPAQUE) {
      this.sys.attrs.lsetxattr(parent, OVERLAY_OPAQUE_XATTR, Buffer.from("y"));
      return drain(body);
    }
    if (base.startsWith(WHITEOUT_PREFIX)) {
      const hidden = base.slice(WHITEOUT_PREFIX.length);
      // ".wh." alone would name the parent directory itself; nothing legitimate produces it.
      if (hidden === "")
        throw new InvalidParameterError(`invalid whiteout entry ${JSON.stringify(hdr.name)}`);
      const target = join(parent, hidden);
      await this.clear(target);
      this.sys.attrs.mknod(target, S_IFMT.CHR, { major: 0, minor: 0 });
      await this.own(target, hdr);
      return drain(body);
    }

    const target = join(parent, base);
    const existing = await lstatOrNull(target);
    if (existing && !(existing.isDirectory() && type === "directory")) await this.clear(target);

    switch (type) {
      case "directory":
        if (!existing?.isDirectory()) await mkdir(target, { mode: 0o700 });
        break;
      case "file":
      case "contiguous-file":
        await writeFile(target, body);
        this.size += hdr.size ?? 0;
        break;
      case "symlink":
        // The link text is data: it is resolved later, inside the container's root, never here.
        if (!hdr.linkname)
          throw new InvalidParameterError(
            `invalid tar entry ${JSON.stringify(hdr.name)}: symlink with an empty target`,
          );
        await symlink(hdr.linkname, target);
        this.dirCache.clear();
        break;
      case "link":
        await link(await this.resolveLinkSource(hdr.linkname ?? ""), target);
        // A hardlink shares its inode's metadata; re-applying it could only undo the source's.
        return;
      case "character-device":
      case "block-device":
      case "fifo": {
        const kind = type === "fifo" ? S_IFMT.FIFO : type === "block-device" ? S_IFMT.BLK : S_IFMT.CHR;
        try {
          this.sys.attrs.mknod(target, kind | ((hdr.mode ?? 0o600) & 0o777), {
            major: hdr.devmajor ?? 0,
            minor: hdr.devminor ?? 0,
          });
        } catch (e) {
          // A rootless daemon (a user namespace) may not create device nodes; as moby's archive code
          // does there, the entry is skipped: containers get their devices from the runtime anyway.
          if (type === "fifo" || !isErrno(e, "EPERM")) throw e;
          log("debug", "layer: skipping device node (no permission to create it)", { name: hdr.name });
          return;
        }
        break;
      }
      default:
        log("warn", "layer: skipping tar entry of unsupported type", { name: hdr.name, type });
        return drain(body);
    }
    await this.applyMetadata(target, hdr, type);
  }

  /** Sets directory times last: creating entries inside a directory would change its mtime again. */
  async finish(): Promise<void> {
    for (const d of this.dirTimes.reverse()) {
      try {
        await lutimes(d.path, d.atime, d.mtime);
      } catch (e) {
        // A later entry may have replaced the directory, or a parent of it by a file; nothing to stamp then.
        if (!isErrno(e, "ENOENT") && !isErrno(e, "ENOTDIR")) throw e;
      }
    }
  }

  private async applyMetadata(target: string, hdr: Header, type: string): Promise<void> {
    await this.own(target, hdr);
    for (const [key, value] of Object.entries(hdr.pax ?? {})) {
      if (!key.startsWith(XATTR_PREFIX)) continue;
      const name = key.slice(XATTR_PREFIX.length);
      // overlay's own attributes would let an archive forge whiteouts or redirects; those only come from .wh. names.
      if (/^(trusted\.overlay|user\.overlay|user\.fuseoverlayfs)\./.test(name)) continue;
      try {
        this.sys.attrs.lsetxattr(target, name, Buffer.from(value, "latin1"));
      } catch (e) {
        if (!isErrno(e, "ENOTSUP") && !isErrno(e, "EOPNOTSUPP")) throw e;
        log("warn", "layer: filesystem does not support xattr", { name: hdr.name, xattr: name });
      }
    }
    // chmod after chown: chown clears setuid/setgid bits.
    if (type !== "symlink") await chmod(target, (hdr.mode ?? 0o644) & 0o7777);
    const mtime = paxTime(hdr.pax?.mtime) ?? (hdr.mtime ? hdr.mtime.getTime() / 1000 : 0);
    const atime = paxTime(hdr.pax?.atime) ?? mtime;
    if (type === "directory") this.dirTimes.push({ path: target, atime, mtime });
    else await lutimes(target, atime, mtime);
  }

  /** Removes whatever is at `target` (a later entry replaces an earlier one, as in Docker). */
  private async clear(target: string): Promise<void> {
    if (!(await lstatOrNull(target))) return;
    await rm(target, { recursive: true, force: true });
    this.dirCache.clear();
    // Directories at or under what went are not stamped at the end: a symlink put in their place would
    // otherwise lead lutimes through it, out of the layer.
    this.dirTimes = this.dirTimes.filter((d) => d.path !== target && !d.path.startsWith(`${target}/`));
  }

  private async resolveLinkSource(linkname: string): Promise<string> {
    const rel = cleanEntryPath(linkname);
    if (rel === "") throw new InvalidParameterError(`invalid hardlink to the layer root`);
    const dir = await this.resolveDir(posix.dirname(rel), false);
    const src = join(dir, posix.basename(rel));
    const st = await lstatOrNull(src);
    if (!st)
      throw new InvalidParameterError(`invalid hardlink: target ${JSON.stringify(linkname)} does not exist`);
    if (st.isDirectory()) throw new InvalidParameterError(`invalid hardlink to a directory: ${linkname}`);
    return src;
  }

  /**
   * The real path of directory `relDir`, resolving symlinks as a chroot at `root` would (absolute targets start
   * at `root`, `..` stops at `root`). With `create`, missing directories are made (0755, as Docker does).
   */
  private async resolveDir(relDir: string, create: boolean): Promise<string> {
    if (relDir === "." || relDir === "") return this.root;
    const cached = this.dirCache.get(relDir);
    if (cached) return cached;
    const todo = relDir.split("/").reverse();
    const done: string[] = [];
    let links = 0;
    while (todo.length > 0) {
      const part = todo.pop()!;
      if (part === "" || part === ".") continue;
      if (part === "..") {
        done.pop();
        continue;
      }
      const p = join(this.root, ...done, part);
      const st = await lstatOrNull(p);
      if (!st) {
        if (!create)
          throw new InvalidParameterError(`invalid tar entry: ${relDir} does not exist in the layer`);
        await mkdir(p, { mode: 0o755 });
        // Implied directories belong to (container) root, as Docker's.
        if (this.idMap) await this.own(p, {});
        done.push(part);
      } else if (st.isSymbolicLink()) {
        if (++links > MAX_SYMLINKS)
          throw new InvalidParameterError(`too many levels of symbolic links: ${relDir}`);
        const target = await readlink(p);
        if (target.startsWith("/")) done.length = 0;
        todo.push(...target.split("/").reverse());
      } else if (st.isDirectory()) {
        done.push(part);
      } else {
        throw new InvalidParameterError(`invalid tar entry: ${relDir} is not a directory`);
      }
    }
    const real = join(this.root, ...done);
    this.dirCache.set(relDir, real);
    return real;
  }
}

async function writeFile(target: string, body: AsyncIterable<Buffer>): Promise<void> {
  // O_EXCL|O_NOFOLLOW: the path was cleared just before, so anything there now is not ours to write through.
  await writeChunks(target, body, {
    flags: fsc.O_WRONLY | fsc.O_CREAT | fsc.O_EXCL | fsc.O_NOFOLLOW,
    mode: 0o600,
  });
}

// tar-stream's streams are streamx, not node:stream; feeding by hand keeps backpressure without relying on
// node:stream's pipeline recognising them.
/** Writes a node stream into a tar-stream extractor with backpressure, ending it at the source's end. */
export async function feed(src: Readable, ex: tar.Extract): Promise<void> {
  for await (const chunk of src) {
    if (!ex.write(chunk)) await new Promise<void>((resolve) => ex.once("drain", resolve));
  }
  await new Promise<void>((resolve, reject) => {
    ex.once("error", reject);
    ex.end(resolve);
  });
}

async function lstatOrNull(p: string) {
  try {
    return await lstat(p);
  } catch (e) {
    if (isErrno(e, "ENOENT")) return null;
    throw e;
  }
}

async function drain(body: AsyncIterable<Buffer>): Promise<void> {
  for await (const _ of body) {
    // Entries other than files carry no data; this only moves the parser on.
  }
}

function paxTime(v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  return Number.isFinite(n) ? n : undefined;
}
