import { join } from "node:path";
import type { BuildBackend } from "../api/index.ts";
import type { BuildCacheRecord, ImageInspect } from "../apitypes/index.ts";
import type { Builder } from "../build/index.ts";
import type { BuildkitBackend } from "../buildkit/index.ts";
import type { ContainerService } from "../container/index.ts";
import { InvalidParameterError } from "../errdefs/index.ts";
import { familiarString, type LocalImageService, parseNamed } from "../image/index.ts";
import { hostSys, scanUpperDir } from "../layer/index.ts";
import type { IdMap } from "../util/index.ts";

/**
 * Wires the builder to the image and container services; the build cache loads from `<dataRoot>/build`. The
 * classic `POST /build` and BuildKit's front end get the same builder. The builder's code and its cache load
 * on the first call that needs them (a build, a commit, a prune, `system df`), not at daemon start: most
 * daemons build rarely, and its ~80 KB of code and the cache index would sit in every idle daemon's heap.
 */
export function buildBackend(o: {
  dataRoot: string;
  tmpDir: string;
  images: LocalImageService;
  containers: ContainerService;
  /** false when containers cannot be frozen (a rootless daemon without cgroups): commit then copies a running one as it is. */
  canPause?: boolean;
  /** `--userns-remap`: the build writes host ids and commits container ones. */
  idMap?: IdMap;
}): BuildBackend & { buildkit: BuildkitBackend; cacheUsage(): Promise<BuildCacheRecord[]> } {
  const { images, containers } = o;
  const checkRef = (ref: string) => {
    const r = parseNamed(ref);
    if (r.digest)
      throw new InvalidParameterError(`invalid reference format: ${ref}: a tag cannot have a digest`);
    return r;
  };
  type Loaded = { builder: Builder; commitContainer: typeof import("../build/index.ts").commitContainer };
  let loading: Promise<Loaded> | undefined;
  const load = (): Promise<Loaded> =>
    (loading ??= import("../build/index.ts")
      .then(async (m) => {
        const builder = new m.Builder({
          dir: join(o.dataRoot, "build"),
          tmpDir: o.tmpDir,
          ...(o.idMap ? { idMap: o.idMap } : {}),
          images: {
            content: images.content,
            layers: images.layers,
            resolve: (ref) => images.resolve(ref),
            layersOf: (ref) => images.layersOf(ref),
            parentOf: (ref) => images.parentOf(ref),
            commitImage: (config, layers, opts) => images.commitImage(config, layers, opts),
            tag: async (id, ref) => {
              const r = checkRef(ref);
              await images.tag(id, familiarString({ ...r, tag: undefined }), r.tag);
            },
            checkRef: (ref) => void checkRef(ref),
            pull: async (ref, progress, opts) => {
              // BuildKit names Docker Hub by its registry host, as the client's auth provider expects.
              const domain = parseNamed(ref).domain;
              const auth = await opts?.auth?.(domain === "docker.io" ? "registry-1.docker.io" : domain);
              return images.pull(ref, {
                progress: (l) => progress(l as Record<string, unknown>),
                ...(auth ? { auth } : {}),
              });
            },
          },
          containers: {
            create: (req, opts) => containers.create(req, opts),
            attach: (ref) => containers.attach(ref),
            start: (ref) => containers.start(ref),
            wait: (ref, opts) => containers.wait(ref, opts),
            kill: (ref, sig) => containers.kill(ref, sig),
            remove: (ref, opts) => containers.remove(ref, opts),
            // The data root's layout: containers/<id>/upper is the container's writable layer.
            upperDir: (id) => join(o.dataRoot, "containers", id, "upper"),
          },
        });
        await builder.init();
        return { builder, commitContainer: m.commitContainer };
      })
      .catch((e: unknown) => {
        // An import that failed is tried again by the next call (a broken cache is logged, not thrown).
        loading = undefined;
        throw e;
      }));
  const tag = async (id: string, ref: string) => {
    const r = checkRef(ref);
    await images.tag(id, familiarString({ ...r, tag: undefined }), r.tag);
  };
  const buildkit: BuildkitBackend = {
    prepare: async (body, req) => (await load()).builder.prepare(body, req),
    withRootfs: async (imageId, fn) => (await load()).builder.withImageRootfs(imageId, fn),
    tarDir: async (dir) =>
      (await scanUpperDir(dir, { sys: hostSys, ...(o.idMap ? { idMap: o.idMap } : {}) })).tar(),
    tag,
    prune: async (opts) => (await load()).builder.prune(opts),
    cacheRecords: async () => {
      const { builder } = await load();
      const out: { key: string; imageId: string; size: number; created: number }[] = [];
      for (const [key, imageId] of builder.cache.list()) {
        const img = await images.inspect(imageId).catch(() => undefined);
        if (!img) continue;
        // A step's record is as big as what it added, as `system df` counts it (not the whole image).
        const parent = img.Parent ? await images.inspect(img.Parent).catch(() => undefined) : undefined;
        const size = Math.max(0, (img.Size ?? 0) - (parent?.Size ?? 0));
        out.push({ key, imageId, size, created: Date.parse(img.Created ?? "") || 0 });
      }
      return out;
    },
  };
  return {
    buildkit,
    cacheUsage: async () => buildCacheUsage((await load()).builder, images),
    prepare: async (body, req) => (await load()).builder.prepare(body, req),
    commit: async (req) => {
      const { builder, commitContainer } = await load();
      return commitContainer(
        {
          builder,
          inspect: (ref) => containers.inspect(ref),
          pause: (ref) => containers.pause(ref),
          unpause: (ref) => containers.unpause(ref),
          announce: (ref, action, attrs) => containers.announce(ref, action, attrs),
        },
        o.canPause === false ? { ...req, pause: false } : req,
      );
    },
    prune: async (opts) => (await load()).builder.prune(opts),
  };
}

/**
 * The build cache as `GET /system/df` shows it: one record per cached step, sized by the layer that step added.
 * A step whose layers a listed image also has is Shared: its bytes are counted under Images already.
 */
async function buildCacheUsage(builder: Builder, images: LocalImageService): Promise<BuildCacheRecord[]> {
  const inspect = (id: string) => images.inspect(id).catch(() => undefined);
  const listed = await Promise.all((await images.list({ all: false })).map((i) => inspect(i.Id)));
  const kept = listed.filter((i): i is ImageInspect => !!i).map((i) => i.RootFS.Layers ?? []);
  const out: BuildCacheRecord[] = [];
  for (const [key, imageId] of builder.cache.list()) {
    const img = await inspect(imageId);
    if (!img) continue;
    const parent = img.Parent ? await inspect(img.Parent) : undefined;
    const layers = img.RootFS.Layers ?? [];
    const created = img.Created ?? undefined;
    out.push({
      ID: key.slice(0, 25),
      Parents: null,
      Type: "regular",
      Description: (await images.history(imageId).catch(() => []))[0]?.CreatedBy ?? "",
      InUse: false,
      Shared: kept.some((k) => layers.length > 0 && layers.every((l, i) => k[i] === l)),
      Size: Math.max(0, (img.Size ?? 0) - (parent?.Size ?? 0)),
      CreatedAt: created,
      LastUsedAt: created,
      UsageCount: 1,
    });
  }
  return out;
}
