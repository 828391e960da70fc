/**
 * A step's filesystem work: mounting a stage's or an image's rootfs for the builder's own file operations,
 * and turning an upper dir (a RUN container's, a commit's, a COPY's scratch mount) into a layer.
 */
import { randomBytes } from "node:crypto";
import { chmod, lchown, lstat, mkdir, readdir, rm } from "node:fs/promises";
import { join, posix } from "node:path";
import type { LayerRef } from "../image/index.ts";
import { type DiffEntry, hostSys, type LayerInfo, scanUpperDir } from "../layer/index.ts";
import { type IdMap, tee } from "../util/index.ts";
import type { BuildImageBackend } from "./types.ts";

/** image/'s MediaTypes.layer: a plain layer tar, compressed when pushed. */
const PLAIN_LAYER = "application/vnd.oci.image.layer.v1.tar";
/** Mount points runc creates for the engine's bind mounts: not the step's changes. */
const ENGINE_FILES = new Set(["etc/hosts", "etc/hostname", "etc/resolv.conf"]);

/** What the rootfs work needs of the builder. */
export interface RootfsDeps {
  images: BuildImageBackend;
  /** `<dataRoot>/build`: scratch mounts go under its `work/`. */
  dir: string;
  /** `--userns-remap`: files the build writes get host ids, layer tars the container's. */
  idMap?: IdMap;
}

/** A step's new layer, held in the layer store until `release`. */
export interface StepLayer {
  ref: LayerRef;
  release(): Promise<void>;
}

/**
 * Turns an upper dir into a layer on top of `state`'s; undefined when nothing changed. With `adopt` (an
 * unmounted upper dir nobody needs after) the dir itself becomes the layer, so only its tar is written.
 */
export async function layerFromUpper(
  d: RootfsDeps,
  o: { state: { layers: LayerRef[] }; upper: string; mountPoints?: string[]; adopt?: boolean },
): Promise<StepLayer | undefined> {
  const { state, upper } = o;
  const points = new Set(o.mountPoints ?? []);
  const stubs = await mountStubDirs(upper, points);
  let excluded = false;
  const diff = await scanUpperDir(upper, {
    sys: hostSys,
    ...(d.idMap ? { idMap: d.idMap } : {}),
    exclude: (e) => {
      const out =
        (ENGINE_FILES.has(e.rel) && e.kind === "file" && e.st.size === 0) ||
        (points.has(e.rel) && (e.kind === "dir" || (e.kind === "file" && e.st.size === 0))) ||
        (stubs.has(e.rel) && e.kind === "dir" && !e.opaque);
      excluded ||= out;
      return out;
    },
  });
  if (diff.entries.length === 0) return undefined;
  const { content, layers } = d.images;
  const parent = state.layers.length ? state.layers[state.layers.length - 1].chainId : null;
  const src = diff.tar();
  // The layer's blob is its tar as is, as dockerd keeps a built layer: its digest is the diff ID, one hash and
  // no gzip (a second of CPU for 50 MB); a push compresses it (image/push.ts).
  let info: LayerInfo;
  let blob: { digest: string; size: number };
  if (o.adopt && !excluded) {
    blob = await content.ingest(src);
    info = await layers.adoptDir(upper, { diffId: blob.digest, parent, size: fileBytes(diff.entries) });
  } else {
    // One walk of the upper dir feeds both the blob and the layer store: no second read.
    const [toBlob, plain] = tee(src);
    [blob, info] = await Promise.all([content.ingest(toBlob), layers.applyTar(plain, parent)]).catch(
      (e: unknown) => {
        for (const st of [src, toBlob, plain]) st.destroy();
        throw e;
      },
    );
  }
  return {
    ref: {
      diffId: info.diffId,
      chainId: info.chainId,
      digest: blob.digest,
      mediaType: PLAIN_LAYER,
      size: blob.size,
    },
    release: async () => {
      await layers.release(info.chainId);
    },
  };
}

