import { join } from "node:path";
import type { Readable } from "node:stream";
import type {
  ImageDeleteResponseItem,
  ImageHistoryResponseItem,
  ImageInspect,
  ImageSearchResult,
  ImageSummary,
} from "../apitypes/index.ts";
import { type ContentStore, FsContentStore } from "../content/index.ts";
import {
  type Credentials,
  type DistributionInspection,
  RegistryClient,
  type RegistrySettings,
  registryBase,
} from "../distribution/index.ts";
import { InvalidParameterError, NotFoundError } from "../errdefs/index.ts";
import { FsLayerStore, type LayerStore, type MountOptions } from "../layer/index.ts";
import type { OciImageConfig } from "../oci/index.ts";
import { log, nowNs, nowRfc3339, stripDigestAlgo } from "../util/index.ts";
import { type ArchiveHost, loadImages, saveImages } from "./archive.ts";
import { importImage, repoTagReference } from "./import.ts";
import { imageDiskUsage, imageHistory, type ListingSource, listImages } from "./listing.ts";
import { MediaTypes } from "./mediatypes.ts";
import { type PullOptions, pullImage } from "./pull.ts";
import { gzipOfLayer, type PushOptions, pushImage } from "./push.ts";
import { blobsOf, type ImageRecord, ImageRecords, type LayerRef } from "./records.ts";
import { familiarString, parseAny, type Reference, withDefaultTag } from "./reference.ts";
import { registryData } from "./registrydata.ts";
import { removeImage } from "./remove.ts";
import { type SearchOptions, searchImages } from "./search.ts";
import type {
  ImageEventSink,
  ImageService,
  ImportOptions,
  ListOptions,
  RemoveOptions,
  ResolvedImage,
} from "./types.ts";
import { createdNs, filterTimeNs, type ImageView, matchLabels, toInspect } from "./views.ts";

export { MediaTypes } from "./mediatypes.ts";

/** Options of `createImageService`; the stores may be passed in (shared with distribution/build). */
export interface ImageServiceOptions {
  dataRoot: string;
  tmpDir?: string;
  events?: ImageEventSink;
  content?: ContentStore;
  layers?: LayerStore;
  /** Plain-HTTP registries and mirrors (`--insecure-registry`, `--registry-mirror`). */
  registries?: RegistrySettings;
}

/** Builds the image service over `<dataRoot>/{content,layers,images}`. */
export function createImageService(opts: ImageServiceOptions): LocalImageService {
  return new LocalImageService(opts);
}

/** The image service: records and references in `images/`, blobs in the content store, layers in the layer store. */
export class LocalImageService implements ImageService {
  readonly content: ContentStore;
  readonly layers: LayerStore;
  private readonly records: ImageRecords;
  private readonly configs = new Map<string, OciImageConfig>();
  /** Containers holding each image (re-asserted by the container service at start-up). */
  private readonly holds = new Map<string, number>();
  private readonly events: ImageEventSink;
  private readonly registries: RegistrySettings;
  private readonly tmpDir: string;
  private queue: Promise<unknown> = Promise.resolve();

  constructor(opts: ImageServiceOptions) {
    const tmpDir = opts.tmpDir ?? join(opts.dataRoot, "tmp");
    this.content = opts.content ?? new FsContentStore(opts.dataRoot);
    this.layers = opts.layers ?? new FsLayerStore(opts.dataRoot);
    this.records = new ImageRecords(join(opts.dataRoot, "images"), tmpDir);
    this.events = opts.events ?? (() => {});
    this.registries = opts.registries ?? { insecure: [], mirrors: [] };
    this.tmpDir = tmpDir;
  }

