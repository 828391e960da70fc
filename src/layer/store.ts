import { createHash, randomBytes, randomInt } from "node:crypto";
import { chown, mkdir, readdir, readFile, readlink, rename, rm, symlink, unlink } from "node:fs/promises";
import { join } from "node:path";
import { type Readable, Transform } from "node:stream";
import { InvalidParameterError, isErrno, NotFoundError } from "../errdefs/index.ts";
import { ensureDir, fsyncDir, type IdMap, log, nowRfc3339, writeJsonAtomic } from "../util/index.ts";
import { chainId as computeChainId } from "./chain.ts";
import { decompressStream } from "./compression.ts";
import { extractLayer } from "./extract.ts";
import { MAX_MOUNT_DATA, mountOverlay, overlayData, unmountOverlay } from "./overlay.ts";
import { hostSys, type LayerSys } from "./sys.ts";

/** One unpacked layer, as `meta.json` records it. */
export interface LayerInfo {
  chainId: string;
  diffId: string;
  /** Chain ID of the layer below, or null for a base layer. */
  parent: string | null;
  /** Bytes of regular files in this layer's diff. */
  size: number;
  /** References held by images and containers; child layers are counted apart (see `children`). */
  refcount: number;
  /** Name of the short symlink `layers/l/<shortId>` → `../<chain-hex>/diff` used in overlay options. */
  shortId: string;
  created: string;
}

/** Where a container's rootfs overlay goes. */
export interface MountOptions {
  upperDir: string;
  workDir: string;
  target: string;
  /** An absolute dir stacked over the image's layers, under the upper dir (Docker's "-init" layer). */
  initDir?: string;
}

/** Layers unpacked once and shared, with overlay mounts of their chains (containerd's Snapshotter, trimmed). */
export interface LayerStore {
  init(): Promise<void>;
  /**
   * Unpacks a layer tar (plain, gzip or zstd) on top of `parent` and returns it with one reference held for the
   * caller (release it when done; a child layer keeps its parent alive by itself). With `maxUnpacked`, a tar
   * that decompresses to more bytes is refused midway (and nothing of it stays).
   */
  applyTar(
    src: Readable,
    parent: string | null,
    opts?: {
      maxUnpacked?: number;
      /** Awaited after the unpack, before the layer goes in: `parent` need only exist by then (a pull's layers unpack side by side). */
      parentReady?: Promise<void>;
    },
  ): Promise<LayerInfo>;
  /**
   * Moves `dir`, already a diff in overlay's format (an unmounted upper dir), in as the layer `diffId` on top of
   * `parent`, without unpacking anything; the caller computed `diffId` from its tar. One reference is held.
   */
  adoptDir(dir: string, l: { diffId: string; parent: string | null; size: number }): Promise<LayerInfo>;
  get(chainId: string): LayerInfo | undefined;
  list(): LayerInfo[];
  /** The read-only diff directory of a layer. */
  diffDir(chainId: string): string;
  /** Diff directories of a chain, top first (as overlay's lowerdir wants them); [] for null. */
  lowerDirs(top: string | null): string[];
  retain(chainId: string): Promise<void>;
  /** Drops one reference; returns the chain IDs deleted because nothing held them any more. */
  release(chainId: string): Promise<string[]>;
  /**
   * Sets every layer's reference count from the holders the caller knows of (all of them), then deletes layers
   * nothing holds. Run at start-up, it repairs counts a crash left too high or too low.
   */
  reconcile(refs: ReadonlyMap<string, number>): Promise<string[]>;
  /** Mounts the chain `top` (null: no layers) with a writable upper dir at `opts.target`. */
  mount(top: string | null, opts: MountOptions): Promise<void>;
  unmount(target: string): Promise<void>;
}

interface Entry extends LayerInfo {
  children: number;
}

const STAGING_PREFIX = "layer-";
const SHORT_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";

/** Layers under `<dataRoot>/layers/<chain-hex>/{diff,meta.json}`, short links in `layers/l/`. */
export class FsLayerStore implements LayerStore {
  readonly layersDir: string;
  readonly linkDir: string;
  /** Lower dir for images with no layers: overlay needs at least one. */
  readonly emptyDir: string;
  readonly tmpDir: string;
  private readonly sys: LayerSys;
  private readonly idMap: IdMap | undefined;
  private readonly layers = new Map<string, Entry>();
  private queue: Promise<unknown> = Promise.resolve();

