// Local tar work for `cp`, `build` and `save`/`load`: extract a tar into a host directory with its first path
// component renamed (docker's rebase). Packing a host path is util/tar's packTree.
import { createWriteStream } from "node:fs";
import { chmod, link, lstat, mkdir, rm, symlink, utimes } from "node:fs/promises";
import { dirname, join, normalize, sep } from "node:path";
import type { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import tar from "tar-stream";

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
