import { isDigest } from "../content/index.ts";
import { RegistryError } from "./errors.ts";
import type { ReferrerDescriptor } from "./storage.ts";

/** Manifest media types the registry knows the structure of. */
export const MANIFEST_TYPES = {
  dockerV2: "application/vnd.docker.distribution.manifest.v2+json",
  dockerList: "application/vnd.docker.distribution.manifest.list.v2+json",
  ociManifest: "application/vnd.oci.image.manifest.v1+json",
  ociIndex: "application/vnd.oci.image.index.v1+json",
} as const;

/** Largest manifest accepted (as distribution's default). */
export const MAX_MANIFEST_BYTES = 4 << 20;

interface Descriptor {
  mediaType?: string;
  digest: string;
  size: number;
  urls?: string[];
  annotations?: Record<string, string>;
  artifactType?: string;
}

/** What a PUT manifest needs checked before it is stored. */
export interface ParsedManifest {
  mediaType: string;
  /** Blobs that must be in the repository (config, layers). */
  blobs: string[];
  /** Manifests that must be in the repository (index children). */
  manifests: string[];
  subject?: string;
  /** How the referrers API lists this manifest, when it has a subject. */
  referrer?: Omit<ReferrerDescriptor, "digest" | "size">;
}

/** Parses and checks a manifest body; `contentType` is the request's Content-Type. */
export function parseManifest(body: Buffer, contentType: string | undefined): ParsedManifest {
  let m: {
    schemaVersion?: number;
    mediaType?: string;
    artifactType?: string;
    config?: Descriptor;
    layers?: Descriptor[];
    manifests?: Descriptor[];
    subject?: Descriptor;
    annotations?: Record<string, string>;
  };
  try {
    m = JSON.parse(body.toString("utf8"));
  } catch {
    throw invalid("manifest is not valid JSON");
  }
  if (!m || typeof m !== "object") throw invalid("manifest is not a JSON object");
  const ct = contentType?.split(";")[0].trim();
  // Only a manifest-ish Content-Type counts (clients sending text/plain or JSON mean nothing by it).
  const typed = ct?.startsWith("application/vnd.") ? ct : undefined;
  const mediaType = m.mediaType ?? typed;
  if (m.mediaType && typed && typed !== m.mediaType) {
    throw invalid(`mediaType ${m.mediaType} does not match Content-Type ${ct}`);
  }
  if (m.schemaVersion !== 2) throw invalid("schemaVersion must be 2");
  const out: ParsedManifest = {
    mediaType: mediaType ?? (m.manifests ? MANIFEST_TYPES.ociIndex : MANIFEST_TYPES.ociManifest),
    blobs: [],
    manifests: [],
  };
  const checkDesc = (d: Descriptor | undefined, what: string): Descriptor => {
    if (!d || typeof d !== "object" || !isDigest(String(d.digest)) || typeof d.size !== "number") {
      throw invalid(`${what}: invalid descriptor`);
    }
    return d;
  };
  if (Array.isArray(m.manifests)) {
    for (const d of m.manifests) out.manifests.push(checkDesc(d, "manifests").digest);
  } else {
    if (m.config !== undefined) out.blobs.push(checkDesc(m.config, "config").digest);
    if (m.layers !== undefined && !Array.isArray(m.layers)) throw invalid("layers must be an array");
    for (const l of m.layers ?? []) {
      const d = checkDesc(l, "layers");
      // Foreign layers live at their URLs, not in the registry.
      if (!d.urls?.length) out.blobs.push(d.digest);
    }
    if ((mediaType === MANIFEST_TYPES.dockerV2 || mediaType === MANIFEST_TYPES.ociManifest) && !m.config) {
      throw invalid("image manifest without config");
    }
  }
  if (m.subject !== undefined) {
    out.subject = checkDesc(m.subject, "subject").digest;
    const artifactType = m.artifactType ?? m.config?.mediaType;
    out.referrer = { mediaType: out.mediaType };
    if (artifactType) out.referrer.artifactType = artifactType;
    if (m.annotations) out.referrer.annotations = m.annotations;
  }
  return out;
}

function invalid(msg: string): RegistryError {
  return new RegistryError("MANIFEST_INVALID", "manifest invalid", { detail: msg });
}
