/**
 * The build context: the request body (a tar, plain or compressed, or a bare Dockerfile) unpacked into a private
 * directory, less what `.dockerignore` leaves out (the Dockerfile and .dockerignore too when it names them).
 */
import { createHash } from "node:crypto";
import { createReadStream, constants as fsc } from "node:fs";
import { chmod, type FileHandle, link, mkdir, open, rm, symlink, utimes } from "node:fs/promises";
import { join, posix } from "node:path";
import type { Readable } from "node:stream";
import tar from "tar-stream";
import { InvalidParameterError, isErrno } from "../errdefs/index.ts";
import { cleanEntryPath, decompressStream, detectCompression, feedTar } from "../layer/index.ts";
import { resolveInRoot } from "../runtime/index.ts";
import { limiter } from "../util/index.ts";
import { chunksOf, headOf, readableOf } from "./chunks.ts";
import { globToRegExp, ignoreMatcher, readIgnorePatterns } from "./dockerignore.ts";
import type { Source } from "./fsops.ts";

/** What the context tar says of one path: enough to find COPY sources and checksum them without unpacking. */
export interface ContextEntry {
  type: "file" | "dir" | "symlink" | "other";
  mode: number;
  uid: number;
  gid: number;
  size: number;
  linkname?: string;
  /** sha256 of a file's content, taken while the tar streamed in. */
  sum?: string;
  /** A directory the tar has no entry of, kept because a file in it was dropped (made at materialize). */
  implied?: true;
}

/**
 * A build context. The tar is kept as it came and indexed (paths, metadata, content sums) while it streams in;
 * it is unpacked into `dir` only when a step needs its files, so a rebuild whose steps all come from the cache
 * writes nothing but the tar.
 */
export class BuildContext {
  readonly dir: string;
  readonly dockerfile: string;
  /** The Dockerfile's path inside the context. */
  readonly dockerfilePath: string;
  /** What is left after .dockerignore; absent for a bare Dockerfile body. */
  readonly entries: Map<string, ContextEntry>;
  private readonly children = new Map<string, Set<string>>();
  private readonly tarFile: string | undefined;
  private unpacked: Promise<void> | undefined;

  constructor(o: {
    dir: string;
    dockerfile: string;
    dockerfilePath: string;
    entries: Map<string, ContextEntry>;
    tarFile?: string;
  }) {
    this.dir = o.dir;
    this.dockerfile = o.dockerfile;
    this.dockerfilePath = o.dockerfilePath;
    this.entries = o.entries;
    this.tarFile = o.tarFile;
    for (const rel of this.entries.keys()) {
      let child = rel;
      for (let parent = posix.dirname(rel); ; parent = posix.dirname(parent)) {
        const key = parent === "." ? "" : parent;
        const set = this.children.get(key) ?? new Set<string>();
        this.children.set(key, set);
        set.add(posix.basename(child));
        if (key === "") break;
        child = parent;
      }
    }
  }

  /** Unpacks the context into `dir` (once), leaving out what .dockerignore excludes. */
  materialize(): Promise<void> {
    this.unpacked ??= (
      this.tarFile
        ? extractTar(createReadStream(this.tarFile), this.dir, (rel) => this.entries.has(rel))
        : Promise.resolve()
    ).then(async () => {
      for (const [rel, e] of this.entries)
        if (e.implied) await mkdir(join(this.dir, rel), { recursive: true, mode: e.mode });
    });
    return this.unpacked;
  }

