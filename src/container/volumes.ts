import { chmod, chown, lstat, mkdir, readdir, stat } from "node:fs/promises";
import { InvalidParameterError, isErrno } from "../errdefs/index.ts";
import { realHost } from "../host/index.ts";
import { resolveInRoot } from "../runtime/index.ts";
import type { StoredMount } from "./mounts.ts";

/**
 * Checks a bind's host path: `--mount type=bind` needs it to exist (Docker's error otherwise); `-v` binds
 * create it as a directory, as Docker does.
 */
export async function prepareBindSource(m: StoredMount, opts: { create?: boolean } = {}): Promise<void> {
  try {
    await stat(m.Source);
  } catch (e) {
    if (!isErrno(e, "ENOENT")) throw e;
    if (!opts.create)
      throw new InvalidParameterError(
        `invalid mount config for type "bind": bind source path does not exist: ${m.Source}`,
      );
    await mkdir(m.Source, { recursive: true, mode: 0o755 });
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