  /** `opts.idMap` (`--userns-remap`): layers are unpacked with owners shifted onto its host ranges. */
  constructor(dataRoot: string, opts: { sys?: LayerSys; idMap?: IdMap } = {}) {
    this.layersDir = join(dataRoot, "layers");
    this.linkDir = join(this.layersDir, "l");
    this.emptyDir = join(this.layersDir, "empty");
    this.tmpDir = join(dataRoot, "tmp");
    this.sys = opts.sys ?? hostSys;
    this.idMap = opts.idMap;
  }

  async init(): Promise<void> {
    await ensureDir(this.linkDir, 0o700);
    await ensureDir(this.emptyDir);
    await ensureDir(this.tmpDir);
    for (const name of await readdir(this.tmpDir)) {
      if (name.startsWith(STAGING_PREFIX))
        await rm(join(this.tmpDir, name), { recursive: true, force: true });
    }
    this.layers.clear();
    for (const name of await readdir(this.layersDir)) {
      if (!/^[a-f0-9]{64}$/.test(name)) continue;
      const meta = await readMeta(join(this.layersDir, name));
      if (!meta || meta.chainId !== `sha256:${name}`) {
        log("warn", "layer: removing incomplete layer", { layer: name });
        await rm(join(this.layersDir, name), { recursive: true, force: true });
        continue;
      }
      this.layers.set(meta.chainId, { ...meta, children: 0 });
    }
    await this.dropOrphans();
    for (const e of this.layers.values()) if (e.parent) this.layers.get(e.parent)!.children++;
    await this.repairLinks();
  }

  get(chainId: string): LayerInfo | undefined {
    const e = this.layers.get(chainId);
    return e ? publicInfo(e) : undefined;
  }

  list(): LayerInfo[] {
    return [...this.layers.values()].map(publicInfo);
  }

  diffDir(chainId: string): string {
    return join(this.layersDir, hexOf(chainId), "diff");
  }

  lowerDirs(top: string | null): string[] {
    return this.chain(top).map((e) => this.diffDir(e.chainId));
  }

  async applyTar(
    src: Readable,
    parent: string | null,
    opts: { maxUnpacked?: number; parentReady?: Promise<void> } = {},
  ): Promise<LayerInfo> {
    if (parent && !opts.parentReady) this.mustGet(parent);
    const staging = join(this.tmpDir, `${STAGING_PREFIX}${randomBytes(8).toString("hex")}`);
    try {
      await mkdir(join(staging, "diff"), { recursive: true, mode: 0o755 });
      if (this.idMap) await chown(join(staging, "diff"), this.idMap.root.uid, this.idMap.root.gid);
      const { stream } = await decompressStream(src);
      const hash = createHash("sha256");
      const max = opts.maxUnpacked;
      let unpacked = 0;
      const hashing = new Transform({
        transform(chunk: Buffer, _enc, cb) {
          unpacked += chunk.length;
          if (max !== undefined && unpacked > max)
            return cb(
              new InvalidParameterError(
                `layer unpacks to more than ${max} bytes: refused as a decompression bomb`,
              ),
            );
          hash.update(chunk);
          cb(null, chunk);
        },
      });
      stream.once("error", (e) => hashing.destroy(e));
      const stats = await extractLayer(stream.pipe(hashing), join(staging, "diff"), {
        sys: this.sys,
        ...(this.idMap ? { idMap: this.idMap } : {}),
      });
      const diffId = `sha256:${hash.digest("hex")}`;
      const chainId = computeChainId(parent, diffId);
      await opts.parentReady;
      return await this.locked(() => this.commit(staging, { chainId, diffId, parent, size: stats.size }));
    } finally {
      await rm(staging, { recursive: true, force: true });
    }
  }

