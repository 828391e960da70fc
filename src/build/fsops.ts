/**
 * File operations of COPY, ADD and WORKDIR on a mounted rootfs: sources found by glob in the context (or in
 * another stage's root), checksummed for the cache, copied with Docker's destination rules, owners and modes.
 */
import { createHash } from "node:crypto";
import { createReadStream, type Stats } from "node:fs";
import {
  chmod,
  copyFile,
  lchown,
  link,
  lstat,
  lutimes,
  mkdir,
  open,
  readdir,
  readFile,
  readlink,
  rm,
  symlink,
} from "node:fs/promises";
import { join, posix } from "node:path";
import type { Readable } from "node:stream";
import tar from "tar-stream";
import { InvalidParameterError, isErrno, SystemError } from "../errdefs/index.ts";
import { realHost } from "../host/index.ts";
import { cleanEntryPath, decompressStream, feedTar } from "../layer/index.ts";
import { resolveInRoot } from "../runtime/index.ts";
import { limiter, settleAll } from "../util/index.ts";
import { globToRegExp } from "./dockerignore.ts";

/** One source of a COPY/ADD, found in its root. */
export interface Source {
  /** Host path. */
  abs: string;
  /** Path inside its root, for messages and the checksum. */
  rel: string;
  isDir: boolean;
}

/** Owner and mode options of COPY/ADD. */
export interface CopyOwner {
  uid?: number;
  gid?: number;
  /** --chmod, applied to every copied file and directory. */
  mode?: number;
}

