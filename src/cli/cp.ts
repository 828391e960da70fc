// `cp`: copy between a container and the host through the archive endpoints, with docker's rules for
// where things land (into an existing directory, onto a file, or as a new name).

import { lstat, readdir, stat } from "node:fs/promises";
import { basename, dirname, isAbsolute, resolve } from "node:path";
import type { PathStat } from "../apitypes/index.ts";
import { isApiError } from "../client/index.ts";
import { packTree } from "../util/tar/index.ts";
import { flag } from "./args.ts";
import { bool, type Cli, type CommandDef, StatusError, write } from "./common.ts";
import { extractTo } from "./tarfs.ts";
import { humanSize } from "./units.ts";

const MODE_DIR = 0x80000000;
const MODE_SYMLINK = 0x08000000;

/** Splits `ctr:path`; a path that is absolute or starts with `.` is local even with a colon. */
export function splitCpArg(arg: string): { container: string; path: string } {
  if (isAbsolute(arg)) return { container: "", path: arg };
  const i = arg.indexOf(":");
  if (i < 0 || arg.startsWith(".")) return { container: "", path: arg };
  return { container: arg.slice(0, i), path: arg.slice(i + 1) };
}

/** The absolute path, keeping a trailing `/` or `/.` that says "a directory" or "its contents". */
function absLocal(p: string): string {
  let abs = resolve(p);
  if (p.endsWith("/.") || p === ".") abs = abs === "/" ? "/." : `${abs}/.`;
  else if (p.endsWith("/") && abs !== "/") abs += "/";
  return abs;
}

/** Parent and last component as docker's SplitPathDirEntry sees them (`/a/b/.` → `/a/b`, `.`). */
export function splitDirEntry(p: string): { dir: string; base: string } {
  const trimmed = p.length > 1 ? p.replace(/\/+$/, "") : p;
  if (trimmed.endsWith("/.")) return { dir: trimmed.slice(0, -2) || "/", base: "." };
  return { dir: dirname(trimmed), base: basename(trimmed) || "/" };
}

/** Bytes of regular file content under a path (what docker's summary reports). */
async function contentSize(p: string): Promise<number> {
  const s = await lstat(p);
  if (!s.isDirectory()) return s.isFile() ? s.size : 0;
  let total = 0;
  for (const e of await readdir(p)) total += await contentSize(`${p}/${e}`);
  return total;
}

function isDirMode(s: PathStat): boolean {
  return (s.mode & MODE_DIR) !== 0;
}

/** Where a source called `srcBase` goes given what the destination is: docker's PrepareArchiveCopy. */
export function placement(
  src: { base: string; isDir: boolean; rebase?: string },
  dst: { path: string; exists: boolean; isDir: boolean },
): { dir: string; from?: string; to?: string } {
  if (dst.exists && dst.isDir) {
    return src.rebase ? { dir: dst.path, from: src.base, to: src.rebase } : { dir: dst.path };
  }
  if (dst.exists) {
    if (src.isDir) throw new StatusError(1, "cannot copy directory");
  } else if (/\/\.?$/.test(dst.path) && !src.isDir) {
    throw new StatusError(1, "no such directory");
  }
  const { dir, base } = splitDirEntry(dst.path);
  return { dir, from: src.base, to: base };
}

function localError(err: unknown, syscall: string, path: string): StatusError {
  const code = (err as NodeJS.ErrnoException).code;
  const text =
    code === "ENOENT" ? "no such file or directory" : code === "ENOTDIR" ? "not a directory" : String(err);
  return new StatusError(1, `${syscall} ${path}: ${text}`);
}

async function fromContainer(
  cli: Cli,
  ctr: string,
  srcPath: string,
  dstArg: string,
  o: { follow: boolean; quiet: boolean },
) {
  const follow = o.follow;
  const client = cli.client();
  let src = srcPath;
  let rebase: string | undefined;
  if (follow) {
    const st = await client.containerStatPath(ctr, src).catch(() => undefined);
    if (st && (st.mode & MODE_SYMLINK) !== 0) {
      const { dir, base } = splitDirEntry(src);
      src = st.linkTarget.startsWith("/") ? st.linkTarget : `${dir}/${st.linkTarget}`.replace(/\/+/g, "/");
      rebase = base;
    }
  }
  const { body, stat: st } = await client.containerArchiveGet(ctr, src);
  if (dstArg === "-") {
    for await (const c of body) await write(cli.out, c as unknown as string);
    return 0;
  }
  const dstPath = absLocal(dstArg);
  let dst = { path: dstPath, exists: false, isDir: false };
  try {
    const s = await stat(dstPath);
    dst = { path: dstPath, exists: true, isDir: s.isDirectory() };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw localError(err, "stat", dstPath);
    const parent = splitDirEntry(dstPath).dir;
    const ps = await stat(parent).catch(() => undefined);
    if (!ps?.isDirectory()) {
      body.destroy();
      throw new StatusError(
        1,
        ps
          ? `invalid output path: "${parent}" is not a directory`
          : `invalid output path: directory "${parent}" does not exist`,
      );
    }
  }
  const srcBase = rebase ? splitDirEntry(src).base : (st?.name ?? splitDirEntry(src).base);
  const where = placement(
    { base: splitDirEntry(src).base === "." ? "." : srcBase, isDir: st ? isDirMode(st) : false, rebase },
    dst,
  );
  let copied = 0;
  body.on("data", (c: Buffer) => {
    copied += c.length;
  });
  await extractTo(body, where.dir, { from: where.from, to: where.to });
  if (!o.quiet) {
    const size = st && !isDirMode(st) ? st.size : copied;
    await write(
      cli.err,
      `Successfully copied ${humanSize(size)}${size !== copied ? ` (transferred ${humanSize(copied)})` : ""} to ${dstPath}\n`,
    );
  }
  return 0;
}