  async adoptDir(
    dir: string,
    l: { diffId: string; parent: string | null; size: number },
  ): Promise<LayerInfo> {
    if (l.parent) this.mustGet(l.parent);
    const staging = join(this.tmpDir, `${STAGING_PREFIX}${randomBytes(8).toString("hex")}`);
    try {
      await mkdir(staging, { mode: 0o755 });
      await rename(dir, join(staging, "diff"));
      const chainId = computeChainId(l.parent, l.diffId);
      return await this.locked(() => this.commit(staging, { ...l, chainId }));
    } finally {
      await rm(staging, { recursive: true, force: true });
    }
  }

  retain(chainId: string): Promise<void> {
    return this.locked(async () => {
      const e = this.mustGet(chainId);
      e.refcount++;
      await this.writeMeta(e);
    });
  }

  release(chainId: string): Promise<string[]> {
    return this.locked(async () => {
      const e = this.mustGet(chainId);
      if (e.refcount > 0) e.refcount--;
      await this.writeMeta(e);
      return this.collect(e);
    });
  }

  reconcile(refs: ReadonlyMap<string, number>): Promise<string[]> {
    return this.locked(async () => {
      for (const e of this.layers.values()) {
        const want = refs.get(e.chainId) ?? 0;
        if (e.refcount !== want) {
          log("info", "layer: correcting reference count", { layer: e.chainId, was: e.refcount, now: want });
          e.refcount = want;
          await this.writeMeta(e);
        }
      }
      const deleted: string[] = [];
      for (const e of [...this.layers.values()]) {
        if (this.layers.has(e.chainId)) deleted.push(...(await this.collect(e)));
      }
      return deleted;
    });
  }

  async mount(top: string | null, opts: MountOptions): Promise<void> {
    const shorts = this.chain(top).map((e) => e.shortId);
    const base = { upperDir: opts.upperDir, workDir: opts.workDir, target: opts.target };
    const init = opts.initDir ? [opts.initDir] : [];
    const absolute = shorts.length ? shorts.map((s) => join(this.linkDir, s)) : [this.emptyDir];
    if (overlayData({ ...base, lowerDirs: [...init, ...absolute] }).length <= MAX_MOUNT_DATA) {
      await mountOverlay({ ...base, lowerDirs: [...init, ...absolute] }, this.sys);
      return;
    }
    // Too long for one page: name the lower dirs relative to layers/ (as Docker's overlay2 does).
    const relative = [...init, ...shorts.map((s) => `l/${s}`)];
    await mountOverlay({ ...base, lowerDirs: relative, cwd: this.layersDir }, this.sys);
  }

  async unmount(target: string): Promise<void> {
    await unmountOverlay(target, this.sys);
  }

  private async commit(
    staging: string,
    l: { chainId: string; diffId: string; parent: string | null; size: number },
  ): Promise<LayerInfo> {
    const existing = this.layers.get(l.chainId);
    if (existing) {
      existing.refcount++;
      await this.writeMeta(existing);
      return publicInfo(existing);
    }
    // The parent may have been released while this layer was being unpacked.
    const parent = l.parent ? this.mustGet(l.parent) : undefined;
    const e: Entry = { ...l, refcount: 1, shortId: this.newShortId(), created: nowRfc3339(), children: 0 };
    // meta.json goes in before the rename, so a layer directory in place is always complete.
    await writeJsonAtomic(join(staging, "meta.json"), publicInfo(e), { tmpDir: this.tmpDir });
    const dir = join(this.layersDir, hexOf(l.chainId));
    await rename(staging, dir);
    await fsyncDir(this.layersDir);
    await this.link(e);
    this.layers.set(e.chainId, e);
    if (parent) parent.children++;
    return publicInfo(e);
  }

  /** Deletes `e` and then its ancestors, as long as nothing holds them. */
  private async collect(e: Entry): Promise<string[]> {
    const deleted: string[] = [];
    let cur: Entry | undefined = e;
    while (cur && cur.refcount === 0 && cur.children === 0) {
      await this.remove(cur);
      deleted.push(cur.chainId);
      const parent: Entry | undefined = cur.parent ? this.layers.get(cur.parent) : undefined;
      if (parent) parent.children--;
      cur = parent;
    }
    return deleted;
  }

