import { InvalidParameterError, isErrno } from "../errdefs/index.ts";
import { UmountFlags } from "../host/index.ts";
import type { LayerSys } from "./sys.ts";

/** mount(2) copies at most one page of option data; the kernel rejects anything longer. */
export const MAX_MOUNT_DATA = 4095;

/** Where and how to mount one overlay. */
export interface OverlaySpec {
  /** Top layer first, as overlayfs wants them. Relative paths are taken relative to `cwd`. */
  lowerDirs: string[];
  upperDir: string;
  workDir: string;
  target: string;
  /** Directory the relative `lowerDirs` are relative to; the process chdirs there only for the mount call. */
  cwd?: string;
}

/** The option string for an overlay mount. */
export function overlayData(spec: Pick<OverlaySpec, "lowerDirs" | "upperDir" | "workDir">): string {
  for (const p of [...spec.lowerDirs, spec.upperDir, spec.workDir]) {
    // overlayfs splits options on "," and lower dirs on ":"; such paths cannot be passed without escaping.
    if (/[,:\\]/.test(p)) throw new InvalidParameterError(`overlay: unsupported character in path ${p}`);
  }
  return `lowerdir=${spec.lowerDirs.join(":")},upperdir=${spec.upperDir},workdir=${spec.workDir}`;
}

/**
 * Mounts an overlay; with `cwd`, relative lower dirs keep the option string short (the one-page limit).
 * mount(2) resolves them against the calling thread's cwd: the host mounts from a thread of its own
 * with that cwd, so the daemon's cwd never changes.
 */
export async function mountOverlay(spec: OverlaySpec, sys: Pick<LayerSys, "mounts">): Promise<void> {
  const data = overlayData(spec);
  if (data.length > MAX_MOUNT_DATA) {
    throw new InvalidParameterError(`overlay: too many layers to mount (${spec.lowerDirs.length})`);
  }
  await sys.mounts.mount({
    source: "overlay",
    target: spec.target,
    fstype: "overlay",
    data,
    ...(spec.cwd ? { cwd: spec.cwd } : {}),
  });
}

/** Unmounts an overlay (lazily, so a process still holding a file does not make it fail); a no-op when not mounted. */
export async function unmountOverlay(target: string, sys: Pick<LayerSys, "mounts">): Promise<void> {
  try {
    await sys.mounts.unmount(target, UmountFlags.DETACH);
  } catch (e) {
    if (isErrno(e, "EINVAL") || isErrno(e, "ENOENT")) return;
    throw e;
  }
}
