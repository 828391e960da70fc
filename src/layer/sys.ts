import { type NativeBindings, native } from "../host/index.ts";

/** The syscalls the layer code needs beyond node:fs; tests may pass a fake, the daemon passes the addon. */
export type LayerSys = Pick<
  NativeBindings,
  "mknod" | "lsetxattr" | "lgetxattr" | "llistxattr" | "mount" | "umount2"
>;

/** The real syscalls, loaded on first use so that importing this module never needs the addon built. */
export const hostSys: LayerSys = {
  mknod: (...a) => native().mknod(...a),
  lsetxattr: (...a) => native().lsetxattr(...a),
  lgetxattr: (...a) => native().lgetxattr(...a),
  llistxattr: (...a) => native().llistxattr(...a),
  mount: (...a) => native().mount(...a),
  umount2: (...a) => native().umount2(...a),
};

/** File-type bits of st_mode, for mknod(2). */
export const S_IFMT = { FIFO: 0o010000, CHR: 0o020000, BLK: 0o060000 } as const;

/** The xattr overlayfs reads to mark a directory opaque. */
export const OVERLAY_OPAQUE_XATTR = "trusted.overlay.opaque";
