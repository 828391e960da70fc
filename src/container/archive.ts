/**
 * `docker cp`: stat, read and write paths inside a container. Every path is resolved as the container sees it
 * (its mounts first, then its rootfs), with symlinks evaluated inside that root, so nothing reaches the host.
 */
import { constants as fsc } from "node:fs";
import { chmod, lchown, link, lstat, lutimes, mkdir, readlink, rm, symlink } from "node:fs/promises";
import { basename, posix } from "node:path";
import type { Readable } from "node:stream";
import tar from "tar-stream";
import type { PathStat } from "../apitypes/index.ts";
import { ForbiddenError, InvalidParameterError, isErrno, NotFoundError } from "../errdefs/index.ts";
import { decompressStream, feedTar } from "../layer/index.ts";
import { resolveInRoot, resolveUser } from "../runtime/index.ts";
import { type IdMap, type IdPair, writeChunks } from "../util/index.ts";
import { packTree } from "../util/tar/index.ts";

/** Where a container path lives on the host: a mount's source or the rootfs, and whether it may be written. */
export interface PathRoot {
  /** Host directory that is "/" (rootfs) or the mount's destination (mount). */
  root: string;
  /** The path relative to that root. */
  rel: string;
  writable: boolean;
}

/** A container's filesystem as archive operations see it. */
export interface ContainerFs {
  rootfs: string;
  /** `--userns-remap`: owners are the container's view in archives, host ids on disk. */
  idMap?: IdMap;
  readonlyRootfs: boolean;
  /** Mount destinations (container paths) with their host sources. */
  mounts: { destination: string; source: string; rw: boolean }[];
}

/** Picks the mount that holds a container path (the deepest one), else the rootfs. */
export function locate(fs: ContainerFs, path: string): PathRoot {
  const clean = posix.normalize(`/${path}`);
  let best: ContainerFs["mounts"][number] | undefined;
  for (const m of fs.mounts) {
    if (clean === m.destination || clean.startsWith(`${m.destination}/`)) {
      if (!best || m.destination.length > best.destination.length) best = m;
    }
  }
  if (best) return { root: best.source, rel: clean.slice(best.destination.length) || "/", writable: best.rw };
  return { root: fs.rootfs, rel: clean, writable: !fs.readonlyRootfs };
}

// Go's os.FileMode type bits, which the docker CLI decodes.
const GO_DIR = 0x80000000;
const GO_SYMLINK = 0x08000000;
const GO_DEVICE = 0x04000000;
const GO_PIPE = 0x02000000;
const GO_SOCKET = 0x01000000;
const GO_SETUID = 0x00800000;
const GO_SETGID = 0x00400000;
const GO_CHARDEV = 0x00200000;
const GO_STICKY = 0x00100000;

function goMode(st: Awaited<ReturnType<typeof lstat>>): number {
  let m = Number(st.mode) & 0o777;
  if (st.isDirectory()) m |= GO_DIR;
  if (st.isSymbolicLink()) m |= GO_SYMLINK;
  if (st.isBlockDevice()) m |= GO_DEVICE;
  if (st.isCharacterDevice()) m |= GO_DEVICE | GO_CHARDEV;
  if (st.isFIFO()) m |= GO_PIPE;
  if (st.isSocket()) m |= GO_SOCKET;
  if (Number(st.mode) & 0o4000) m |= GO_SETUID;
  if (Number(st.mode) & 0o2000) m |= GO_SETGID;
  if (Number(st.mode) & 0o1000) m |= GO_STICKY;
  return m >>> 0;
}

/**
 * Follows a container path to a host path: symlinks are evaluated in the rootfs, and when the result lands in
 * a mount (a volume, a bind, the engine's /etc files) the rest is resolved inside that mount.
 */
async function resolveFollow(
  fs: ContainerFs,
  path: string,
): Promise<{ host: string; loc: PathRoot; cpath: string }> {
  const rootfs = fs.rootfs.replace(/\/+$/, "");
  const inRootfs = await resolveInRoot(rootfs, path);
  const cpath = inRootfs.slice(rootfs.length) || "/";
  const loc = locate(fs, cpath);
  if (loc.root === fs.rootfs) return { host: inRootfs, loc, cpath };
  return { host: await resolveInRoot(loc.root, loc.rel), loc, cpath };
}

