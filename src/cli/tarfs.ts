// Local tar work for `cp`, `build` and `save`/`load`: pack a host path under a chosen name, and extract a
// tar into a host directory with its first path component renamed (docker's rebase).
import { createWriteStream } from "node:fs";
import {
  chmod,
  link,
  lstat,
  mkdir,
  open,
  readdir,
  readlink,
  rm,
  stat,
  symlink,
  utimes,
} from "node:fs/promises";
import { dirname, join, normalize, sep } from "node:path";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import tar from "tar-stream";

/** Decides per relative path (slash-separated) whether to leave it out of a pack. */
export type SkipFn = (rel: string, isDir: boolean) => boolean;

async function writeEntry(entry: NodeJS.WritableStream, host: string): Promise<void> {
  const fh = await open(host, "r");
  try {
    // tar-stream's entries are streamx streams, which node:stream's pipeline does not drive: write by hand.
    for await (const chunk of fh.createReadStream({ autoClose: false })) {
      if (!entry.write(chunk as Buffer)) await new Promise<void>((r) => entry.once("drain", () => r()));
    }
  } finally {
    await fh.close();
  }
  await new Promise<void>((resolve, reject) => {
    entry.once("error", reject);
    entry.end(() => resolve());
  });
}

/**
 * Adds `host` (file, directory tree, symlink) to `pack` as `name`; `follow` dereferences a symlink at the
 * top (docker's -L). `rel` is the path relative to the pack's root, given to `skip`.
 */
export async function addPath(
  pack: tar.Pack,
  host: string,
  opts: { name: string; follow?: boolean; skip?: SkipFn; rel?: string },
): Promise<void> {
  const st = opts.follow ? await stat(host) : await lstat(host);
  const rel = opts.rel ?? "";
  const base = {
    name: opts.name,
    mode: st.mode & 0o7777,
    uid: st.uid,
    gid: st.gid,
    mtime: st.mtime,
  };
  if (st.isDirectory()) {
    if (!opts.skip?.(rel, true) && opts.name !== "." && opts.name !== "")
      pack.entry({ ...base, name: `${opts.name}/`, type: "directory" });
    for (const child of (await readdir(host)).sort()) {
      const childName = opts.name === "." || opts.name === "" ? child : `${opts.name}/${child}`;
      await addPath(pack, join(host, child), {
        name: childName,
        skip: opts.skip,
        rel: rel ? `${rel}/${child}` : child,
      });
    }
    return;
  }
  if (opts.skip?.(rel, false)) return;
  if (st.isSymbolicLink()) pack.entry({ ...base, type: "symlink", linkname: await readlink(host) });
  else if (st.isFile()) await writeEntry(pack.entry({ ...base, type: "file", size: st.size }), host);
  else if (st.isFIFO()) pack.entry({ ...base, type: "fifo" });
}

/** A readable tar of `host` named `name` (errors end the stream). */
export function packPath(host: string, opts: { name: string; follow?: boolean; skip?: SkipFn }): Readable {
  const pack = tar.pack();
  addPath(pack, host, opts).then(
    () => pack.finalize(),
    (err: unknown) => pack.destroy(err as Error),
  );
  return Readable.from(pack as AsyncIterable<Buffer>);
}

/** Replaces the first component `from` of a slash path with `to` (docker's RebaseArchiveEntries). */
export function rebaseName(name: string, from: string | undefined, to: string | undefined): string {
  if (from === undefined || to === undefined) return name;
  const clean = name.replace(/^\.\//, "");
  if (from === ".") return clean === "." || clean === "" ? to : `${to}/${clean}`;
  if (clean === from || clean === `${from}/`) return to;
  if (clean.startsWith(`${from}/`)) return `${to}/${clean.slice(from.length + 1)}`;
  return name;
}

/** Extracts a tar into `dir`, renaming a leading `from` to `to`; refuses names that escape `dir`. */
export async function extractTo(
  input: AsyncIterable<Buffer> | Readable,
  dir: string,
  opts: { from?: string; to?: string } = {},
): Promise<void> {
  const ex = tar.extract();
  const feed = pipeline(input as Readable, ex as unknown as NodeJS.WritableStream);
  const dirTimes: [string, Date][] = [];
  for await (const entry of ex) {
    const h = entry.header;
    const name = normalize(rebaseName(h.name, opts.from, opts.to)).replace(/\/+$/, "");
    if (name === "." || name === "") {
      entry.resume();
      continue;
    }
    if (name.startsWith(`..${sep}`) || name === ".." || name.startsWith("/")) {
      throw new Error(`invalid tar entry: ${h.name}`);
    }
    const target = join(dir, name);
    await mkdir(dirname(target), { recursive: true });
    const mode = (h.mode ?? 0o644) & 0o7777;
    switch (h.type) {
      case "directory": {
        const existing = await lstat(target).catch(() => undefined);
        if (existing && !existing.isDirectory())
          throw new Error(`cannot overwrite non-directory ${target} with directory`);
        await mkdir(target, { recursive: true });
        await chmod(target, mode);
        if (h.mtime) dirTimes.push([target, h.mtime]);
        entry.resume();
        break;
      }
      case "symlink":
        await rm(target, { force: true });
        await symlink(h.linkname ?? "", target);
        entry.resume();
        break;
      case "link": {
        const src = join(dir, normalize(rebaseName(h.linkname ?? "", opts.from, opts.to)));
        await rm(target, { force: true });
        await link(src, target);
        entry.resume();
        break;
      }
      case "file":
      case "contiguous-file":
      case undefined:
      case null: {
        const existing = await lstat(target).catch(() => undefined);
        if (existing?.isDirectory())
          throw new Error(`cannot overwrite directory ${target} with non-directory`);
        if (existing) await rm(target, { force: true });
        await pipeline(entry, createWriteStream(target, { mode }));
        await chmod(target, mode);
        if (h.mtime) await utimes(target, h.mtime, h.mtime);
        break;
      }
      default:
        // Devices and fifos need privileges and are of little use on the host; docker skips what fails too.
        entry.resume();
    }
  }
  await feed;
  for (const [d, t] of dirTimes.reverse()) await utimes(d, t, t).catch(() => undefined);
}
