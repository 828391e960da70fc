/**
 * The reverse of extract.ts: an overlay upper dir (a container's or a build step's changes) as a layer tar,
 * with overlay's whiteouts turned back into the OCI `.wh.` form.
 */
import { constants as fsc, type Stats } from "node:fs";
import { lstat, open, readdir, readlink } from "node:fs/promises";
import { join } from "node:path";
import { Readable } from "node:stream";
import { isErrno } from "../errdefs/index.ts";
import { overlayMountProgram } from "../host/index.ts";
import { type IdMap, log } from "../util/index.ts";
import { WHITEOUT_OPAQUE, WHITEOUT_PREFIX } from "./extract.ts";
import { XATTR_PREFIX } from "./pax.ts";
import { type LayerSys, OVERLAY_OPAQUE_XATTR } from "./sys.ts";

/** What one entry of a diff is. */
export type DiffKind = "dir" | "file" | "symlink" | "whiteout" | "fifo" | "chardev" | "blockdev" | "socket";

/** One entry of an upper dir, as scanned. */
export interface DiffEntry {
  /** Path relative to the upper dir, "/"-separated, no leading slash. */
  rel: string;
  kind: DiffKind;
  st: Stats;
  /** The directory hides everything below it in lower layers. */
  opaque: boolean;
  /** `SCHILY.xattr.<name>` → the value's bytes as a latin1 string. */
  xattrs: Record<string, string>;
}

/** Options of `scanUpperDir`. */
export interface DiffOptions {
  /** Reads the opaque flag and xattrs; without it the walk reads neither (`docker diff` needs no attributes). */
  sys?: { attrs: Pick<LayerSys["attrs"], "lgetxattr" | "llistxattr"> };
  /** Keeps sockets as entries (`docker diff` lists them); a layer tar cannot hold them, so they are left out by default. */
  sockets?: boolean;
  /** Leaves an entry (and, for a directory, everything below it) out of the diff. */
  exclude?: (e: DiffEntry) => boolean;
  /** `--userns-remap`: the tar names owners as the container sees them (host ids shifted back). */
  idMap?: IdMap;
}

/** A scanned upper dir, ready to be written as a tar. */
export interface UpperDiff {
  entries: DiffEntry[];
  /** The layer tar (uncompressed); each call starts a new stream. */
  tar(): Readable;
}

/**
 * Walks an upper dir (parents before children, names sorted, so equal trees give equal tars): the one walk
 * behind both build commits and `docker diff`, so the two never disagree on what changed.
 */
export async function scanUpperDir(upper: string, opts: DiffOptions): Promise<UpperDiff> {
  const entries: DiffEntry[] = [];
  // fuse-overlayfs, where it cannot do as the kernel does, leaves OCI-style markers in the upper dir: a
  // `.wh..wh..opq` file for an opaque directory, `.wh.NAME` files for whiteouts.
  const fuseMarkers = overlayMountProgram() !== undefined;
  const walk = async (dir: string, relDir: string, parent?: DiffEntry): Promise<void> => {
    let names: string[];
    try {
      names = (await readdir(dir)).sort();
    } catch (e) {
      // A directory a running container removed while it was walked has no changes left to report.
      if (isErrno(e, "ENOENT")) return;
      throw e;
    }
    for (const name of names) {
      const abs = join(dir, name);
      const st = await lstat(abs);
      if (fuseMarkers && name.startsWith(WHITEOUT_PREFIX)) {
        // Its opaque mark is the OCI file, beside a whiteout of the name `.wh..opq`.
        if (name === WHITEOUT_OPAQUE && st.isFile()) {
          if (parent) parent.opaque = true;
          continue;
        }
        if (name === FUSE_OPAQUE_COMPANION && kindOf(st) === "whiteout") continue;
        if (st.isFile()) {
          const hidden = name.slice(WHITEOUT_PREFIX.length);
          const e: DiffEntry = {
            rel: relDir ? `${relDir}/${hidden}` : hidden,
            kind: "whiteout",
            st,
            opaque: false,
            xattrs: {},
          };
          if (!opts.exclude?.(e)) entries.push(e);
          continue;
        }
      }
      const rel = relDir ? `${relDir}/${name}` : name;
      const kind = kindOf(st);
      if (kind === "socket" && !opts.sockets) {
        log("warn", "layer: diff skips a socket", { path: rel });
        continue;
      }
      const sys = opts.sys;
      const e: DiffEntry = {
        rel,
        kind,
        st,
        opaque: kind === "dir" && sys !== undefined && isOpaque(abs, sys),
        xattrs: kind === "whiteout" || !sys ? {} : readXattrs(abs, sys),
      };
      if (opts.exclude?.(e)) continue;
      entries.push(e);
      if (kind === "dir") await walk(abs, rel, e);
    }
  };
  await walk(upper, "");
  return { entries, tar: () => packDiff(upper, entries, opts.idMap) };
}