/**
 * Resolves a container path to a host path: the parent is followed (see resolveFollow), the last component is
 * taken as is (a symlink there is reported, not followed), unless the path ends in "/" or "/.".
 */
async function hostPath(fs: ContainerFs, path: string): Promise<{ host: string; loc: PathRoot }> {
  const clean = posix.normalize(`/${path}`);
  if (path.endsWith("/") || path.endsWith("/.") || clean === "/") return resolveFollow(fs, path);
  const parent = await resolveFollow(fs, posix.dirname(clean));
  const candidate = posix.join(parent.cpath, posix.basename(clean));
  // A file bind (/etc/hostname) is a mount of its own, not an entry of its parent directory.
  const fileMount = fs.mounts.find((m) => m.destination === candidate);
  if (fileMount) return { host: fileMount.source, loc: locate(fs, candidate) };
  return { host: `${parent.host}/${posix.basename(clean)}`, loc: parent.loc };
}

/** HEAD /containers/{id}/archive */
export async function statPath(fs: ContainerFs, path: string, containerName: string): Promise<PathStat> {
  const { host } = await hostPath(fs, path);
  let st: Awaited<ReturnType<typeof lstat>>;
  try {
    st = await lstat(host);
  } catch (e) {
    if (isErrno(e, "ENOENT") || isErrno(e, "ENOTDIR"))
      throw new NotFoundError(`Could not find the file ${path} in container ${containerName}`);
    throw e;
  }
  return {
    name: posix.basename(posix.normalize(`/${path}`)) || "/",
    size: Number(st.size),
    mode: goMode(st),
    mtime: new Date(Number(st.mtimeMs)).toISOString(),
    linkTarget: st.isSymbolicLink() ? await readlink(host) : "",
  };
}

/** GET /containers/{id}/archive: a tar of the path, its entries named from the path's base name. */
export async function readArchive(
  fs: ContainerFs,
  path: string,
  containerName: string,
): Promise<{ stat: PathStat; tar: Readable }> {
  const stat = await statPath(fs, path, containerName);
  const { host } = await hostPath(fs, path);
  const top = path.endsWith("/.") ? "." : basename(host);
  // Sockets and devices are left out, as they are of little use copied out of a container.
  const idMap = fs.idMap;
  return {
    stat,
    tar: packTree(host, { name: top, ...(idMap ? { ids: (p: IdPair) => idMap.toContainer(p) } : {}) }),
  };
}

/** A user the container's files do not define: a client error, in dockerd's words for cp -a. */
function userError(e: unknown): never {
  throw new InvalidParameterError(
    `unable to find the user of the container for cp -a: ${(e as Error).message}`,
  );
}

