/**
 * What `GET /distribution/{name}/json` reports of a reference, read from its registry as dockerd reads it: the
 * descriptor of the manifest the reference names (media type, digest, size) and the platforms it serves (each
 * entry of an index or manifest list, or an image manifest's config's os/architecture).
 */
import type { OciDescriptor, OciImageConfig } from "../oci/index.ts";
import { MANIFEST_MEDIA_TYPES, type RegistryClient } from "./client.ts";
import { MAX_CONFIG_BYTES, parseConfig, parseIndex, parseManifest } from "./documents.ts";

/** A platform as ocispec.Platform marshals it (os.version, os.features and variant only when set). */
export interface InspectedPlatform {
  architecture: string;
  os: string;
  "os.version"?: string;
  "os.features"?: string[];
  variant?: string;
}

/** The descriptor and platforms of one reference. */
export interface DistributionInspection {
  Descriptor: { mediaType: string; digest: string; size: number };
  Platforms: InspectedPlatform[] | null;
}

function platformOf(p: {
  architecture?: string;
  os?: string;
  "os.version"?: string;
  "os.features"?: string[];
  variant?: string;
}): InspectedPlatform {
  const out: InspectedPlatform = { architecture: p.architecture ?? "", os: p.os ?? "" };
  if (p["os.version"]) out["os.version"] = p["os.version"];
  if (p["os.features"]?.length) out["os.features"] = p["os.features"];
  if (p.variant) out.variant = p.variant;
  return out;
}

/** Fetches the manifest `reference` (a tag or a digest) names and the platforms it serves. */
export async function inspectManifest(
  client: RegistryClient,
  reference: string,
): Promise<DistributionInspection> {
  const m = await client.getManifest(reference);
  const Descriptor = { mediaType: m.mediaType, digest: m.digest, size: m.bytes.length };
  if (m.mediaType === MANIFEST_MEDIA_TYPES.dockerList || m.mediaType === MANIFEST_MEDIA_TYPES.ociIndex) {
    const entries: OciDescriptor[] = parseIndex(m.bytes, `manifest list ${reference}`).manifests ?? [];
    const Platforms = entries.map((e) => platformOf(e.platform ?? {}));
    return { Descriptor, Platforms: Platforms.length ? Platforms : null };
  }
  const doc = parseManifest(m.bytes, `manifest ${reference}`);
  // As dockerd: a config that cannot be read or names no platform leaves Platforms empty, it is no failure.
  try {
    const bytes = await client.getSmallBlob(doc.config, MAX_CONFIG_BYTES, "image config");
    const config = parseConfig(bytes, "image config") as OciImageConfig & { "os.features"?: string[] };
    if (!config.os && !config.architecture) return { Descriptor, Platforms: null };
    return { Descriptor, Platforms: [platformOf(config)] };
  } catch {
    return { Descriptor, Platforms: null };
  }
}
