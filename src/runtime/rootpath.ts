import { lstat, readlink } from "node:fs/promises";
import { InvalidParameterError, isErrno } from "../errdefs/index.ts";

const MAX_SYMLINKS = 255;

/**
 * Resolves `path` as the container would see it, with `root` as "/": symlinks (absolute or relative) and
 * ".." are evaluated inside root, so the result never points outside it. Missing components are kept
 * literally, so the result can be created. Returns a host path under root.
 */
export async function resolveInRoot(root: string, path: string): Promise<string> {
  const base = root.replace(/\/+$/, "");
  const queue = path.split("/");
  const parts: string[] = [];
  let links = 0;
  let missing = false;
  while (queue.length) {
    const c = queue.shift()!;
    if (c === "" || c === ".") continue;
    if (c === "..") {
      parts.pop();
      continue;
    }
    const candidate = `${base}/${[...parts, c].join("/")}`;
    if (missing) {
      parts.push(c);
      continue;
    }
    let isLink = false;
    try {
      isLink = (await lstat(candidate)).isSymbolicLink();
    } catch (e) {
      if (!isErrno(e, "ENOENT") && !isErrno(e, "ENOTDIR")) throw e;
      missing = true;
    }
    if (!isLink) {
      parts.push(c);
      continue;
    }
    if (++links > MAX_SYMLINKS) throw new InvalidParameterError(`too many levels of symbolic links: ${path}`);
    const target = await readlink(candidate);
    // An absolute target restarts at the container's root, never the host's.
    if (target.startsWith("/")) parts.length = 0;
    queue.unshift(...target.split("/"));
  }
  return parts.length ? `${base}/${parts.join("/")}` : base;
}
