import type { ContentStore } from "../content/index.ts";
import {
  type Credentials,
  MANIFEST_MEDIA_TYPES,
  MAX_CONFIG_BYTES,
  parseConfig,
  parseIndex,
  parseManifest,
  parsePlatform,
  RegistryClient,
  type RegistrySettings,
  registryBase,
  selectPlatform,
} from "../distribution/index.ts";
import { InvalidParameterError, isUnauthorized, NotFoundError } from "../errdefs/index.ts";
import { chainIds, type LayerInfo, type LayerStore } from "../layer/index.ts";
import type { OciImageConfig } from "../oci/index.ts";
import { tee } from "../util/index.ts";
import type { LayerRef } from "./records.ts";
import { DEFAULT_DOMAIN, familiarString, parseNamed, type Reference, withTag } from "./reference.ts";
import { type ProgressSink, parallel, throttled } from "./transfer.ts";

/** What a pull needs from the image service. */
export interface PullHost {
  content: ContentStore;
  layers: LayerStore;
  settings: RegistrySettings;
  /** Stores the image from the bytes as pulled (so its ID is the registry's config digest). */
  commit(opts: {
    config: OciImageConfig;
    configBytes: Buffer;
    manifestBytes: Buffer;
    layers: LayerRef[];
  }): Promise<string>;
  setRef(ref: Reference, id: string): Promise<void>;
  /** The image ID a reference points at now. */
  lookup(ref: Reference): string | undefined;
  /** Whether some stored image uses the blob (a failed pull must not delete it). */
  blobInUse(digest: string): boolean;
}

/** Options of a pull (`POST /images/create?fromImage=`). */
export interface PullOptions {
  tag?: string;
  platform?: string;
  auth?: Credentials;
  progress: ProgressSink;
}

/**
 * The most a layer of `size` compressed bytes may unpack to: gzip cannot exceed about 1032:1, so no real
 * gzip layer is refused, while a zstd stream (which can reach far higher ratios) built as a bomb is cut off.
 */
export function maxUnpacked(size: number): number {
  return size * 1100 + (64 << 10);
}

/** Layers downloading at once, as dockerd's default max-concurrent-downloads. */
const CONCURRENCY = 3;

/** The reference `fromImage` and `tag` name together. */
export function pullReference(fromImage: string, tag: string | undefined): Reference {
  let ref = parseNamed(fromImage);
  if (tag) {
    if (/^sha256:[a-f0-9]{64}$/.test(tag)) ref = { domain: ref.domain, path: ref.path, digest: tag };
    else ref = withTag(ref, tag);
  } else if (!ref.tag && !ref.digest) ref = { ...ref, tag: "latest" };
  return ref;
}

/** The registry base URL and repository path a reference is pulled from or pushed to. */
export function endpointFor(
  ref: Reference,
  settings: RegistrySettings,
  raw: string,
): { base: string; repo: string } {
  const hostMirror = settings.hostMirrors?.[ref.domain];
  if (hostMirror) return { base: hostMirror.replace(/\/+$/, ""), repo: ref.path };
  if (ref.domain === DEFAULT_DOMAIN) {
    if (!settings.mirrors.length) {
      throw new InvalidParameterError(
        `"${raw}" names no registry host, and wharf has no default registry: write it as HOST[:PORT]/${ref.path.replace(/^library\//, "")} (for example 127.0.0.1:5000/${ref.path.replace(/^library\//, "")}), or start the daemon with --registry-mirror`,
      );
    }
    return { base: settings.mirrors[0].replace(/\/+$/, ""), repo: ref.path };
  }
  return { base: registryBase(ref.domain, settings), repo: ref.path };
}

/** Pulls an image: manifest (through an index by platform), config, then the layers in parallel. */
export async function pullImage(h: PullHost, fromImage: string, opts: PullOptions): Promise<string> {
  try {
    return await pullOnce(h, fromImage, opts);
  } catch (e) {
    // As dockerd: refused credentials read as "not found" (a 404), so clients do not prompt for a login.
    if (isUnauthorized(e)) {
      const repo = familiarString({ ...parseNamed(fromImage), tag: undefined, digest: undefined });
      throw new NotFoundError(
        `pull access denied for ${repo}, repository does not exist or may require 'docker login': ${(e as Error).message}`,
        { cause: e },
      );
    }
    throw e;
  }
}