/** Mounts the state's rootfs with a fresh upper dir, runs `fn` on it, and returns the upper dir's layer. */
export async function withScratchRootfs(
  d: RootfsDeps,
  o: { state: { layers: LayerRef[] }; fn: (rootfs: string) => Promise<void> },
): Promise<StepLayer | undefined> {
  const dir = join(d.dir, "work", `mnt-${randomBytes(6).toString("hex")}`);
  const upper = join(dir, "upper");
  const target = join(dir, "merged");
  await Promise.all(["upper", "work", "merged"].map((n) => mkdir(join(dir, n), { recursive: true })));
  const top = o.state.layers.length ? o.state.layers[o.state.layers.length - 1].chainId : null;
  try {
    await d.images.layers.mount(top, { upperDir: upper, workDir: join(dir, "work"), target });
    try {
      await o.fn(target);
    } finally {
      await d.images.layers.unmount(target);
    }
    if (d.idMap) await shiftToHost(upper, d.idMap);
    return await layerFromUpper(d, { state: o.state, upper, adopt: true });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** Mounts `layers` read-only (an empty upper dir, thrown away), held until `release`. */
export async function mountImageRootfs(
  d: RootfsDeps,
  layers: LayerRef[],
): Promise<{ dir: string; release(): Promise<void> }> {
  const dir = join(d.dir, "work", `ro-${randomBytes(6).toString("hex")}`);
  const target = join(dir, "merged");
  await Promise.all(["upper", "work", "merged"].map((n) => mkdir(join(dir, n), { recursive: true })));
  try {
    const top = layers.length ? layers[layers.length - 1].chainId : null;
    await d.images.layers.mount(top, {
      upperDir: join(dir, "upper"),
      workDir: join(dir, "work"),
      target,
    });
  } catch (e) {
    await rm(dir, { recursive: true, force: true });
    throw e;
  }
  return {
    dir: target,
    release: async () => {
      try {
        await d.images.layers.unmount(target);
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    },
  };
}

/**
 * The directories runc made only to hold a step's mount points (`/run/buildkit` for an ssh socket): those
 * that hold nothing but mount points and such directories. They stay out of the layer, as BuildKit's mount
 * stub cleaner removes them.
 */
async function mountStubDirs(upper: string, points: Set<string>): Promise<Set<string>> {
  const stubs = new Set<string>();
  const parents = new Set<string>();
  for (const p of points)
    for (let d = posix.dirname(p); d !== "." && d !== "/" && d !== ""; d = posix.dirname(d)) parents.add(d);
  // Deepest first, so a parent sees its children's verdicts.
  for (const d of [...parents].sort((a, b) => b.split("/").length - a.split("/").length)) {
    const names = await readdir(join(upper, d)).catch(() => undefined);
    if (names?.every((n) => points.has(`${d}/${n}`) || stubs.has(`${d}/${n}`))) stubs.add(d);
  }
  return stubs;
}

/** Bytes of regular files in a diff, hard links counted once, as the layer store reports a layer's size. */
function fileBytes(entries: DiffEntry[]): number {
  const seen = new Set<string>();
  let n = 0;
  for (const e of entries) {
    if (e.kind !== "file") continue;
    const key = `${e.st.dev}:${e.st.ino}`;
    if (e.st.nlink > 1 && seen.has(key)) continue;
    seen.add(key);
    n += Number(e.st.size);
  }
  return n;
}

/**
 * Under `--userns-remap`, the build's own file operations (COPY, ADD, WORKDIR) write the ids the container
 * sees; directories overlay copied up from the layers carry host ids already. The first are shifted onto
 * the host's ranges, so the upper dir is what a container of the remapped root would have written.
 */
async function shiftToHost(dir: string, idMap: IdMap): Promise<void> {
  const st = await lstat(dir);
  const ids = { uid: st.uid, gid: st.gid };
  if (!idMap.holdsHost(ids)) {
    const { uid, gid } = idMap.toHost(ids);
    await lchown(dir, uid, gid);
    // chown clears setuid/setgid bits; the mode is the build's to keep.
    if (!st.isSymbolicLink()) await chmod(dir, Number(st.mode) & 0o7777);
  }
  if (!st.isDirectory()) return;
  for (const name of await readdir(dir)) await shiftToHost(join(dir, name), idMap);
}