/** The whiteout fuse-overlayfs puts beside the `.wh..wh..opq` file of an opaque directory. */
const FUSE_OPAQUE_COMPANION = ".wh..opq";

function kindOf(st: Stats): DiffKind {
  if (st.isDirectory()) return "dir";
  if (st.isFile()) return "file";
  if (st.isSymbolicLink()) return "symlink";
  if (st.isFIFO()) return "fifo";
  // overlayfs records a deletion as a 0/0 character device.
  if (st.isCharacterDevice()) return st.rdev === 0 ? "whiteout" : "chardev";
  if (st.isBlockDevice()) return "blockdev";
  return "socket";
}

function isOpaque(abs: string, sys: NonNullable<DiffOptions["sys"]>): boolean {
  try {
    return sys.attrs.lgetxattr(abs, OVERLAY_OPAQUE_XATTR)?.toString() === "y";
  } catch {
    return false;
  }
}

function readXattrs(abs: string, sys: NonNullable<DiffOptions["sys"]>): Record<string, string> {
  const out: Record<string, string> = {};
  let names: string[];
  try {
    names = sys.attrs.llistxattr(abs);
  } catch {
    return out;
  }
  for (const name of names) {
    // overlay's bookkeeping (opaque, origin, impure, redirect) is not part of the layer.
    // overlay's bookkeeping (user.overlay.* under a rootless daemon's userxattr mounts) likewise.
    if (name.startsWith("trusted.overlay.") || name.startsWith("user.overlay.")) continue;
    let v: Buffer | undefined;
    try {
      v = sys.attrs.lgetxattr(abs, name);
    } catch {
      continue;
    }
    if (!v) continue;
    // Kept byte-exact as latin1 text (pax.ts's convention): security.capability and the like are binary.
    out[`${XATTR_PREFIX}${name}`] = v.toString("latin1");
  }
  return out;
}

/** One tar entry's header fields, before encoding. */
interface TarHeader {
  name: string;
  type: "0" | "1" | "2" | "3" | "4" | "5" | "6";
  mode: number;
  uid: number;
  gid: number;
  size: number;
  mtime: Date;
  linkname?: string;
  devmajor?: number;
  devminor?: number;
}

const BLOCK = 512;

/**
 * The diff as a tar, written here rather than by tar-stream, whose PAX writer encodes values as UTF-8 and so
 * alters binary xattrs (security.capability). Long names, links, sizes and ids go into a PAX header as well.
 */
function packDiff(upper: string, entries: DiffEntry[], idMap: IdMap | undefined): Readable {
  return Readable.from(
    coalesce(
      (async function* () {
        const inodes = new Map<string, string>();
        // Small files are read a few entries ahead: one at a time, the thread pool's round trips dominate.
        const reads = new Map<number, Promise<Buffer>>();
        let ahead = 0;
        for (let i = 0; i < entries.length; i++) {
          for (; ahead < entries.length && ahead < i + PREFETCH; ahead++) {
            const e = entries[ahead];
            if (e.kind !== "file" || Number(e.st.size) > PREFETCH_MAX) continue;
            const p = readSmall(join(upper, e.rel), Number(e.st.size));
            p.catch(() => undefined);
            reads.set(ahead, p);
          }
          const data = reads.get(i);
          reads.delete(i);
          yield* diffEntry(upper, entries[i], { inodes, data, idMap });
        }
        yield Buffer.alloc(BLOCK * 2);
      })(),
    ),
  );
}

/** Joins small pieces (headers, padding, small files) into chunks of about OUT_CHUNK for whoever reads the tar. */
async function* coalesce(src: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
  let parts: Buffer[] = [];
  let size = 0;
  for await (const b of src) {
    // A file's bytes (read whole or streamed in 64 KiB) go on as they are: joining them copied every byte of
    // the layer once more, into fresh pages (a perf profile's memmove and page faults).
    if (b.length >= BIG_PIECE) {
      if (size) yield parts.length === 1 ? parts[0] : Buffer.concat(parts, size);
      parts = [];
      size = 0;
      yield b;
      continue;
    }
    parts.push(b);
    size += b.length;
    if (size >= OUT_CHUNK) {
      yield parts.length === 1 ? parts[0] : Buffer.concat(parts, size);
      parts = [];
      size = 0;
    }
  }
  if (size) yield Buffer.concat(parts, size);
}