  private async remove(e: Entry): Promise<void> {
    const hex = hexOf(e.chainId);
    // Rename out first: a crash mid-delete then leaves a staging leftover, never a half layer in layers/.
    const trash = join(this.tmpDir, `${STAGING_PREFIX}del-${hex}-${randomBytes(4).toString("hex")}`);
    await rename(join(this.layersDir, hex), trash);
    this.layers.delete(e.chainId);
    await unlink(join(this.linkDir, e.shortId)).catch((err) => {
      if (!isErrno(err, "ENOENT")) throw err;
    });
    await rm(trash, { recursive: true, force: true });
  }

  private chain(top: string | null): Entry[] {
    const out: Entry[] = [];
    for (let id = top; id; ) {
      const e = this.mustGet(id);
      out.push(e);
      id = e.parent;
    }
    return out;
  }

  private mustGet(chainId: string): Entry {
    const e = this.layers.get(chainId);
    if (!e) throw new NotFoundError(`layer does not exist: ${chainId}`);
    return e;
  }

  private writeMeta(e: Entry): Promise<void> {
    return writeJsonAtomic(join(this.layersDir, hexOf(e.chainId), "meta.json"), publicInfo(e), {
      tmpDir: this.tmpDir,
    });
  }

  private async link(e: Entry): Promise<void> {
    const p = join(this.linkDir, e.shortId);
    await rm(p, { force: true });
    await symlink(`../${hexOf(e.chainId)}/diff`, p);
  }

  private newShortId(): string {
    const taken = new Set([...this.layers.values()].map((e) => e.shortId));
    for (;;) {
      let s = "";
      for (let i = 0; i < 26; i++) s += SHORT_ALPHABET[randomInt(SHORT_ALPHABET.length)];
      if (!taken.has(s)) return s;
    }
  }

  /** A layer whose parent is gone cannot be mounted; remove it (and, in turn, its children). */
  private async dropOrphans(): Promise<void> {
    for (let again = true; again; ) {
      again = false;
      for (const e of [...this.layers.values()]) {
        if (e.parent && !this.layers.has(e.parent)) {
          log("warn", "layer: removing layer whose parent is missing", {
            layer: e.chainId,
            parent: e.parent,
          });
          await this.remove(e);
          again = true;
        }
      }
    }
  }

  private async repairLinks(): Promise<void> {
    const wanted = new Map([...this.layers.values()].map((e) => [e.shortId, e]));
    for (const name of await readdir(this.linkDir)) {
      const e = wanted.get(name);
      const target = await readlink(join(this.linkDir, name)).catch(() => "");
      if (e && target === `../${hexOf(e.chainId)}/diff`) {
        wanted.delete(name);
      } else {
        await rm(join(this.linkDir, name), { recursive: true, force: true });
      }
    }
    for (const e of wanted.values()) await this.link(e);
  }

  private locked<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.queue.then(fn, fn);
    this.queue = run.catch(() => {});
    return run;
  }
}

function publicInfo(e: LayerInfo): LayerInfo {
  return {
    chainId: e.chainId,
    diffId: e.diffId,
    parent: e.parent,
    size: e.size,
    refcount: e.refcount,
    shortId: e.shortId,
    created: e.created,
  };
}

function hexOf(chainId: string): string {
  return chainId.startsWith("sha256:") ? chainId.slice(7) : chainId;
}

async function readMeta(dir: string): Promise<LayerInfo | undefined> {
  try {
    const m = JSON.parse(await readFile(join(dir, "meta.json"), "utf8")) as Partial<LayerInfo>;
    const ok =
      typeof m.chainId === "string" &&
      typeof m.diffId === "string" &&
      (m.parent === null || typeof m.parent === "string") &&
      typeof m.size === "number" &&
      typeof m.refcount === "number" &&
      typeof m.shortId === "string" &&
      /^[A-Z0-9]+$/.test(m.shortId);
    if (!ok) return undefined;
    await readdir(join(dir, "diff"));
    return { ...(m as LayerInfo), created: m.created ?? "" };
  } catch (e) {
    if (isErrno(e) || e instanceof SyntaxError) return undefined;
    throw e;
  }
}