/** Finds the sources a COPY/ADD names (globs allowed), resolving inside `root`. */
export async function findSources(root: string, patterns: string[], what: string): Promise<Source[]> {
  const out: Source[] = [];
  for (const p of patterns) {
    const clean = posix.normalize(`/${p}`).slice(1);
    const parts = clean ? clean.split("/") : [];
    let found: string[] = [""];
    for (const part of parts) {
      const next: string[] = [];
      const glob = /[*?[\\]/.test(part);
      for (const base of found) {
        if (!glob) {
          next.push(base ? `${base}/${part}` : part);
          continue;
        }
        const re = globToRegExp(part);
        const names = await readdir(join(root, base)).catch(() => [] as string[]);
        for (const n of names.sort()) if (re.test(n)) next.push(base ? `${base}/${n}` : n);
      }
      found = next;
    }
    const isGlob = /[*?[]/.test(clean);
    let matched = 0;
    for (const rel of found) {
      const abs = await resolveInRoot(root, rel);
      const st = await lstat(abs).catch(() => undefined);
      if (!st) {
        if (isGlob) continue;
        throw new InvalidParameterError(
          `${what} failed: file not found in build context or excluded by .dockerignore: stat ${p}: file does not exist`,
        );
      }
      matched++;
      out.push({ abs, rel: rel || ".", isDir: st.isDirectory() });
    }
    if (isGlob && matched === 0)
      throw new InvalidParameterError(`${what} failed: no source files were specified`);
  }
  return out;
}

/** A checksum of the sources' names, types, modes, owners, link targets and content (not times, as Docker's). */
export async function checksumSources(sources: Source[]): Promise<string> {
  const h = createHash("sha256");
  const visit = async (abs: string, rel: string): Promise<void> => {
    const st = await lstat(abs);
    h.update(`${rel}\0${st.mode}\0${st.uid}:${st.gid}\0`);
    if (st.isSymbolicLink()) h.update(`L${await readlink(abs)}\0`);
    else if (st.isFile()) {
      h.update(`F${st.size}\0`);
      for await (const c of createReadStream(abs)) h.update(c as Buffer);
    } else if (st.isDirectory()) {
      for (const n of (await readdir(abs)).sort()) await visit(join(abs, n), `${rel}/${n}`);
    }
  };
  for (const s of sources) await visit(s.abs, s.rel);
  return h.digest("hex");
}

/** mkdir -p inside a root; directories it creates get the owner given (root by default), as Docker's. */
export async function mkdirInRoot(
  root: string,
  path: string,
  owner: { uid?: number; gid?: number } = {},
): Promise<string> {
  let cur = "/";
  for (const part of posix.normalize(`/${path}`).split("/").filter(Boolean)) {
    cur = posix.join(cur, part);
    const host = await resolveInRoot(root, cur);
    const st = await lstat(host).catch(() => undefined);
    if (st?.isDirectory()) continue;
    if (st) throw new InvalidParameterError(`mkdir ${cur}: not a directory`);
    await mkdir(host, { mode: 0o755 });
    await chmod(host, 0o755);
    await lchown(host, owner.uid ?? 0, owner.gid ?? 0);
  }
  return resolveInRoot(root, path);
}

/**
 * Copies sources to `dest` (a path in the rootfs, already made absolute): a directory's contents go into
 * `dest`; a file goes to `dest` itself unless `dest` is a directory or ends in "/".
 */
export async function copySources(
  root: string,
  sources: Source[],
  dest: string,
  opts: CopyOwner & { preserveOwner: boolean; what: string },
): Promise<void> {
  const toDir = dest.endsWith("/") || sources.length > 1;
  if (sources.length > 1 && !dest.endsWith("/"))
    throw new InvalidParameterError(
      `When using ${opts.what} with more than one source file, the destination must be a directory and end with a /`,
    );
  const owner = { uid: opts.uid, gid: opts.gid };
  const o = { ...opts, limit: limiter(COPY_CONCURRENCY), links: new Map<string, Promise<string>>() };
  for (const s of sources) {
    if (s.isDir) {
      const target = await mkdirInRoot(root, dest, owner);
      await settleAll((await readdir(s.abs)).map((n) => copyTree(join(s.abs, n), join(target, n), o)));
      continue;
    }
    const existing = await lstat(await resolveInRoot(root, dest)).catch(() => undefined);
    if (toDir || existing?.isDirectory()) {
      const dir = await mkdirInRoot(root, dest, owner);
      await copyTree(s.abs, join(dir, posix.basename(s.rel)), o);
    } else {
      const dir = await mkdirInRoot(root, posix.dirname(dest), owner);
      await copyTree(s.abs, join(dir, posix.basename(dest)), o);
    }
  }
}

/** Files copied at once: each costs several thread-pool round trips, which overlap well. */
const COPY_CONCURRENCY = 16;

/** Copies one path; a directory's entries go side by side, each file holding a slot of `limit`. */
async function copyTree(
  src: string,
  dst: string,
  opts: CopyOwner & {
    preserveOwner: boolean;
    limit: ReturnType<typeof limiter>;
    links: HardLinks;
    fresh?: boolean;
  },
): Promise<void> {
  const st = await lstat(src);
  if (!st.isDirectory()) return opts.limit(() => copyLeaf(src, dst, { ...opts, st }));
  const uid = opts.uid ?? (opts.preserveOwner ? st.uid : 0);
  const gid = opts.gid ?? (opts.preserveOwner ? st.gid : 0);
  const mode = opts.mode ?? Number(st.mode) & 0o7777;
  const existing = opts.fresh ? undefined : await lstat(dst).catch(() => undefined);
  if (existing && !existing.isDirectory()) await rm(dst, { recursive: true, force: true });
  if (!existing?.isDirectory()) await mkdir(dst);
  // In a directory made just now nothing can be in the way.
  const inner = { ...opts, fresh: !existing?.isDirectory() };
  await settleAll((await readdir(src)).map((n) => copyTree(join(src, n), join(dst, n), inner)));
  await lchown(dst, uid, gid);
  await chmod(dst, mode);
  await lutimes(dst, st.atime, st.mtime);
}

/**
 * Files of one COPY that are one inode in the source, by `dev:ino`: the copy of the first, which the others
 * become hard links to, as dockerd's tar-based copy keeps them (BuildKit's too).
 */
type HardLinks = Map<string, Promise<string>>;

async function copyLeaf(
  src: string,
  dst: string,
  opts: CopyOwner & { preserveOwner: boolean; st: Stats; links: HardLinks; fresh?: boolean },
): Promise<void> {
  const { st } = opts;
  if (st.isFile() && st.nlink > 1) {
    const key = `${st.dev}:${st.ino}`;
    const first = opts.links.get(key);
    if (first) {
      // The first copy holds a slot of the limiter while it runs, so waiting on it here cannot starve it.
      const path = await first;
      if (!opts.fresh) await rm(dst, { recursive: true, force: true });
      await link(path, dst);
      return;
    }
    const copied = copyLeafData(src, dst, opts).then(() => dst);
    opts.links.set(key, copied);
    await copied;
    return;
  }
  await copyLeafData(src, dst, opts);
}

async function copyLeafData(
  src: string,
  dst: string,
  opts: CopyOwner & { preserveOwner: boolean; st: Stats; fresh?: boolean },
): Promise<void> {
  const { st } = opts;
  const uid = opts.uid ?? (opts.preserveOwner ? st.uid : 0);
  const gid = opts.gid ?? (opts.preserveOwner ? st.gid : 0);
  const mode = opts.mode ?? Number(st.mode) & 0o7777;
  if (!opts.fresh) await rm(dst, { recursive: true, force: true });
  if (st.isSymbolicLink()) {
    await symlink(await readlink(src), dst);
    await lchown(dst, uid, gid);
    await lutimes(dst, st.atime, st.mtime);
  } else if (st.isFile()) {
    await copyFile(src, dst);
    await lchown(dst, uid, gid);
    // copyFile gave the copy the source's mode; chown clears only setuid/setgid bits, restored here.
    if (mode !== (Number(st.mode) & 0o7777) || mode & 0o6000) await chmod(dst, mode);
    await lutimes(dst, st.atime, st.mtime);
  }
}

/** Writes a heredoc's content as a file at `dest` (made absolute). */
export async function writeHeredocFile(
  root: string,
  dest: string,
  content: string,
  opts: CopyOwner,
): Promise<void> {
  const dir = await mkdirInRoot(root, posix.dirname(dest), opts);
  const target = join(dir, posix.basename(dest));
  await rm(target, { recursive: true, force: true });
  const fh = await open(target, "wx", 0o644);
  await fh.writeFile(content);
  await fh.close();
  await lchown(target, opts.uid ?? 0, opts.gid ?? 0);
  await chmod(target, opts.mode ?? 0o644);
}

/** Whether ADD unpacks a local file: a tar, plain or gzip/bzip2/xz/zstd compressed. */
export async function isArchive(abs: string): Promise<boolean> {
  const fh = await open(abs, "r");
  try {
    const buf = Buffer.alloc(512);
    const { bytesRead } = await fh.read(buf, 0, 512, 0);
    const b = buf.subarray(0, bytesRead);
    if (b[0] === 0x1f && b[1] === 0x8b) return true;
    if (b.subarray(0, 3).toString("latin1") === "BZh") return true;
    if (b.subarray(0, 6).equals(Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]))) return true;
    if (b.subarray(0, 4).equals(Buffer.from([0x28, 0xb5, 0x2f, 0xfd]))) return true;
    return bytesRead >= 262 && b.toString("latin1", 257, 262) === "ustar";
  } finally {
    await fh.close();
  }
}