  async init(): Promise<void> {
    await this.content.init();
    await this.layers.init();
    await this.records.init();
    this.configs.clear();
    for (const rec of this.records.all()) {
      try {
        const config = JSON.parse((await this.content.read(rec.id)).toString("utf8")) as OciImageConfig;
        const missing = rec.layers.find((l) => !this.layers.get(l.chainId));
        if (missing) throw new Error(`layer ${missing.chainId} is missing`);
        this.configs.set(rec.id, config);
      } catch (e) {
        log("warn", "image: dropping image whose config or layers are gone", { id: rec.id, err: e });
        await this.records.delete(rec.id);
      }
    }
    await this.records.pruneRefs();
    // Blobs of a pull or build the daemon died in belong to no image, and no prune would ever find them.
    let orphans = 0;
    for (const b of await this.content.list())
      if (!this.records.blobInUse(b.digest) && (await this.content.delete(b.digest))) orphans++;
    if (orphans) log("info", "image: removed blobs no image uses", { count: orphans });
    // Each image (ghosts included) holds its top layer once; this repairs counts a crash left wrong.
    const refs = new Map<string, number>();
    for (const rec of this.records.all()) {
      const top = topChain(rec);
      if (top) refs.set(top, (refs.get(top) ?? 0) + 1);
    }
    const dropped = await this.layers.reconcile(refs);
    if (dropped.length) log("info", "image: removed layers no image uses", { count: dropped.length });
  }

  async importTar(tar: Readable, opts: ImportOptions): Promise<string> {
    return importImage(
      {
        content: this.content,
        layers: this.layers,
        blobInUse: (digest) => this.records.blobInUse(digest),
        commit: (config, layers) => this.commitImage(config, layers),
        emit: (action, id) => this.emit(action, id),
        tagAs: (ref, id) => this.locked(() => this.setTag(ref, id)),
      },
      tar,
      opts,
    );
  }

  async list(opts: ListOptions): Promise<ImageSummary[]> {
    return listImages(this.listing(), opts);
  }

  /** The image part of `GET /system/df`. */
  diskUsage(): Promise<{ LayersSize: number; Images: ImageSummary[] }> {
    return imageDiskUsage(this.listing());
  }

  async inspect(nameOrId: string): Promise<ImageInspect> {
    const rec = this.find(nameOrId);
    const top = topChain(rec);
    const lowers = top ? this.layers.lowerDirs(top) : [];
    return toInspect(this.view(rec), {
      upperDir: lowers[0] ?? "",
      lowerDirs: lowers.slice(1),
      layerDir: lowers[0] ? join(lowers[0], "..") : "",
    });
  }

  async resolve(nameOrId: string): Promise<ResolvedImage> {
    const rec = this.find(nameOrId);
    const image = this.config(rec.id);
    const top = topChain(rec);
    return {
      id: rec.id,
      config: structuredClone(image.config ?? {}),
      image: structuredClone(image),
      chainIds: rec.layers.map((l) => l.chainId),
      lowerDirs: top ? this.layers.lowerDirs(top) : [],
      size: this.view(rec).size,
    };
  }

  async tag(source: string, repo: string, tag?: string): Promise<void> {
    const ref = repoTagReference(repo, tag);
    if (familiarString({ ...ref, tag: undefined }) === "sha256") {
      throw new InvalidParameterError("refusing to create an ambiguous tag using digest algorithm as name");
    }
    const rec = this.find(source);
    await this.locked(() => this.setTag(ref, rec.id));
  }

  remove(nameOrId: string, opts: RemoveOptions): Promise<ImageDeleteResponseItem[]> {
    return this.locked(async () => {
      const items = await removeImage(
        {
          find: (s) => this.find(s),
          refsOf: (id) => this.records.refsOf(id),
          deleteRefs: (refs) => this.records.deleteRefs(refs),
          children: (id) =>
            this.records
              .all()
              .filter((r) => r.parent === id && !r.ghost)
              .map((r) => r.id),
          deleteImage: (id) => this.deleteImage(id, opts.inUse?.(id) !== undefined),
          emit: (action, id) => this.emit(action, id),
        },
        nameOrId,
        opts,
      );
      await this.collectGhosts(opts.inUse);
      return items;
    });
  }

  async history(nameOrId: string): Promise<ImageHistoryResponseItem[]> {
    return imageHistory(this.listing(), this.find(nameOrId));
  }

