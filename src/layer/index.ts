export { chainId, chainIds } from "./chain.ts";
export { type Compression, decompressStream, detectCompression, sniffCompression } from "./compression.ts";
export { type DiffEntry, type DiffKind, type DiffOptions, scanUpperDir, type UpperDiff } from "./diff.ts";
export {
  cleanEntryPath,
  type ExtractStats,
  extractLayer,
  feed as feedTar,
  WHITEOUT_OPAQUE,
  WHITEOUT_PREFIX,
} from "./extract.ts";
export { MAX_MOUNT_DATA, mountOverlay, type OverlaySpec, overlayData, unmountOverlay } from "./overlay.ts";
export { FsLayerStore, type LayerInfo, type LayerStore, type MountOptions } from "./store.ts";
export { hostSys, type LayerSys, OVERLAY_OPAQUE_XATTR } from "./sys.ts";
