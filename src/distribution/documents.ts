/**
 * Manifests, indexes and configs as a registry sent them: untrusted bytes. Each is parsed and its shape
 * checked before any field is used, so a hostile or broken registry gets a clear error instead of a crash
 * deep in a pull, and a descriptor cannot announce a config larger than the daemon will hold in memory.
 */
import { isDigest } from "../content/index.ts";
import { InvalidParameterError } from "../errdefs/index.ts";
import type { OciDescriptor, OciImageConfig, OciIndex, OciManifest } from "../oci/index.ts";

/** The largest manifest or index read from a registry (the bound dockerd and the distribution spec use). */
export const MAX_MANIFEST_BYTES = 4 << 20;
/** The largest image config read from a registry: configs are held in memory whole. */
export const MAX_CONFIG_BYTES = 8 << 20;

function parseJson(bytes: Buffer, what: string): unknown {
  try {
    return JSON.parse(bytes.toString("utf8"));
  } catch (e) {
    throw new InvalidParameterError(`${what} is not valid JSON: ${(e as Error).message}`);
  }
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function checkDescriptor(v: unknown, what: string): OciDescriptor {
  if (!isObject(v)) throw new InvalidParameterError(`${what} is not a descriptor object`);
  if (typeof v.digest !== "string" || !isDigest(v.digest))
    throw new InvalidParameterError(`${what} has an invalid digest: ${JSON.stringify(v.digest)}`);
  if (typeof v.size !== "number" || !Number.isSafeInteger(v.size) || v.size < 0)
    throw new InvalidParameterError(`${what} has an invalid size: ${JSON.stringify(v.size)}`);
  if (v.mediaType !== undefined && typeof v.mediaType !== "string")
    throw new InvalidParameterError(`${what} has an invalid mediaType`);
  return v as unknown as OciDescriptor;
}

/** The media type a manifest or index names for itself, if its bytes are a JSON object at all. */
export function declaredMediaType(bytes: Buffer, what: string): string | undefined {
  const doc = parseJson(bytes, what);
  if (!isObject(doc)) throw new InvalidParameterError(`${what} is not a JSON object`);
  return typeof doc.mediaType === "string" ? doc.mediaType : undefined;
}

/** An image manifest: a config descriptor no larger than MAX_CONFIG_BYTES and a list of layer descriptors. */
export function parseManifest(bytes: Buffer, what: string): OciManifest {
  const doc = parseJson(bytes, what);
  if (!isObject(doc)) throw new InvalidParameterError(`${what} is not a JSON object`);
  const config = checkDescriptor(doc.config, `${what}: config`);
  if (config.size > MAX_CONFIG_BYTES)
    throw new InvalidParameterError(
      `${what}: config of ${config.size} bytes is larger than the ${MAX_CONFIG_BYTES} bytes allowed`,
    );
  if (!Array.isArray(doc.layers)) throw new InvalidParameterError(`${what} has no layers list`);
  doc.layers.forEach((l, i) => {
    checkDescriptor(l, `${what}: layer ${i}`);
  });
  return doc as unknown as OciManifest;
}

/** An image index or manifest list: manifest descriptors to pick a platform from. */
export function parseIndex(bytes: Buffer, what: string): OciIndex {
  const doc = parseJson(bytes, what);
  if (!isObject(doc)) throw new InvalidParameterError(`${what} is not a JSON object`);
  if (!Array.isArray(doc.manifests)) throw new InvalidParameterError(`${what} has no manifests list`);
  doc.manifests.forEach((m, i) => {
    checkDescriptor(m, `${what}: manifest ${i}`);
  });
  return doc as unknown as OciIndex;
}

/** An image config: an object whose rootfs.diff_ids, when present, is a list of digests. */
export function parseConfig(bytes: Buffer, what: string): OciImageConfig {
  const doc = parseJson(bytes, what);
  if (!isObject(doc)) throw new InvalidParameterError(`${what} is not a JSON object`);
  const rootfs = doc.rootfs;
  if (rootfs !== undefined) {
    if (!isObject(rootfs)) throw new InvalidParameterError(`${what}: rootfs is not an object`);
    const ids = rootfs.diff_ids;
    if (ids !== undefined && (!Array.isArray(ids) || !ids.every((d) => typeof d === "string" && isDigest(d))))
      throw new InvalidParameterError(`${what}: rootfs.diff_ids is not a list of digests`);
  }
  return doc as unknown as OciImageConfig;
}