async function pullOnce(h: PullHost, fromImage: string, opts: PullOptions): Promise<string> {
  const ref = pullReference(fromImage, opts.tag);
  const want = parsePlatform(opts.platform);
  const { base, repo } = endpointFor(ref, h.settings, fromImage);
  const client = new RegistryClient({ base, repo, creds: opts.auth });
  const name = familiarString(ref);
  const reference = ref.digest ?? ref.tag ?? "latest";
  let top = await client.getManifest(reference).catch((e: unknown) => {
    if (e instanceof NotFoundError && !ref.digest) {
      throw new NotFoundError(`manifest for ${name} not found: manifest unknown: manifest unknown`, {
        cause: e,
      });
    }
    throw e;
  });
  opts.progress({
    status: `Pulling from ${ref.path}`,
    id: reference,
  });
  const repoDigest = top.digest;
  if (top.mediaType === MANIFEST_MEDIA_TYPES.dockerList || top.mediaType === MANIFEST_MEDIA_TYPES.ociIndex) {
    const index = parseIndex(top.bytes, `manifest list for ${name}`);
    const entry = selectPlatform(index.manifests ?? [], want);
    top = await client.getManifest(entry.digest);
  }
  if (top.mediaType !== MANIFEST_MEDIA_TYPES.dockerV2 && top.mediaType !== MANIFEST_MEDIA_TYPES.ociManifest) {
    throw new InvalidParameterError(`unsupported manifest media type ${top.mediaType || "(none)"}`);
  }
  const manifest = parseManifest(top.bytes, `manifest for ${name}`);
  const configBytes = await client.getSmallBlob(manifest.config, MAX_CONFIG_BYTES, "image config");
  const config = parseConfig(configBytes, `image config ${manifest.config.digest}`);
  await h.content.writeBlob(configBytes, manifest.config.digest);
  const diffIds = config.rootfs?.diff_ids ?? [];
  if (diffIds.length !== manifest.layers.length) {
    throw new InvalidParameterError("image config rootfs.diff_ids does not match the manifest's layers");
  }
  const chains = chainIds(diffIds);

  const held: LayerInfo[] = [];
  const ingested: string[] = [];
  const ready = chains.map(() => Promise.withResolvers<void>());
  // A failed layer rejects its own: the layers above, waiting for it, then fail too instead of waiting forever.
  for (const r of ready) r.promise.catch(() => undefined);
  const layerRefs: LayerRef[] = [];
  const ac = new AbortController();
  try {
    const todo: number[] = [];
    for (let i = 0; i < manifest.layers.length; i++) {
      const l = manifest.layers[i];
      const id = l.digest.slice(7, 19);
      layerRefs.push({
        diffId: diffIds[i],
        chainId: chains[i],
        digest: l.digest,
        mediaType: l.mediaType,
        size: l.size,
      });
      if (h.layers.get(chains[i]) && (await h.content.has(l.digest))) {
        await h.layers.retain(chains[i]);
        held.push(h.layers.get(chains[i]) as LayerInfo);
        opts.progress({ status: "Already exists", progressDetail: {}, id });
        ready[i].resolve();
      } else {
        opts.progress({ status: "Pulling fs layer", progressDetail: {}, id });
        todo.push(i);
      }
    }
    /**
     * One pass over the download: the bytes go to the blob store (which checks digest and size and commits only
     * a blob that matches) and, at the same time, to the layer store, whose layer goes in only once the blob
     * checked out and the layer below is in. A tampered or cut download so fails as the store saw it, and
     * leaves neither blob nor layer.
     */
    const downloadAndUnpack = async (
      i: number,
      o: {
        id: string;
        dl: (n: number, final?: boolean) => void;
        parent: string | null;
        parentReady: Promise<void> | undefined;
        limit: number;
      },
    ): Promise<LayerInfo> => {
      const l = manifest.layers[i];
      const { stream } = await client.getBlob(l.digest, ac.signal);
      const [toBlob, toLayer] = tee(stream);
      const stored = h.content
        .ingest(toBlob, {
          expectedDigest: l.digest,
          onBytes: (n) => o.dl(n),
          ...(l.size >= 0 ? { expectedSize: l.size } : {}),
        })
        .then(() => {
          ingested.push(l.digest);
          o.dl(l.size, true);
          opts.progress({ status: "Verifying Checksum", progressDetail: {}, id: o.id });
          opts.progress({ status: "Download complete", progressDetail: {}, id: o.id });
          opts.progress({ status: "Extracting", progressDetail: { current: 0, total: l.size }, id: o.id });
        });
      // A blob the store refused stops the unpacking too; an unpacking that failed lets the download finish,
      // so a tampered blob is reported as the digest mismatch it is.
      stored.catch((e: unknown) => {
        stream.destroy();
        toLayer.destroy(e as Error);
      });
      const both = o.parentReady ? Promise.all([stored, o.parentReady]).then(() => undefined) : stored;
      // Awaited by applyTar only after the unpacking: a rejection before then is not unhandled.
      both.catch(() => undefined);
      const applying = h.layers.applyTar(toLayer, o.parent, { maxUnpacked: o.limit, parentReady: both });
      // An unpacking that stopped reads no more: its side is dropped so the download goes on to the store.
      applying.catch(() => toLayer.destroy());
      const [blob, layer] = await Promise.allSettled([stored, applying]);
      if (blob.status === "rejected") {
        if (layer.status === "fulfilled") held.push(layer.value);
        throw blob.reason;
      }
      if (layer.status === "rejected") throw layer.reason;
      return layer.value;
    };
    const pullLayer = (i: number) =>
      pullOne(i).catch((e: unknown) => {
        ready[i].reject(e);
        throw e;
      });
    const pullOne = async (i: number) => {
      const l = manifest.layers[i];
      const id = l.digest.slice(7, 19);
      const parent = i ? chains[i - 1] : null;
      const had = await h.content.has(l.digest);
      const dl = throttled(opts.progress, id, "Downloading", l.size);
      const parentReady = i ? ready[i - 1].promise : undefined;
      const limit = maxUnpacked(l.size);
      let applied: LayerInfo;
      if (had) {
        opts.progress({ status: "Download complete", progressDetail: {}, id });
        opts.progress({ status: "Extracting", progressDetail: { current: 0, total: l.size }, id });
        applied = await h.layers.applyTar(await h.content.readStream(l.digest), parent, {
          maxUnpacked: limit,
          ...(parentReady ? { parentReady } : {}),
        });
      } else {
        applied = await downloadAndUnpack(i, { id, dl, parent, parentReady, limit });
      }
      held.push(applied);
      opts.progress({ status: "Extracting", progressDetail: { current: l.size, total: l.size }, id });
      if (applied.diffId !== diffIds[i]) {
        throw new InvalidParameterError(
          `layer ${l.digest} unpacks to ${applied.diffId}, but the image config expects ${diffIds[i]}`,
        );
      }
      opts.progress({ status: "Pull complete", progressDetail: {}, id });
      ready[i].resolve();
    };
    await parallel(
      todo,
      CONCURRENCY,
      (i) => pullLayer(i),
      (i) =>
        opts.progress({ status: "Waiting", progressDetail: {}, id: manifest.layers[i].digest.slice(7, 19) }),
    ).catch((e: unknown) => {
      ac.abort();
      for (const r of ready) r.reject(e);
      throw e;
    });
    const before = h.lookup(ref);
    const id = await h.commit({ config, configBytes, manifestBytes: top.bytes, layers: layerRefs });
    if (ref.tag !== undefined) await h.setRef(ref, id);
    await h.setRef({ domain: ref.domain, path: ref.path, digest: repoDigest }, id);
    opts.progress({ status: `Digest: ${repoDigest}` });
    opts.progress({
      status:
        before === id
          ? `Status: Image is up to date for ${name}`
          : `Status: Downloaded newer image for ${name}`,
    });
    return id;
  } catch (e) {
    // Nothing half-pulled stays: layers this pull holds are released (and deleted unless shared), new blobs go.
    for (const l of held.reverse()) await h.layers.release(l.chainId).catch(() => undefined);
    held.length = 0;
    for (const d of ingested) if (!h.blobInUse(d)) await h.content.delete(d).catch(() => false);
    if (!h.blobInUse(manifest.config.digest))
      await h.content.delete(manifest.config.digest).catch(() => false);
    throw e;
  } finally {
    for (const l of held.reverse()) await h.layers.release(l.chainId).catch(() => undefined);
  }
}
