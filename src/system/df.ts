// `GET /system/df`: the disk usage of images, containers, volumes and the build cache, gathered from each
// service's own view, as dockerd's DiskUsage composes its services' answers.
import type {
  BuildCacheRecord,
  ContainerSummary,
  DiskUsage,
  ImageSummary,
  Volume,
} from "../apitypes/index.ts";
import { InvalidParameterError } from "../errdefs/index.ts";

/** The object types `type=` may ask for (API 1.42). */
export const DF_TYPES = ["container", "image", "volume", "build-cache"] as const;

/** One of DF_TYPES. */
export type DfType = (typeof DF_TYPES)[number];

/** What the disk usage reads from the services. */
export interface DiskUsageSource {
  /** Listed images with SharedSize filled in, and the size of every stored layer once. */
  images(): Promise<{ LayersSize: number; Images: ImageSummary[] }>;
  /** Every container, with SizeRw and SizeRootFs. */
  containers(): Promise<ContainerSummary[]>;
  /** Every volume, with UsageData. */
  volumes(): Promise<Volume[]>;
  buildCache(): Promise<BuildCacheRecord[]>;
}

/** The types a request asks for: all of them without `type=` (or before API 1.42), else the ones named. */
export function dfTypes(requested: string[]): Set<DfType> {
  if (!requested.length) return new Set(DF_TYPES);
  const out = new Set<DfType>();
  for (const t of requested) {
    const known = DF_TYPES.find((k) => k === t);
    if (!known) throw new InvalidParameterError(`unknown object type: ${t}`);
    out.add(known);
  }
  return out;
}

/**
 * The disk usage of the asked-for types; the others stay null, as dockerd leaves them. An image's Containers
 * counts every container made from it, running or not.
 */
export async function diskUsage(src: DiskUsageSource, types: Set<DfType>): Promise<DiskUsage> {
  const wantImages = types.has("image");
  const needContainers = types.has("container") || wantImages;
  const [img, ctrs, vols, cache] = await Promise.all([
    wantImages ? src.images() : undefined,
    needContainers ? src.containers() : undefined,
    types.has("volume") ? src.volumes() : undefined,
    types.has("build-cache") ? src.buildCache() : undefined,
  ]);
  const out: DiskUsage = {
    LayersSize: img?.LayersSize ?? 0,
    Images: null,
    Containers: types.has("container") ? (ctrs ?? []) : null,
    Volumes: vols ?? null,
    BuildCache: cache ?? null,
  };
  if (img) {
    const uses = new Map<string, number>();
    for (const c of ctrs ?? []) uses.set(c.ImageID, (uses.get(c.ImageID) ?? 0) + 1);
    out.Images = img.Images.map((i) => ({ ...i, Containers: uses.get(i.Id) ?? 0 }));
  }
  return out;
}
