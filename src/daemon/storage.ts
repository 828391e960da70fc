/**
 * The storage driver, chosen once at start-up: the kernel's overlayfs (overlay2), or fuse-overlayfs for
 * the same layers when asked for, or when a rootless daemon's kernel cannot mount overlayfs in a user
 * namespace (before 5.11), as Docker's rootless mode falls back.
 */
import { accessSync, constants } from "node:fs";
import { mkdir, mkdtemp, rm } from "node:fs/promises";
import { join } from "node:path";
import { realHost, setOverlayMountProgram, UmountFlags } from "../host/index.ts";
import { log } from "../util/index.ts";
import type { DaemonConfig } from "./config.ts";

/** The storage drivers wharf has. */
export type StorageDriver = "overlay2" | "fuse-overlayfs";

/** Whether the kernel mounts an overlay here (in a user namespace the host adds `userxattr`). */
async function kernelOverlayWorks(tmpDir: string): Promise<boolean> {
  const dir = await mkdtemp(join(tmpDir, "overlay-probe-"));
  const [lower, upper, work, merged] = ["l", "u", "w", "m"].map((d) => join(dir, d));
  try {
    await Promise.all([lower, upper, work, merged].map((d) => mkdir(d)));
    const mounts = realHost().mounts;
    await mounts.mount({
      source: "overlay",
      target: merged,
      fstype: "overlay",
      data: `lowerdir=${lower},upperdir=${upper},workdir=${work}`,
    });
    await mounts.unmount(merged, UmountFlags.DETACH);
    return true;
  } catch (e) {
    log("info", "the kernel cannot mount overlayfs here", { err: e });
    return false;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** Picks the driver for `cfg` and sets the host up for it; `lookPath` finds fuse-overlayfs. */
export async function chooseStorageDriver(
  cfg: DaemonConfig,
  o: { tmpDir: string; lookPath: (name: string) => string },
): Promise<StorageDriver> {
  let driver: StorageDriver = cfg.storageDriver ?? "overlay2";
  if (!cfg.storageDriver && cfg.rootless && !(await kernelOverlayWorks(o.tmpDir))) {
    log("info", "falling back to fuse-overlayfs: this kernel has no overlayfs for user namespaces (5.11+)");
    driver = "fuse-overlayfs";
  }
  if (driver !== "fuse-overlayfs") {
    setOverlayMountProgram(undefined);
    return driver;
  }
  let program: string;
  try {
    program = o.lookPath("fuse-overlayfs");
  } catch {
    throw new Error("fuse-overlayfs not found: install Debian's package fuse-overlayfs");
  }
  try {
    accessSync("/dev/fuse", constants.R_OK | constants.W_OK);
  } catch {
    throw new Error(
      "/dev/fuse is not readable and writable (mode 0600: no udev on this machine): as root, run chmod 0666 /dev/fuse (what udev does on Debian; scripts/setup.sh --rootless does it)",
    );
  }
  setOverlayMountProgram(program);
  return driver;
}