/** ADD of an archive: unpacked into directory `dest`, keeping the archive's owners (as Docker's ADD does). */
export async function extractArchive(root: string, abs: string, dest: string): Promise<void> {
  const destDir = await mkdirInRoot(root, dest);
  const src = await openDecompressed(abs);
  const ex = tar.extract();
  const feeding = feedTar(src, ex);
  feeding.catch(() => {});
  const dirTimes: { path: string; mtime: Date }[] = [];
  const base = posix.normalize(`/${dest}`);
  try {
    for await (const entry of ex) {
      const h = entry.header;
      const rel = cleanEntryPath(h.name);
      if (!rel) {
        entry.resume();
        continue;
      }
      const parent = await mkdirInRoot(root, posix.join(base, posix.dirname(rel)));
      const target = join(parent, posix.basename(rel));
      const mode = (h.mode ?? 0o644) & 0o7777;
      const existing = await lstat(target).catch(() => undefined);
      if (existing && !(existing.isDirectory() && h.type === "directory"))
        await rm(target, { recursive: true, force: true });
      switch (h.type) {
        case "directory":
          if (!existing?.isDirectory()) await mkdir(target);
          await chmod(target, mode);
          if (h.mtime) dirTimes.push({ path: target, mtime: h.mtime });
          break;
        case "symlink":
          await symlink(h.linkname ?? "", target);
          break;
        case "link": {
          await link(await resolveInRoot(root, posix.join(base, cleanEntryPath(h.linkname ?? ""))), target);
          break;
        }
        case "file":
        case "contiguous-file": {
          const fh = await open(target, "wx", 0o600);
          try {
            for await (const chunk of entry as AsyncIterable<Buffer>) await fh.write(chunk);
          } finally {
            await fh.close();
          }
          await chmod(target, mode);
          break;
        }
        default:
          break;
      }
      if (h.type !== "file" && h.type !== "contiguous-file") entry.resume();
      if (h.type !== "link") await lchown(target, h.uid ?? 0, h.gid ?? 0).catch(() => undefined);
      if (h.type === "file" || h.type === "contiguous-file" || h.type === "symlink")
        if (h.type !== "symlink" && h.mtime) await lutimes(target, h.mtime, h.mtime);
    }
    await feeding;
  } catch (e) {
    ex.destroy();
    throw e;
  }
  for (const d of dirTimes.reverse()) await lutimes(d.path, d.mtime, d.mtime).catch(() => undefined);
  void destDir;
}