  async mountRootfs(opts: MountOptions & { imageId: string }): Promise<void> {
    const rec = this.records.get(opts.imageId);
    if (!rec) throw new NotFoundError(`No such image: ${opts.imageId}`);
    await this.layers.mount(topChain(rec), opts);
  }

  async unmountRootfs(target: string): Promise<void> {
    await this.layers.unmount(target);
  }

  retain(imageId: string): void {
    if (!this.records.get(imageId)) {
      log("warn", "image: a container holds an image that no longer exists", { id: imageId });
      return;
    }
    this.holds.set(imageId, (this.holds.get(imageId) ?? 0) + 1);
  }

  release(imageId: string): void {
    const n = (this.holds.get(imageId) ?? 0) - 1;
    if (n > 0) {
      this.holds.set(imageId, n);
      return;
    }
    this.holds.delete(imageId);
    if (this.records.get(imageId)?.ghost) {
      this.locked(() => this.collectGhosts()).catch((e) =>
        log("error", "image: failed to delete a removed image's layers", { id: imageId, err: e }),
      );
    }
  }

  /** The stored layers of an image, bottom → top: a build or commit stacks a child image on them. */
  /** The image's parent (the image it was built or committed on), if it has one. */
  parentOf(nameOrId: string): string | undefined {
    return this.find(nameOrId).parent || undefined;
  }

  layersOf(nameOrId: string): LayerRef[] {
    return structuredClone(this.find(nameOrId).layers);
  }

  /** Resolves once queued background work (deleting released ghost images) is done; for tests and shutdown. */
  async whenIdle(): Promise<void> {
    await this.queue;
  }

  /**
   * Stores a config and its layers as an image and takes the image's reference on the top layer.
   * For distribution and build as well as import. Returns the image ID.
   */
  async commitImage(
    config: OciImageConfig,
    layers: LayerRef[],
    opts: { parent?: string; configBytes?: Buffer; manifestBytes?: Buffer } = {},
  ): Promise<string> {
    // Pulled and loaded images keep their config bytes as they came: the image ID is their digest.
    const configBytes = opts.configBytes ?? Buffer.from(JSON.stringify(config));
    const cfgBlob = await this.content.writeBlob(configBytes);
    const manifest = {
      schemaVersion: 2,
      mediaType: MediaTypes.manifest,
      config: { mediaType: MediaTypes.config, digest: cfgBlob.digest, size: cfgBlob.size },
      layers: layers.map((l) => ({ mediaType: l.mediaType, digest: l.digest, size: l.size })),
    };
    const manifestBlob = await this.content.writeBlob(opts.manifestBytes ?? JSON.stringify(manifest));
    const id = cfgBlob.digest;
    await this.locked(async () => {
      const existing = this.records.get(id);
      if (existing && !existing.ghost) return;
      if (existing?.ghost) {
        await this.records.put({ ...existing, ghost: undefined });
        return;
      }
      const top = layers.length ? layers[layers.length - 1].chainId : null;
      if (top) await this.layers.retain(top);
      const rec: ImageRecord = { id, manifestDigest: manifestBlob.digest, layers };
      if (opts.parent) rec.parent = opts.parent;
      try {
        await this.records.put(rec);
      } catch (e) {
        if (top) await this.layers.release(top);
        throw e;
      }
      this.configs.set(id, config);
    });
    return id;
  }

  /** `POST /images/create?fromImage=`: pulls from a registry; progress goes to `opts.progress`. */
  async pull(fromImage: string, opts: PullOptions): Promise<string> {
    const id = await pullImage(
      {
        content: this.content,
        layers: this.layers,
        settings: this.registries,
        commit: (c) =>
          this.commitImage(c.config, c.layers, {
            configBytes: c.configBytes,
            manifestBytes: c.manifestBytes,
          }),
        setRef: (ref, imageId) => this.locked(() => this.setTag(ref, imageId)),
        lookup: (ref) => this.records.lookup(ref),
        blobInUse: (d) => this.records.blobInUse(d),
      },
      fromImage,
      opts,
    );
    this.emit("pull", id, fromImage);
    return id;
  }

