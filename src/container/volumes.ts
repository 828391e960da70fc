import { chmod, chown, lstat, mkdir, readdir, realpath, stat } from "node:fs/promises";
import { dirname, join } from "node:path";
import { InvalidParameterError, isErrno, NotFoundError } from "../errdefs/index.ts";
import { realHost } from "../host/index.ts";
import { resolveInRoot } from "../runtime/index.ts";
import type { StoredMount } from "./mounts.ts";

/**
 * Checks a bind's host path: `--mount type=bind` needs it to exist (Docker's error otherwise); `-v` binds
 * create it as a directory, as Docker does.
 */
export async function prepareBindSource(
  m: StoredMount,
  opts: { create?: boolean; owner?: { uid: number; gid: number } } = {},
): Promise<void> {
  try {
    await stat(m.Source);
  } catch (e) {
    if (!isErrno(e, "ENOENT")) throw e;
    if (!opts.create)
      throw new InvalidParameterError(
        `invalid mount config for type "bind": bind source path does not exist: ${m.Source}`,
      );
    const first = await mkdir(m.Source, { recursive: true, mode: 0o755 });
    // Under --userns-remap the directories made here are the remapped root's, as dockerd makes them
    // (MkdirAllAndChownNew): from the first one created down to the source.
    if (opts.owner && first) {
      const { uid, gid } = opts.owner;
      for (let d = m.Source; d.length >= first.length; d = dirname(d)) await chown(d, uid, gid);
    }
  }
}

/**
 * Docker fills a volume that is still empty with what the image has at the mount point, with its owner and
 * mode, the first time a container mounts it. The image path is resolved inside the rootfs, never out of it.
 */
export async function copyUpIfEmpty(opts: {
  rootfs: string;
  destination: string;
  volume: string;
}): Promise<void> {
  if ((await readdir(opts.volume)).length > 0) return;
  const src = await resolveInRoot(opts.rootfs, opts.destination);
  let st: Awaited<ReturnType<typeof lstat>>;
  try {
    st = await lstat(src);
  } catch (e) {
    if (isErrno(e, "ENOENT")) return;
    throw e;
  }
  if (!st.isDirectory()) return;
  await chown(opts.volume, st.uid, st.gid);
  await chmod(opts.volume, st.mode & 0o7777);
  if ((await readdir(src)).length === 0) return;
  // cp -a keeps owners, modes, times, links and xattrs; this runs once per new volume, not per start.
  await realHost().processes.run("cp", ["-a", "--", `${src}/.`, `${opts.volume}/`]);
}

/** Whether a path is a directory (following symlinks); false when it is missing. */
export async function isDirectory(path: string): Promise<boolean> {
  return stat(path).then(
    (s) => s.isDirectory(),
    () => false,
  );
}

/**
 * The host path of a volume's subpath, with its symlinks resolved: a link that leads out of the volume
 * (to / or to another volume) is refused, as dockerd's safepath refuses it, in dockerd's words. The path
 * handed to runc is the resolved one, so no symlink of the volume's is followed after this check.
 */
export async function volumeSubpath(volumeRoot: string, subpath: string): Promise<string> {
  const wanted = join(volumeRoot, subpath);
  let resolved: string;
  try {
    resolved = await realpath(wanted);
  } catch (e) {
    const reason = isErrno(e, "ENOENT") ? "no such file or directory" : (e as Error).message;
    throw new NotFoundError(`cannot access path ${wanted}: lstat ${wanted}: ${reason}`);
  }
  const base = await realpath(volumeRoot);
  if (resolved !== base && !resolved.startsWith(`${base}/`))
    throw new InvalidParameterError(
      `path concatenation escapes the base directory, base: ${volumeRoot}, subpath: ${subpath}`,
    );
  return resolved;
}