async function openDecompressed(abs: string): Promise<Readable> {
  const head = await readFile(abs).then((b) => b.subarray(0, 6));
  const file = createReadStream(abs);
  if (head.subarray(0, 3).toString("latin1") === "BZh" || head[0] === 0xfd) {
    // bzip2 and xz go through the system tools, as Node has no decoder for them.
    const p = realHost().processes.spawn(head[0] === 0xfd ? "xz" : "bzip2", ["-dc"], {
      stdio: ["pipe", "pipe", "ignore"],
    });
    if (!p.stdin || !p.stdout) throw new SystemError("decompressor has no pipes");
    file.pipe(p.stdin);
    return p.stdout;
  }
  return (await decompressStream(file)).stream;
}

/** `--chown=user[:group]`: names looked up in the rootfs's /etc/passwd and /etc/group; a lone user is also the group. */
export async function parseChown(root: string, spec: string): Promise<{ uid: number; gid: number }> {
  const [user, group] = spec.split(":", 2);
  const read = async (p: string) => {
    try {
      return await readFile(await resolveInRoot(root, p), "utf8");
    } catch (e) {
      if (isErrno(e, "ENOENT")) return "";
      throw e;
    }
  };
  const lookup = async (name: string, file: string, kind: string): Promise<number> => {
    if (/^\d+$/.test(name)) return Number(name);
    for (const line of (await read(file)).split("\n")) {
      const f = line.split(":");
      if (f[0] === name && f.length > 2) return Number(f[2]);
    }
    throw new InvalidParameterError(
      `unable to convert uid/gid chown string to host mapping: can't find ${kind} for ${kind === "uid" ? "user" : "group"} ${name}: no such ${kind === "uid" ? "user" : "group"}`,
    );
  };
  const uid = await lookup(user, "/etc/passwd", "uid");
  const gid = group === undefined || group === "" ? uid : await lookup(group, "/etc/group", "gid");
  return { uid, gid };
}

/** `--chmod=0755` (octal only, as the classic builder). */
export function parseChmod(spec: string): number {
  if (!/^[0-7]{3,4}$/.test(spec))
    throw new InvalidParameterError(
      `invalid chmod parameter ${spec}. it should be octal string and between 0 and 07777`,
    );
  return Number.parseInt(spec, 8);
}