async function toContainer(
  cli: Cli,
  srcArg: string,
  ctr: string,
  dstPath: string,
  o: { follow: boolean; archive: boolean; quiet: boolean },
) {
  const client = cli.client();
  let dst = { path: dstPath, exists: false, isDir: false };
  try {
    let st = await client.containerStatPath(ctr, dstPath);
    if ((st.mode & MODE_SYMLINK) !== 0) {
      const { dir } = splitDirEntry(dstPath);
      const target = st.linkTarget.startsWith("/") ? st.linkTarget : `${dir}/${st.linkTarget}`;
      dst.path = target;
      st = await client.containerStatPath(ctr, target);
    }
    dst = { path: dst.path, exists: true, isDir: isDirMode(st) };
  } catch (err) {
    // A missing destination may still be created inside an existing parent; the daemon decides.
    if (!isApiError(err) && !(err instanceof Error)) throw err;
  }
  if (srcArg === "-") {
    if (!dst.isDir) throw new StatusError(1, `destination "${ctr}:${dstPath}" must be a directory`);
    await client.containerArchivePut(ctr, dst.path, process.stdin, { copyUIDGID: o.archive });
    return 0;
  }
  const srcPath = absLocal(srcArg);
  const { base } = splitDirEntry(srcPath);
  const hostPath = srcPath.replace(/\/\.$/, "").replace(/(.)\/$/, "$1");
  let isDir: boolean;
  try {
    const s = o.follow ? await stat(hostPath) : await lstat(hostPath);
    isDir = s.isDirectory();
  } catch (err) {
    throw localError(err, "lstat", hostPath);
  }
  if (srcPath.endsWith("/") && !isDir && !srcPath.endsWith("/."))
    throw new StatusError(1, `lstat ${srcPath}: not a directory`);
  const where = placement({ base, isDir }, dst);
  const name = where.to ?? base;
  const tar = packTree(hostPath, {
    // The contents of a directory (`dir/.`) go with bare names.
    name: base === "." && where.to === undefined ? "" : name,
    follow: o.follow,
  });
  await client.containerArchivePut(ctr, where.dir, tar, { copyUIDGID: o.archive });
  if (!o.quiet)
    await write(
      cli.err,
      `Successfully copied ${humanSize(await contentSize(hostPath))} to ${ctr}:${dst.path}\n`,
    );
  return 0;
}

const cp: CommandDef = {
  spec: {
    name: "cp",
    usage: "cp [OPTIONS] CONTAINER:SRC_PATH DEST_PATH|-\n\twharf cp [OPTIONS] SRC_PATH|- CONTAINER:DEST_PATH",
    desc: "Copy files/folders between a container and the local filesystem",
    aliases: ["container cp", "cp"],
    minArgs: 2,
    maxArgs: 2,
    flags: [
      flag.bool("archive", "Archive mode (copy all uid/gid information)", { short: "a" }),
      flag.bool("follow-link", "Always follow symlinks in SRC_PATH", { short: "L" }),
      flag.bool(
        "quiet",
        "Suppress progress output during copy. Progress output is automatically suppressed if no terminal is attached",
        { short: "q" },
      ),
    ],
  },
  async run(cli, p) {
    const [source, dest] = p.args;
    if (source === "") throw new StatusError(1, "source can not be empty");
    if (dest === "") throw new StatusError(1, "destination can not be empty");
    const s = splitCpArg(source);
    const d = splitCpArg(dest);
    if (s.container && d.container) throw new StatusError(1, "copying between containers is not supported");
    if (!s.container && !d.container) throw new StatusError(1, "must specify at least one container source");
    const follow = bool(p, "follow-link");
    // Like docker: progress and the summary only when stdout is a terminal, unless -q said otherwise.
    const quiet = p.set.has("quiet") ? bool(p, "quiet") : !process.stdout.isTTY;
    if (s.container) return fromContainer(cli, s.container, s.path, d.path, { follow, quiet });
    return toContainer(cli, s.path, d.container, d.path, { follow, archive: bool(p, "archive"), quiet });
  },
};

/** The cp command. */
export const commands: Record<string, CommandDef> = { cp };
