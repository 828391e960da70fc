import { type Host, realHost } from "../host/index.ts";

/** The host effects the layer code has: mounts, device nodes, xattrs. Tests pass a FakeHost. */
export type LayerSys = Pick<Host, "attrs" | "mounts">;

/** The real host; the addon loads on first use, so importing this module never needs it built. */
export const hostSys: LayerSys = realHost();

/** File-type bits of st_mode, for mknod(2). */
export const S_IFMT = { FIFO: 0o010000, CHR: 0o020000, BLK: 0o060000 } as const;

/** The xattr overlayfs reads to mark a directory opaque. */
export const OVERLAY_OPAQUE_XATTR = "trusted.overlay.opaque";