  /** `POST /images/{name}/push`. */
  async push(name: string, opts: PushOptions): Promise<void> {
    await pushImage(
      {
        content: this.content,
        settings: this.registries,
        tagsOf: (ref) => {
          const repo = `${ref.domain}/${ref.path}`;
          const out: { ref: Reference; rec: ImageRecord }[] = [];
          for (const rec of this.records.all()) {
            if (rec.ghost) continue;
            for (const r of this.records.refsOf(rec.id)) {
              if (`${r.domain}/${r.path}` !== repo || r.tag === undefined) continue;
              if (ref.tag !== undefined && r.tag !== ref.tag) continue;
              out.push({ ref: r, rec });
            }
          }
          return out.sort((a, b) => ((a.ref.tag ?? "") < (b.ref.tag ?? "") ? -1 : 1));
        },
        mountSources: (domain, digest) => {
          const out = new Set<string>();
          for (const rec of this.records.all()) {
            if (!rec.layers.some((l) => l.digest === digest || l.gzip?.digest === digest)) continue;
            for (const r of this.records.refsOf(rec.id)) if (r.domain === domain && r.digest) out.add(r.path);
          }
          return [...out];
        },
        manifestOf: (rec) => this.manifestOf(rec),
        gzipOf: (rec, digest) =>
          gzipOfLayer(
            { content: this.content, records: this.records, locked: (fn) => this.locked(fn) },
            rec,
            digest,
          ),
        setRef: (ref, id) => this.locked(() => this.records.setRef(ref, id)),
      },
      name,
      opts,
    );
    this.emit("push", name);
  }

  /** `GET /distribution/{name}/json`: the registry's descriptor and platforms of a reference. */
  distributionInspect(name: string, auth?: Credentials): Promise<DistributionInspection> {
    return registryData(this.registries, { name, auth });
  }

  /** `GET /images/search`: a registry's v1 index, as dockerd asks it. */
  search(opts: SearchOptions): Promise<ImageSearchResult[]> {
    return searchImages(this.registries, opts);
  }