const OUT_CHUNK = 256 << 10;
const BIG_PIECE = 32 << 10;

const PREFETCH = 16;
const PREFETCH_MAX = 256 << 10;

/**
 * A small file's bytes, read at the size the scan saw: open, one read, close (readFile's fstat and EOF read
 * were two more thread-pool round trips per file). One byte more is asked for, so a file that grew reads past
 * its size (the packer cuts it) and one that shrank comes back short (the packer refuses it).
 */
async function readSmall(abs: string, size: number): Promise<Buffer> {
  const fh = await open(abs, fsc.O_RDONLY | fsc.O_NOFOLLOW);
  try {
    const buf = Buffer.allocUnsafe(size + 1);
    let got = 0;
    while (got < buf.length) {
      const want = buf.length - got;
      const { bytesRead } = await fh.read(buf, got, want, got);
      got += bytesRead;
      // A regular file reads short only at its end: no read more to learn it.
      if (bytesRead < want) break;
    }
    return buf.subarray(0, got);
  } finally {
    await fh.close();
  }
}

async function* diffEntry(
  upper: string,
  e: DiffEntry,
  o: { inodes: Map<string, string>; data?: Promise<Buffer>; idMap: IdMap | undefined },
): AsyncGenerator<Buffer> {
  const { inodes } = o;
  const st = e.st;
  const owner = o.idMap ? o.idMap.toContainer({ uid: st.uid, gid: st.gid }) : { uid: st.uid, gid: st.gid };
  const base = { mode: Number(st.mode) & 0o7777, ...owner, mtime: st.mtime, size: 0 };
  const slash = e.rel.lastIndexOf("/");
  const dir = slash < 0 ? "" : e.rel.slice(0, slash + 1);
  const name = e.rel.slice(slash + 1);
  switch (e.kind) {
    case "whiteout":
      yield header({ ...base, mode: 0o600, name: `${dir}${WHITEOUT_PREFIX}${name}`, type: "0" }, {});
      return;
    case "dir":
      yield header({ ...base, name: `${e.rel}/`, type: "5" }, e.xattrs);
      if (e.opaque) yield header({ ...base, name: `${e.rel}/${WHITEOUT_OPAQUE}`, type: "0" }, {});
      return;
    case "symlink":
      yield header(
        { ...base, name: e.rel, type: "2", linkname: await readlink(join(upper, e.rel)) },
        e.xattrs,
      );
      return;
    case "socket":
      // A tar cannot hold a socket; only `docker diff` asks for them (DiffOptions.sockets).
      return;
    case "fifo":
      yield header({ ...base, name: e.rel, type: "6" }, e.xattrs);
      return;
    case "chardev":
    case "blockdev":
      yield header(
        {
          ...base,
          name: e.rel,
          type: e.kind === "chardev" ? "3" : "4",
          devmajor: major(st.rdev),
          devminor: minor(st.rdev),
        },
        e.xattrs,
      );
      return;
    case "file": {
      if (st.nlink > 1) {
        const key = `${st.dev}:${st.ino}`;
        const first = inodes.get(key);
        if (first) {
          yield header({ ...base, name: e.rel, type: "1", linkname: first }, e.xattrs);
          return;
        }
        inodes.set(key, e.rel);
      }
      const size = Number(st.size);
      if (o.data) {
        const buf = await o.data;
        if (buf.length < size) throw new Error(`layer: ${e.rel} shrank while it was being packed`);
        yield header({ ...base, name: e.rel, type: "0", size }, e.xattrs);
        if (size) yield buf.subarray(0, size);
        if (size % BLOCK) yield Buffer.alloc(BLOCK - (size % BLOCK));
        return;
      }
      const fh = await open(join(upper, e.rel), fsc.O_RDONLY | fsc.O_NOFOLLOW);
      try {
        yield header({ ...base, name: e.rel, type: "0", size }, e.xattrs);
        let written = 0;
        for await (const chunk of fh.createReadStream({ autoClose: false }) as AsyncIterable<Buffer>) {
          // A file that grew since the scan: the header's size is what the tar holds.
          const part = written + chunk.length > size ? chunk.subarray(0, size - written) : chunk;
          written += part.length;
          if (part.length) yield part;
          if (written === size) break;
        }
        if (written < size) throw new Error(`layer: ${e.rel} shrank while it was being packed`);
        if (size % BLOCK) yield Buffer.alloc(BLOCK - (size % BLOCK));
      } finally {
        await fh.close();
      }
    }
  }
}

