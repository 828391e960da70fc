/**
 * The build context: the request body (a tar, plain or compressed, or a bare Dockerfile) unpacked into a private
 * directory, less what `.dockerignore` leaves out (the Dockerfile and .dockerignore themselves always stay).
 */
import { constants as fsc } from "node:fs";
import { chmod, lstat, mkdir, open, readFile, rm, symlink, utimes } from "node:fs/promises";
import { join, posix } from "node:path";
import type { Readable } from "node:stream";
import tar from "tar-stream";
import { InvalidParameterError, isErrno } from "../errdefs/index.ts";
import { cleanEntryPath, decompressStream, feedTar } from "../layer/index.ts";
import { ignoreMatcher, readIgnorePatterns } from "./dockerignore.ts";

/** An unpacked context. */
export interface BuildContext {
  dir: string;
  dockerfile: string;
  /** The Dockerfile's path inside the context. */
  dockerfilePath: string;
}

/** Checks `dockerfile` names a path inside the context and returns it cleaned. */
export function contextPath(p: string): string {
  const rel = posix.normalize(p.replace(/^\/+/, ""));
  const clean = posix.normalize(`/${p}`).slice(1);
  if (!clean || rel === ".." || rel.startsWith("../"))
    throw new InvalidParameterError(`the Dockerfile (${p}) must be within the build context`);
  return clean;
}

/** Unpacks the body into `dir` (which must not exist yet) and reads the Dockerfile. */
export async function unpackContext(
  body: Readable,
  dir: string,
  opts: { dockerfile: string },
): Promise<BuildContext> {
  const wanted = contextPath(opts.dockerfile || "Dockerfile");
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const { stream } = await decompressStream(body);
  const head = await peek(stream);
  if (!looksLikeTar(head.first)) {
    // A bare Dockerfile as the body: a context with nothing else in it.
    const text = Buffer.concat(await collect(head.rest)).toString("utf8");
    return { dir, dockerfile: text, dockerfilePath: "Dockerfile" };
  }
  const ex = tar.extract();
  const feeding = feedTar(head.rest, ex);
  feeding.catch(() => {});
  const dirTimes: { path: string; mtime: Date }[] = [];
  try {
    for await (const entry of ex) {
      const h = entry.header;
      const rel = cleanEntryPath(h.name);
      const target = join(dir, rel);
      if (rel === "") {
        entry.resume();
        continue;
      }
      await mkdir(join(target, ".."), { recursive: true });
      await rm(target, { recursive: true, force: true }).catch(() => undefined);
      const mode = (h.mode ?? 0o644) & 0o7777;
      switch (h.type) {
        case "directory":
          await mkdir(target, { recursive: true, mode: 0o755 });
          await chmod(target, mode | 0o700);
          if (h.mtime) dirTimes.push({ path: target, mtime: h.mtime });
          entry.resume();
          continue;
        case "symlink":
          await symlink(h.linkname ?? "", target);
          entry.resume();
          continue;
        case "file":
        case "contiguous-file": {
          const fh = await open(target, fsc.O_WRONLY | fsc.O_CREAT | fsc.O_EXCL | fsc.O_NOFOLLOW, 0o600);
          try {
            for await (const chunk of entry as AsyncIterable<Buffer>) {
              let off = 0;
              while (off < chunk.byteLength) off += (await fh.write(chunk, off)).bytesWritten;
            }
          } finally {
            await fh.close();
          }
          await chmod(target, mode);
          if (h.mtime) await utimes(target, h.mtime, h.mtime);
          continue;
        }
        default:
          // Hardlinks are copied, devices and fifos have no place in a context.
          if (h.type === "link" && h.linkname) {
            const src = join(dir, cleanEntryPath(h.linkname));
            const data = await readFile(src).catch(() => undefined);
            if (data) {
              const fh = await open(target, fsc.O_WRONLY | fsc.O_CREAT | fsc.O_EXCL, mode);
              await fh.writeFile(data);
              await fh.close();
            }
          }
          entry.resume();
      }
    }
    await feeding;
  } catch (e) {
    ex.destroy();
    throw e;
  }
  for (const d of dirTimes.reverse()) await utimes(d.path, d.mtime, d.mtime).catch(() => undefined);
  let dockerfilePath = wanted;
  let text = await readInContext(dir, wanted);
  if (text === undefined && !opts.dockerfile) {
    dockerfilePath = "dockerfile";
    text = await readInContext(dir, "dockerfile");
  }
  if (text === undefined)
    throw new InvalidParameterError(`Cannot locate specified Dockerfile: ${opts.dockerfile || "Dockerfile"}`);
  await applyDockerignore(dir, [dockerfilePath, ".dockerignore"]);
  return { dir, dockerfile: text, dockerfilePath };
}

async function readInContext(dir: string, rel: string): Promise<string | undefined> {
  try {
    const st = await lstat(join(dir, rel));
    if (!st.isFile()) return undefined;
    return await readFile(join(dir, rel), "utf8");
  } catch (e) {
    if (isErrno(e, "ENOENT") || isErrno(e, "ENOTDIR")) return undefined;
    throw e;
  }
}

/** Removes what .dockerignore excludes (the client usually did already; raw API clients may not have). */
async function applyDockerignore(dir: string, keep: string[]): Promise<void> {
  const text = await readFile(join(dir, ".dockerignore"), "utf8").catch(() => undefined);
  if (text === undefined) return;
  const m = ignoreMatcher(readIgnorePatterns(text));
  const { readdir } = await import("node:fs/promises");
  const walk = async (rel: string): Promise<void> => {
    for (const name of await readdir(join(dir, rel))) {
      const child = rel ? `${rel}/${name}` : name;
      const st = await lstat(join(dir, child));
      if (m.ignores(child) && !keep.includes(child)) {
        // A directory may still hold re-included files or the Dockerfile: look inside before removing.
        if (st.isDirectory()) {
          await walk(child);
          const left = await readdir(join(dir, child));
          if (left.length === 0) await rm(join(dir, child), { recursive: true });
        } else await rm(join(dir, child), { force: true });
      } else if (st.isDirectory()) await walk(child);
    }
  };
  await walk("");
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

async function peek(stream: Readable): Promise<{ first: Buffer; rest: Readable }> {
  const { PassThrough } = await import("node:stream");
  const chunks: Buffer[] = [];
  let size = 0;
  const it = stream[Symbol.asyncIterator]();
  while (size < 512) {
    const n = await it.next();
    if (n.done) break;
    chunks.push(n.value as Buffer);
    size += (n.value as Buffer).length;
  }
  const first = Buffer.concat(chunks);
  const rest = new PassThrough();
  rest.write(first);
  void (async () => {
    try {
      for (;;) {
        const n = await it.next();
        if (n.done) break;
        if (!rest.write(n.value)) await new Promise((r) => rest.once("drain", r));
      }
      rest.end();
    } catch (e) {
      rest.destroy(e as Error);
    }
  })();
  return { first, rest };
}

async function collect(s: Readable): Promise<Buffer[]> {
  const out: Buffer[] = [];
  for await (const c of s) out.push(c as Buffer);
  return out;
}