  /** `POST /auth`: checks credentials against a registry. */
  async login(server: string, creds: Credentials): Promise<void> {
    const host = server.replace(/^https?:\/\//, "").replace(/\/.*$/, "");
    if (!host || /(^|\.)docker\.io$/.test(host)) {
      throw new InvalidParameterError(
        `wharf has no default registry: log in to a registry host (got "${server}")`,
      );
    }
    const base = /^https?:\/\//.test(server)
      ? server.replace(/\/+$/, "").replace(/\/v[12]\/?$/, "")
      : registryBase(host, this.registries);
    await new RegistryClient({ base, repo: "", creds }).checkLogin();
  }

  /** `GET /images/get`: a tar of the named images (docker-archive with an OCI layout beside it). */
  save(names: string[]): Readable {
    const items: { rec: ImageRecord; refs: Reference[] }[] = [];
    for (const n of names) {
      const any = parseAny(n);
      if (any.kind === "named" && any.ref.tag === undefined && !any.ref.digest) {
        // A bare repository is every tag of it, as dockerd saves it (an ID prefix is not a repository).
        const tagged = this.records.tagsOf(any.ref);
        const byId = new Map<string, Reference[]>();
        for (const t of tagged) byId.set(t.id, [...(byId.get(t.id) ?? []), t.ref]);
        for (const [id, refs] of byId) {
          const rec = this.records.get(id);
          if (rec && !rec.ghost) items.push({ rec, refs });
        }
        if (byId.size) continue;
        try {
          items.push({ rec: this.find(n), refs: [] });
        } catch (e) {
          if (e instanceof NotFoundError) throw new NotFoundError(`No such image: ${n}`);
          throw e;
        }
        continue;
      }
      items.push({ rec: this.find(n), refs: any.kind === "named" ? [withDefaultTag(any.ref)] : [] });
    }
    return saveImages(this.archiveHost(), items);
  }

  /** `POST /images/load`: returns the "Loaded image" lines. */
  async load(tar: Readable): Promise<string[]> {
    const lines = await loadImages(this.archiveHost(), tar);
    return lines;
  }

  /** `POST /images/prune`: dangling images (all unused ones with `all`), not used by containers. */
  async prune(opts: {
    all?: boolean;
    filters?: Record<string, string[]>;
    inUse?: RemoveOptions["inUse"];
  }): Promise<{ ImagesDeleted: ImageDeleteResponseItem[]; SpaceReclaimed: number }> {
    const filters = opts.filters ?? {};
    for (const k of Object.keys(filters)) {
      if (!["dangling", "label", "label!", "until"].includes(k))
        throw new InvalidParameterError(`invalid filter '${k}'`);
    }
    const all = opts.all || (filters.dangling ?? []).some((v) => v === "false" || v === "0");
    const until = filters.until?.length ? filterTimeNs(filters.until[0], nowNs()) : undefined;
    const parents = new Set(
      this.records
        .all()
        .map((r) => r.parent)
        .filter(Boolean),
    );
    const deleted: ImageDeleteResponseItem[] = [];
    let reclaimed = 0;
    // Children before their parents: a parent visited first still has a child and would be skipped, so one
    // prune with `all` would leave behind a base image whose last child it removed (a crashed build's steps).
    const depth = (id: string | undefined, seen = 0): number =>
      !id || seen > 1000 ? seen : depth(this.records.get(id)?.parent, seen + 1);
    const order = this.records
      .all()
      .map((rec) => ({ rec, depth: depth(rec.id) }))
      .sort((a, b) => b.depth - a.depth)
      .map((e) => e.rec);
    for (const rec of order) {
      if (!this.records.get(rec.id)) continue;
      if (rec.ghost || opts.inUse?.(rec.id) || (this.holds.get(rec.id) ?? 0) > 0) continue;
      const refs = this.records.refsOf(rec.id).filter((r) => r.tag !== undefined);
      if (!all && (refs.length || parents.has(rec.id))) continue;
      const cfg = this.configs.get(rec.id);
      if (until !== undefined && cfg && createdNs(cfg) > until) continue;
      if (filters.label?.length && !matchLabels(filters.label, cfg?.config?.Labels)) continue;
      if (filters["label!"]?.length && matchLabels(filters["label!"], cfg?.config?.Labels)) continue;
      const before = this.layers.list().reduce((n, l) => n + l.size, 0);
      try {
        deleted.push(...(await this.remove(rec.id, { force: all, inUse: opts.inUse })));
      } catch (e) {
        // A child image or a container appeared meanwhile: skip it, as Docker does.
        log("debug", "image prune: skipping", { id: rec.id, err: e });
        continue;
      }
      reclaimed += Math.max(0, before - this.layers.list().reduce((n, l) => n + l.size, 0));
    }
    return { ImagesDeleted: deleted, SpaceReclaimed: reclaimed };
  }

  /** The manifest an image was pulled with, or one made from its record (built, imported, loaded). */
  private async manifestOf(rec: ImageRecord): Promise<{ bytes: Buffer; mediaType: string }> {
    if (rec.manifestDigest && (await this.content.has(rec.manifestDigest))) {
      const bytes = await this.content.read(rec.manifestDigest);
      const mt =
        (JSON.parse(bytes.toString("utf8")) as { mediaType?: string }).mediaType ?? MediaTypes.manifest;
      return { bytes, mediaType: mt };
    }
    const size = (await this.content.info(rec.id)).size;
    const manifest = {
      schemaVersion: 2,
      mediaType: MediaTypes.manifest,
      config: { mediaType: MediaTypes.config, digest: rec.id, size },
      layers: rec.layers.map((l) => ({ mediaType: l.mediaType, digest: l.digest, size: l.size })),
    };
    return { bytes: Buffer.from(JSON.stringify(manifest)), mediaType: MediaTypes.manifest };
  }

  /** What listing and history read of the store. */
  private listing(): ListingSource {
    return {
      records: () => this.records.all(),
      get: (id) => this.records.get(id),
      refsOf: (id) => this.records.refsOf(id),
      find: (ref) => this.find(ref),
      config: (id) => this.config(id),
      view: (rec) => this.view(rec),
      layerSize: (chainId) => this.layers.get(chainId)?.size ?? 0,
    };
  }

  private archiveHost(): ArchiveHost {
    return {
      content: this.content,
      layers: this.layers,
      tmpDir: this.tmpDir,
      manifestOf: (rec) => this.manifestOf(rec),
      commit: (c) => this.commitImage(c.config, c.layers, { configBytes: c.configBytes }),
      setRef: (ref, id) => this.locked(() => this.setTag(ref, id)),
    };
  }

  /** The image a name, reference, full ID or unique ID prefix designates (Docker's GetImage). */
  private find(nameOrId: string): ImageRecord {
    const any = parseAny(nameOrId);
    if (any.kind === "id") {
      const rec = this.records.get(any.id);
      if (rec && !rec.ghost) return rec;
      throw new NotFoundError(`No such image: ${any.id}`);
    }
    let ref = withDefaultTag(any.ref);
    if (ref.digest && ref.tag !== undefined) ref = { domain: ref.domain, path: ref.path, digest: ref.digest };
    const id = this.records.lookup(ref);
    const byRef = id ? this.records.get(id) : undefined;
    if (byRef && !byRef.ghost) return byRef;
    const prefix = stripDigestAlgo(nameOrId);
    if (/^[a-f0-9]+$/.test(prefix)) {
      const matches = this.records.all().filter((r) => !r.ghost && r.id.slice(7).startsWith(prefix));
      if (matches.length === 1) return matches[0];
    }
    throw new NotFoundError(`No such image: ${familiarString(ref)}`);
  }

  private config(id: string): OciImageConfig {
    const c = this.configs.get(id);
    if (!c) throw new NotFoundError(`No such image: ${id}`);
    return c;
  }

  private view(rec: ImageRecord): ImageView {
    const size = rec.layers.reduce((n, l) => n + (this.layers.get(l.chainId)?.size ?? 0), 0);
    return { rec, config: this.config(rec.id), refs: this.records.refsOf(rec.id), size };
  }

  private async setTag(ref: Reference, id: string): Promise<void> {
    await this.records.setRef(ref, id);
    const rec = this.records.get(id);
    if (rec) await this.records.put({ ...rec, lastTagTime: nowRfc3339() });
    this.emit("tag", id, familiarString(ref));
  }

  /** Deletes an image; one still used by a container becomes a ghost that keeps its layers. */
  private async deleteImage(id: string, usedByContainer: boolean): Promise<string[]> {
    const rec = this.records.get(id);
    if (!rec) return [];
    if (usedByContainer || (this.holds.get(id) ?? 0) > 0) {
      await this.records.put({ ...rec, ghost: true });
      return [];
    }
    await this.records.delete(id);
    this.configs.delete(id);
    const top = topChain(rec);
    const deleted = top ? await this.layers.release(top) : [];
    await this.deleteUnusedBlobs(rec);
    return deleted;
  }

  /** Deletes ghosts that no container holds any more. */
  private async collectGhosts(inUse?: RemoveOptions["inUse"]): Promise<void> {
    for (const rec of this.records.all()) {
      if (rec.ghost && !this.holds.get(rec.id) && !inUse?.(rec.id)) await this.deleteImage(rec.id, false);
    }
  }

  /** Deletes the blobs of a deleted record that no other record references. */
  private async deleteUnusedBlobs(gone: ImageRecord): Promise<void> {
    for (const d of blobsOf(gone)) if (!this.records.blobInUse(d)) await this.content.delete(d);
  }

  private emit(action: string, id: string, name?: string): void {
    const labels = this.configs.get(id)?.config?.Labels ?? {};
    this.events({
      Type: "image",
      Action: action,
      Actor: { ID: id, Attributes: { ...labels, name: name ?? id } },
    });
  }

  private locked<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.queue.then(fn, fn);
    this.queue = run.catch(() => {});
    return run;
  }
}

function topChain(rec: ImageRecord): string | null {
  return rec.layers.length ? rec.layers[rec.layers.length - 1].chainId : null;
}