/** The ustar header of `h`, preceded by a PAX header when xattrs or fields ustar cannot hold need one. */
function header(h: TarHeader, xattrs: Record<string, string>): Buffer {
  const text: Record<string, string> = {};
  let name = h.name;
  let prefix = "";
  if (Buffer.byteLength(name) > 100) {
    const cut = splitName(name);
    if (cut) [prefix, name] = cut;
    else {
      text.path = h.name;
      name = truncate(h.name);
    }
  }
  let linkname = h.linkname ?? "";
  if (Buffer.byteLength(linkname) > 100) {
    text.linkpath = linkname;
    linkname = truncate(linkname);
  }
  if (h.size > 0o77777777777) text.size = String(h.size);
  if (h.uid > 0o7777777) text.uid = String(h.uid);
  if (h.gid > 0o7777777) text.gid = String(h.gid);
  const ustar = encodeUstar({ ...h, name, linkname }, prefix);
  if (!Object.keys(text).length && !Object.keys(xattrs).length) return ustar;
  const pax = encodePax(text, xattrs);
  const paxHeader = encodeUstar(
    { name: "PaxHeader", type: "0", mode: 0o644, uid: 0, gid: 0, size: pax.length, mtime: h.mtime },
    "",
    "x",
  );
  const pad = pax.length % BLOCK ? Buffer.alloc(BLOCK - (pax.length % BLOCK)) : Buffer.alloc(0);
  return Buffer.concat([paxHeader, pax, pad, ustar]);
}

function encodeUstar(h: TarHeader, prefix: string, typeflag: string = h.type): Buffer {
  const b = Buffer.alloc(BLOCK);
  const str = (v: string, off: number, len: number) => void b.write(v, off, len, "utf8");
  const oct = (v: number, off: number, len: number) =>
    str(
      Math.min(v, 8 ** (len - 1) - 1)
        .toString(8)
        .padStart(len - 1, "0"),
      off,
      len - 1,
    );
  str(h.name, 0, 100);
  oct(h.mode, 100, 8);
  oct(h.uid, 108, 8);
  oct(h.gid, 116, 8);
  oct(h.size, 124, 12);
  oct(Math.max(0, Math.floor(h.mtime.getTime() / 1000)), 136, 12);
  b.fill(0x20, 148, 156);
  str(typeflag, 156, 1);
  str(h.linkname ?? "", 157, 100);
  str("ustar\0", 257, 6);
  str("00", 263, 2);
  oct(h.devmajor ?? 0, 329, 8);
  oct(h.devminor ?? 0, 337, 8);
  str(prefix, 345, 155);
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += b[i];
  str(`${sum.toString(8).padStart(6, "0")}\0 `, 148, 8);
  return b;
}

/** ustar's prefix/name split of a long path, when one fits. */
function splitName(name: string): [string, string] | undefined {
  if (Buffer.byteLength(name) > 256) return undefined;
  for (let i = name.indexOf("/"); i >= 0; i = name.indexOf("/", i + 1)) {
    const pre = name.slice(0, i);
    const rest = name.slice(i + 1);
    if (Buffer.byteLength(pre) <= 155 && Buffer.byteLength(rest) <= 100 && rest) return [pre, rest];
  }
  return undefined;
}

/** A stand-in for a field the PAX header overrides: readers without PAX see a cut name. */
function truncate(s: string): string {
  let out = s.slice(0, 100);
  while (Buffer.byteLength(out) > 100) out = out.slice(0, -1);
  return out;
}

/** PAX records ("<len> <key>=<value>\n", len counting itself), xattr values written as their raw bytes. */
function encodePax(text: Record<string, string>, xattrs: Record<string, string>): Buffer {
  const record = (key: string, value: Buffer): Buffer => {
    const rest = Buffer.concat([Buffer.from(` ${key}=`, "utf8"), value, Buffer.from("\n")]);
    let len = rest.length + String(rest.length).length;
    if (String(len).length !== String(rest.length).length) len = rest.length + String(len).length;
    return Buffer.concat([Buffer.from(String(len), "ascii"), rest]);
  };
  const out: Buffer[] = [];
  for (const [k, v] of Object.entries(text)) out.push(record(k, Buffer.from(v, "utf8")));
  for (const [k, v] of Object.entries(xattrs)) out.push(record(k, Buffer.from(v, "latin1")));
  return Buffer.concat(out);
}

// Linux's dev_t encoding (glibc's gnu_dev_major/minor).
function major(dev: number): number {
  return ((dev >>> 8) & 0xfff) | (Math.floor(dev / 2 ** 32) & ~0xfff);
}

function minor(dev: number): number {
  return (dev & 0xff) | ((dev >>> 12) & ~0xff & 0xfffff);
}