/** PUT /containers/{id}/archive: extracts a tar (plain, gzip or zstd) into a directory of the container. */
export async function writeArchive(
  fs: ContainerFs,
  path: string,
  body: Readable,
  opts: {
    containerName: string;
    copyUidGid: boolean;
    noOverwriteDirNonDir: boolean;
    /** The container's Config.User: with copyUidGid, what every entry is owned by (dockerd's tarCopyOptions). */
    user?: string;
  },
): Promise<void> {
  const { host: dest, loc } = await resolveFollow(fs, path);
  // As dockerd: the archive's owners are kept (the docker CLI sends the local files' owners); with
  // copyUIDGID (cp -a) in a container that names a user, every entry belongs to that user instead.
  const forced =
    opts.copyUidGid && opts.user ? await resolveUser(fs.rootfs, opts.user).catch(userError) : undefined;
  let st: Awaited<ReturnType<typeof lstat>>;
  try {
    st = await lstat(dest);
  } catch (e) {
    if (isErrno(e, "ENOENT"))
      throw new NotFoundError(`Could not find the file ${path} in container ${opts.containerName}`);
    throw e;
  }
  if (!st.isDirectory()) throw new InvalidParameterError("extraction point is not a directory");
  if (!loc.writable) throw new ForbiddenError("container rootfs is marked read-only");
  const { stream } = await decompressStream(body);
  const extract = tar.extract();
  const feeding = feedTar(stream, extract);
  feeding.catch(() => {});
  const dirTimes: { path: string; mtime: Date }[] = [];
  // Entry paths are joined to the destination as container paths, then resolved inside the same root.
  const destRel = posix.normalize(loc.rel);
  const inRoot = (name: string) => resolveInRoot(loc.root, posix.join(destRel, posix.normalize(`/${name}`)));
  try {
    for await (const entry of extract) {
      const header = entry.header;
      const body = entry as AsyncIterable<Buffer>;
      const target = await inRoot(header.name);
      if (target === loc.root.replace(/\/+$/, "") && header.type !== "directory")
        throw new InvalidParameterError(`invalid tar entry ${JSON.stringify(header.name)}`);
      const own = forced
        ? { uid: forced.uid, gid: forced.gid }
        : { uid: header.uid ?? 0, gid: header.gid ?? 0 };
      const { uid, gid } = fs.idMap ? fs.idMap.toHost(own) : own;
      const mode = (header.mode ?? 0o644) & 0o7777;
      const existing = await lstat(target).catch(() => undefined);
      if (existing && opts.noOverwriteDirNonDir && existing.isDirectory() !== (header.type === "directory"))
        throw new InvalidParameterError(
          `cannot overwrite ${existing.isDirectory() ? "directory" : "non-directory"} "${header.name}" with ${existing.isDirectory() ? "non-directory" : "directory"}`,
        );
      const made = await mkdir(posix.dirname(target), { recursive: true });
      // Parents the archive implies belong to container root (dockerd's MkdirAllAndChownNew).
      if (made && fs.idMap) {
        const { uid, gid } = fs.idMap.root;
        for (let p = posix.dirname(target); p.length >= made.length; p = posix.dirname(p))
          await lchown(p, uid, gid);
      }
      switch (header.type) {
        case "directory":
          if (existing && !existing.isDirectory()) await rm(target, { force: true });
          await mkdir(target, { recursive: true });
          await lchown(target, uid, gid);
          await chmod(target, mode);
          if (header.mtime) dirTimes.push({ path: target, mtime: header.mtime });
          break;
        case "symlink":
          if (existing) await rm(target, { recursive: true, force: true });
          await symlink(header.linkname ?? "", target);
          await lchown(target, uid, gid);
          break;
        case "link": {
          const src = await inRoot(header.linkname ?? "");
          if (existing) await rm(target, { recursive: true, force: true });
          await link(src, target).catch((e: unknown) => {
            // The archive names a link target that is not there: the client's archive is wrong (400), not us.
            if (isErrno(e, "ENOENT"))
              throw new InvalidParameterError(
                `invalid hardlink ${JSON.stringify(header.name)}: ${JSON.stringify(header.linkname)} does not exist in the container`,
              );
            throw e;
          });
          break;
        }
        case "file":
        case "contiguous-file": {
          if (existing && (existing.isDirectory() || existing.isSymbolicLink()))
            await rm(target, { recursive: true, force: true });
          await writeChunks(target, body, {
            flags: fsc.O_WRONLY | fsc.O_CREAT | fsc.O_TRUNC | fsc.O_NOFOLLOW,
            mode,
          });
          await lchown(target, uid, gid);
          await chmod(target, mode);
          break;
        }
        default:
          break;
      }
      // Drain what a non-file entry carried, so the extractor moves on.
      if (header.type !== "file" && header.type !== "contiguous-file") for await (const _ of body);
      if (header.mtime && header.type !== "directory" && header.type !== "symlink")
        await lutimes(target, header.mtime, header.mtime);
    }
    await feeding;
  } catch (e) {
    stream.destroy();
    extract.destroy();
    throw e;
  }
  for (const d of dirTimes.reverse()) await lutimes(d.path, d.mtime, d.mtime).catch(() => undefined);
}
