// `POST /images/create?fromSrc=` (docker import): one rootfs tar becomes a one-layer image.
import type { Readable } from "node:stream";
import zlib from "node:zlib";
import type { ContentStore } from "../content/index.ts";
import { InvalidParameterError, isErrno, WharfError } from "../errdefs/index.ts";
import { type LayerStore, sniffCompression } from "../layer/index.ts";
import type { OciImageConfig } from "../oci/index.ts";
import { normalizeArch, nowNs, ociArch, rfc3339Nano } from "../util/index.ts";
import { applyChanges } from "./changes.ts";
import { MediaTypes } from "./mediatypes.ts";
import type { LayerRef } from "./records.ts";
import { parseNamed, type Reference, withDefaultTag, withTag } from "./reference.ts";
import type { ImportOptions } from "./types.ts";

/** What an import needs of the image service. */
export interface ImportDeps {
  content: ContentStore;
  layers: LayerStore;
  /** Whether an existing image already uses a blob (then a failed import keeps it). */
  blobInUse(digest: string): boolean;
  commit(config: OciImageConfig, layers: LayerRef[]): Promise<string>;
  emit(action: string, id: string): void;
  tagAs(ref: Reference, id: string): Promise<void>;
}

/** Imports a (possibly compressed) rootfs tar as an image; returns its ID. */
export async function importImage(deps: ImportDeps, tar: Readable, opts: ImportOptions): Promise<string> {
  // Everything that can be refused is checked before a byte is read.
  const ref = opts.repo ? repoTagReference(opts.repo, opts.tag) : undefined;
  const platform = parsePlatform(opts.platform);
  const runConfig = applyChanges({}, opts.changes ?? []);
  const message = opts.message || "Imported from -";

  const { compression, stream } = await sniffCompression(tar);
  let blobSrc: Readable = stream;
  let mediaType: string = MediaTypes.layerGzip;
  if (compression === "none") blobSrc = stream.pipe(zlib.createGzip());
  else if (compression === "zstd") mediaType = MediaTypes.layerZstd;
  else if (compression !== "gzip") {
    stream.destroy();
    throw new InvalidParameterError(`unsupported compression format ${compression}`);
  }
  if (blobSrc !== stream) stream.once("error", (e) => blobSrc.destroy(e));
  const blob = await deps.content.ingest(blobSrc);
  let layer: Awaited<ReturnType<LayerStore["applyTar"]>>;
  try {
    layer = await deps.layers.applyTar(await deps.content.readStream(blob.digest), null);
  } catch (e) {
    // Not a usable layer: drop the blob unless an existing image shares it.
    if (!deps.blobInUse(blob.digest)) {
      await deps.content.delete(blob.digest);
    }
    // A stream that is no tar (garbled, truncated) is the client's input, not a daemon failure: dockerd
    // says "Error processing tar file"; wharf answers it as a 400 rather than dockerd's 500.
    if (!(e instanceof WharfError) && !isErrno(e))
      throw new InvalidParameterError(`Error processing tar file: ${(e as Error).message}`);
    throw e;
  }
  try {
    const created = rfc3339Nano(nowNs());
    const config: OciImageConfig = {
      architecture: platform.architecture,
      ...(platform.variant ? { variant: platform.variant } : {}),
      os: platform.os,
      comment: message,
      config: runConfig,
      created,
      history: [{ created, comment: message }],
      rootfs: { type: "layers", diff_ids: [layer.diffId] },
    };
    const layers: LayerRef[] = [
      { diffId: layer.diffId, chainId: layer.chainId, digest: blob.digest, mediaType, size: blob.size },
    ];
    const id = await deps.commit(config, layers);
    deps.emit("import", id);
    if (ref) await deps.tagAs(ref, id);
    return id;
  } finally {
    // commitImage took the image's own reference; this one was applyTar's for us.
    await deps.layers.release(layer.chainId);
  }
}

/** The reference `repo[:tag]` names, as Docker's RepoTagReference (import and tag). */
export function repoTagReference(repo: string, tag: string | undefined): Reference {
  const ref = parseNamed(repo);
  if (ref.digest) throw new InvalidParameterError("cannot import digest reference");
  return tag ? withTag(ref, tag) : withDefaultTag(ref);
}

/** `os[/arch[/variant]]`, defaulting to this host's platform; only linux images can run here. */
function parsePlatform(p: string | undefined): { os: string; architecture: string; variant?: string } {
  const host = ociArch();
  if (!p) return { os: "linux", architecture: host };
  const [os, arch, variant] = p.toLowerCase().split("/");
  if (os !== "linux") throw new InvalidParameterError(`"${p}": operating system is not supported`);
  const out: { os: string; architecture: string; variant?: string } = {
    os,
    architecture: arch ? normalizeArch(arch) : host,
  };
  if (variant) out.variant = variant;
  return out;
}