  /**
   * The sources COPY/ADD names, found in the index as `findSources` finds them on disk; undefined when a path
   * goes through a symlink (resolved on the unpacked context instead).
   */
  findSources(patterns: string[], what: string): Source[] | undefined {
    const out: Source[] = [];
    for (const p of patterns) {
      const clean = posix.normalize(`/${p}`).slice(1).replace(/\/+$/, "");
      const parts = clean ? clean.split("/") : [];
      let found: string[] = [""];
      for (const part of parts) {
        const next: string[] = [];
        const glob = /[*?[\\]/.test(part);
        for (const base of found) {
          if (this.entries.get(base)?.type === "symlink") return undefined;
          if (!glob) {
            next.push(base ? `${base}/${part}` : part);
            continue;
          }
          const re = globToRegExp(part);
          for (const n of [...(this.children.get(base) ?? [])].sort())
            if (re.test(n)) next.push(base ? `${base}/${n}` : n);
        }
        found = next;
      }
      const isGlob = /[*?[]/.test(clean);
      let matched = 0;
      for (const rel of found) {
        const e = this.entries.get(rel);
        if (e?.type === "symlink" || e?.type === "other") return undefined;
        const isDir = rel === "" || e?.type === "dir" || (!e && this.children.has(rel));
        if (!e && !isDir) {
          if (isGlob) continue;
          throw new InvalidParameterError(
            `${what} failed: file not found in build context or excluded by .dockerignore: stat ${p}: file does not exist`,
          );
        }
        matched++;
        out.push({ abs: join(this.dir, rel), rel: rel || ".", isDir });
      }
      if (isGlob && matched === 0)
        throw new InvalidParameterError(`${what} failed: no source files were specified`);
    }
    return out;
  }

  /** A checksum of the sources from the index: names, types, modes, owners, link targets and content sums. */
  checksum(sources: Source[]): string {
    const h = createHash("sha256");
    const visit = (rel: string): void => {
      const e: ContextEntry = this.entries.get(rel) ?? { type: "dir", mode: 0o755, uid: 0, gid: 0, size: 0 };
      h.update(`${rel}\0${e.type}\0${e.mode}\0${e.uid}:${e.gid}\0`);
      if (e.type === "symlink") h.update(`L${e.linkname ?? ""}\0`);
      else if (e.type === "file") h.update(`F${e.size}\0${e.sum ?? ""}\0`);
      else if (e.type === "dir")
        for (const n of [...(this.children.get(rel) ?? [])].sort()) visit(rel ? `${rel}/${n}` : n);
    };
    for (const s of sources) visit(s.rel === "." ? "" : s.rel);
    return h.digest("hex");
  }
}

/** Checks `dockerfile` names a path inside the context and returns it cleaned. */
export function contextPath(p: string): string {
  const rel = posix.normalize(p.replace(/^\/+/, ""));
  const clean = posix.normalize(`/${p}`).slice(1);
  if (!clean || rel === ".." || rel.startsWith("../"))
    throw new InvalidParameterError(`the Dockerfile (${p}) must be within the build context`);
  return clean;
}

/**
 * Reads the body (a tar, plain or compressed, or a bare Dockerfile) into `dir`/../context.tar, indexing it on
 * the way; `dir` is where the context is unpacked if a step needs its files.
 */
export async function unpackContext(
  body: Readable,
  dir: string,
  opts: {
    dockerfile: string;
    /** The Dockerfile when it came apart from the context (BuildKit's session), which is then filtered already. */
    dockerfileText?: string;
  },
): Promise<BuildContext> {
  const wanted = contextPath(opts.dockerfile || "Dockerfile");
  await mkdir(dir, { recursive: true, mode: 0o700 });
  let head = await headOf(chunksOf(body), 512);
  if (detectCompression(head.first) !== "none") {
    const { stream } = await decompressStream(readableOf(head.all));
    head = await headOf(chunksOf(stream), 512);
  }
  if (!looksLikeTar(head.first)) {
    // A bare Dockerfile as the body: a context with nothing else in it.
    const parts: Buffer[] = [];
    for await (const c of head.all) parts.push(c);
    const text = Buffer.concat(parts).toString("utf8");
    return new BuildContext({ dir, dockerfile: text, dockerfilePath: "Dockerfile", entries: new Map() });
  }
  const tarFile = `${dir}.tar`;
  const keepText = new Set([wanted, "dockerfile", ".dockerignore"]);
  const texts = new Map<string, Buffer>();
  const entries = new Map<string, ContextEntry>();
  const ex = tar.extract();
  const fileOut = await open(tarFile, "w", 0o600);
  // One reader: each chunk goes to the parser that indexes it and, gathered into writes of about a MiB (one
  // in flight while the parser goes on), to the kept tar: a write per 64 KiB socket read was 800 thread-pool
  // round trips for a 50 MB context.
  const feeding = (async () => {
    let batch: Buffer[] = [];
    let batched = 0;
    let writing: Promise<unknown> = Promise.resolve();
    const flush = async () => {
      await writing;
      const bufs = batch;
      batch = [];
      batched = 0;
      writing = writeAll(fileOut, bufs);
    };
    try {
      for await (const chunk of head.all) {
        batch.push(chunk);
        batched += chunk.length;
        if (batched >= TAR_WRITE) await flush();
        if (!ex.write(chunk)) await new Promise<void>((resolve) => ex.once("drain", resolve));
      }
      await flush();
      await writing;
    } finally {
      await writing.catch(() => undefined);
      await fileOut.close();
    }
    await new Promise<void>((resolve, reject) => {
      ex.once("error", reject);
      ex.end(resolve);
    });
  })();
  feeding.catch(() => {});
  try {
    for await (const entry of ex) {
      const hd = entry.header;
      const rel = cleanEntryPath(hd.name);
      if (rel === "") {
        entry.resume();
        continue;
      }
      const base = { mode: (hd.mode ?? 0o644) & 0o7777, uid: hd.uid ?? 0, gid: hd.gid ?? 0, size: 0 };
      if (hd.type === "file" || hd.type === "contiguous-file") {
        const h = createHash("sha256");
        const keep = keepText.has(rel) ? ([] as Buffer[]) : undefined;
        let size = 0;
        for await (const chunk of entry as AsyncIterable<Buffer>) {
          h.update(chunk);
          size += chunk.length;
          keep?.push(chunk);
        }
        if (keep) texts.set(rel, Buffer.concat(keep));
        entries.set(rel, { ...base, type: "file", size, sum: h.digest("hex") });
        continue;
      }
      entry.resume();
      if (hd.type === "directory") entries.set(rel, { ...base, type: "dir" });
      else if (hd.type === "symlink")
        entries.set(rel, { ...base, type: "symlink", linkname: hd.linkname ?? "" });
      else if (hd.type === "link" && hd.linkname) {
        // A hard link is a copy of the file it names.
        const target = entries.get(cleanEntryPath(hd.linkname));
        if (target?.type === "file") entries.set(rel, { ...target, mode: base.mode });
        const t = texts.get(cleanEntryPath(hd.linkname));
        if (t && keepText.has(rel)) texts.set(rel, t);
      } else entries.set(rel, { ...base, type: "other" });
    }
    await feeding;
  } catch (e) {
    ex.destroy();
    throw e;
  }
  if (opts.dockerfileText !== undefined)
    return new BuildContext({
      dir,
      dockerfile: opts.dockerfileText,
      dockerfilePath: wanted,
      entries,
      tarFile,
    });
  let dockerfilePath = wanted;
  let text = entries.get(wanted)?.type === "file" ? texts.get(wanted) : undefined;
  if (text === undefined && !opts.dockerfile && entries.get("dockerfile")?.type === "file") {
    dockerfilePath = "dockerfile";
    text = texts.get("dockerfile");
  }
  if (text === undefined)
    throw new InvalidParameterError(`Cannot locate specified Dockerfile: ${opts.dockerfile || "Dockerfile"}`);
  const ignore = texts.get(".dockerignore");
  if (ignore && entries.get(".dockerignore")?.type === "file")
    applyDockerignore(entries, ignore.toString("utf8"), [dockerfilePath, ".dockerignore"]);
  return new BuildContext({ dir, dockerfile: text.toString("utf8"), dockerfilePath, entries, tarFile });
}

/** Bytes of the context gathered into one write of the kept tar. */
const TAR_WRITE = 1 << 20;

/** Writes every byte of `bufs` (writev may write less than asked). */
async function writeAll(fh: FileHandle, bufs: Buffer[]): Promise<void> {
  let rest = bufs;
  while (rest.length) {
    let { bytesWritten } = await fh.writev(rest);
    while (rest.length && bytesWritten >= rest[0].length) {
      bytesWritten -= rest[0].length;
      rest = rest.slice(1);
    }
    if (rest.length && bytesWritten) rest = [rest[0].subarray(bytesWritten), ...rest.slice(1)];
  }
}

/** Unpacks a context tar into `dir`, only the entries `keep` accepts. */
async function extractTar(body: Readable, dir: string, keep: (rel: string) => boolean): Promise<void> {
  const ex = tar.extract();
  const feeding = feedTar(body, ex);
  feeding.catch(() => {});
  const dirTimes: { path: string; mtime: Date }[] = [];
  const made = new Set<string>([dir]);
  const seen = new Set<string>();
  const parentOf = async (target: string) => {
    const parent = join(target, "..");
    if (made.has(parent)) return;
    await mkdir(parent, { recursive: true });
    made.add(parent);
  };
  // Small files are written side by side (each is several thread-pool round trips); a path named again waits.
  const limit = limiter(EXTRACT_CONCURRENCY);
  const pending = new Map<string, Promise<void>>();
  let failure: unknown;
  const writeLater = (target: string, fn: () => Promise<void>) => {
    const p = limit(fn).catch((e: unknown) => {
      failure ??= e;
    });
    pending.set(target, p);
  };
  let linked = false;
  try {
    for await (const entry of ex) {
      if (failure) throw failure;
      const h = entry.header;
      const rel = cleanEntryPath(h.name);
      if (rel === "" || !keep(rel)) {
        entry.resume();
        continue;
      }
      // A symlink the tar made earlier may sit on the way: parents resolve inside the context, as if it were
      // "/", so `link -> /etc` then `link/x` lands in <context>/etc/x, never on the host. Until the tar has made
      // a symlink there is none to resolve.
      const target = linked
        ? join(await resolveInRoot(dir, posix.dirname(rel)), posix.basename(rel))
        : join(dir, rel);
      await parentOf(target);
      // Only a path the tar named before can be in the way; a directory named again merges.
      if (seen.has(rel) && h.type !== "directory") {
        await pending.get(target);
        await rm(target, { recursive: true, force: true }).catch(() => undefined);
      }
      seen.add(rel);
      const mode = (h.mode ?? 0o644) & 0o7777;
      switch (h.type) {
        case "directory":
          await mkdir(target, { recursive: true, mode: 0o755 });
          made.add(target);
          await chmod(target, mode | 0o700);
          if (h.mtime) dirTimes.push({ path: target, mtime: h.mtime });
          entry.resume();
          continue;
        case "symlink":
          linked = true;
          await symlink(h.linkname ?? "", target);
          entry.resume();
          continue;
        case "file":
        case "contiguous-file": {
          const write = async (chunks: AsyncIterable<Buffer> | Buffer[]) => {
            const fh = await open(target, fsc.O_WRONLY | fsc.O_CREAT | fsc.O_EXCL | fsc.O_NOFOLLOW, 0o600);
            try {
              // A file held in memory goes in one writev, not one write per chunk the socket gave.
              if (Array.isArray(chunks)) await writeAll(fh, chunks);
              else
                for await (const chunk of chunks) {
                  let off = 0;
                  while (off < chunk.byteLength) off += (await fh.write(chunk, off)).bytesWritten;
                }
              await fh.chmod(mode);
              if (h.mtime) await fh.utimes(h.mtime, h.mtime);
            } finally {
              await fh.close();
            }
          };
          if ((h.size ?? 0) > SMALL_FILE) await write(entry as AsyncIterable<Buffer>);
          else {
            const chunks: Buffer[] = [];
            for await (const c of entry as AsyncIterable<Buffer>) chunks.push(c);
            writeLater(target, () => write(chunks));
          }
          continue;
        }
        default:
          // A hard link stays one (dockerd's context keeps them, and COPY then does); devices and fifos have
          // no place in a context. The file it names was unpacked earlier in the tar, perhaps still being
          // written; one the filter left out (or a directory) leaves the link out too.
          if (h.type === "link" && h.linkname) {
            const src = await resolveInRoot(dir, cleanEntryPath(h.linkname));
            await (pending.get(src) ?? Promise.all(pending.values()));
            await link(src, target).catch((e: unknown) => {
              if (!isErrno(e) || !["ENOENT", "EPERM", "EEXIST"].includes(e.code ?? "")) throw e;
            });
          }
          entry.resume();
      }
    }
    await feeding;
  } catch (e) {
    ex.destroy();
    await Promise.all(pending.values());
    throw e;
  }
  await Promise.all(pending.values());
  if (failure) throw failure;
  for (const d of dirTimes.reverse()) await utimes(d.path, d.mtime, d.mtime).catch(() => undefined);
}

/** Files unpacked at once, and the size up to which a file is held in memory to be written alongside others. */
const EXTRACT_CONCURRENCY = 16;
const SMALL_FILE = 1 << 20;

/** Drops what .dockerignore excludes from the index (the client usually did already; raw API clients may not). */
/**
 * Drops what .dockerignore excludes. The Dockerfile and .dockerignore were read already; when the patterns name
 * them they go too, as dockerd's classic builder removes them (the CLI and docker-py send them regardless).
 */
function applyDockerignore(entries: Map<string, ContextEntry>, text: string, read: string[]): void {
  const m = ignoreMatcher(readIgnorePatterns(text));
  const dirs: string[] = [];
  for (const [rel, e] of entries) {
    if (read.includes(rel) || !m.ignores(rel)) continue;
    // A directory may still hold re-included files or the Dockerfile: it goes only when nothing under it stays.
    if (e.type === "dir") dirs.push(rel);
    else entries.delete(rel);
  }
  for (const d of dirs.sort().reverse()) {
    const prefix = `${d}/`;
    if (![...entries.keys()].some((k) => k.startsWith(prefix))) entries.delete(d);
  }
  // Then, as dockerd's removeDockerfile: the files read already go when the patterns name them, and only
  // they; the directories that held them stay (empty: dockerd unpacked them before removing the file).
  for (const rel of read) {
    const e = entries.get(rel);
    if (!e || !m.ignores(rel)) continue;
    entries.delete(rel);
    for (let d = posix.dirname(rel); d !== "." && d !== "/" && !entries.has(d); d = posix.dirname(d))
      entries.set(d, { type: "dir", mode: 0o755, uid: e.uid, gid: e.gid, size: 0, implied: true });
  }
}

function looksLikeTar(b: Buffer): boolean {
  if (b.length < 512) return false;
  // An empty archive is all zero blocks.
  if (b.subarray(0, 512).every((x) => x === 0)) return true;
  if (b.toString("latin1", 257, 262) === "ustar") return true;
  // Old-style tar: check the header checksum.
  let sum = 0;
  for (let i = 0; i < 512; i++) sum += i >= 148 && i < 156 ? 32 : b[i];
  const stored = Number.parseInt(b.toString("latin1", 148, 156).replace(/\0.*$/, "").trim(), 8);
  return stored === sum;
}
