import { readdir, readFile, rm } from "node:fs/promises";
import { join } from "node:path";
import { isErrno } from "../errdefs/index.ts";
import { ensureDir, log, writeJsonAtomic } from "../util/index.ts";
import { familiarString, fullString, parseStored, type Reference } from "./reference.ts";

/** One layer of an image as stored: its blob in content/ and its unpacked form in layers/. */
export interface LayerRef {
  diffId: string;
  chainId: string;
  /** Digest of the (usually compressed) blob in the content store. */
  digest: string;
  mediaType: string;
  /** Size of the blob in bytes. */
  size: number;
  /** The gzip blob a push made of an uncompressed layer, kept so the next push need not compress it again. */
  gzip?: { digest: string; size: number };
}

/** What wharf keeps about one image besides its config blob (whose digest is the ID). */
export interface ImageRecord {
  id: string;
  manifestDigest?: string;
  layers: LayerRef[];
  /** Parent image ID, for images built or committed locally. */
  parent?: string;
  lastTagTime?: string;
  /**
   * Removed by the user while a container still used it: hidden from every lookup but the container's mount,
   * and deleted for good once the last container lets go.
   */
  ghost?: boolean;
}

/** The image records and the reference (tag/digest → image ID) table, in memory and on disk. */
export class ImageRecords {
  readonly recordDir: string;
  readonly refsFile: string;
  readonly tmpDir: string;
  private readonly records = new Map<string, ImageRecord>();
  private readonly refs = new Map<string, { ref: Reference; id: string }>();
  /** How many records reference each blob: what blob GC asks instead of scanning every record. */
  private readonly blobUsers = new Map<string, number>();

  constructor(imagesDir: string, tmpDir: string) {
    this.recordDir = join(imagesDir, "records");
    this.refsFile = join(imagesDir, "references.json");
    this.tmpDir = tmpDir;
  }

  /** Loads everything; unreadable records are dropped (they were never completely written). */
  async init(): Promise<void> {
    await ensureDir(this.recordDir, 0o700);
    this.records.clear();
    this.refs.clear();
    this.blobUsers.clear();
    for (const name of await readdir(this.recordDir)) {
      if (!/^[a-f0-9]{64}\.json$/.test(name)) continue;
      try {
        const rec = JSON.parse(await readFile(join(this.recordDir, name), "utf8")) as ImageRecord;
        if (rec.id !== `sha256:${name.slice(0, 64)}` || !Array.isArray(rec.layers))
          throw new Error("bad record");
        this.records.set(rec.id, rec);
        this.count(rec, 1);
      } catch (e) {
        log("warn", "image: dropping unreadable image record", { file: name, err: e });
        await rm(join(this.recordDir, name), { force: true });
      }
    }
    let table: Record<string, string> = {};
    try {
      table =
        (JSON.parse(await readFile(this.refsFile, "utf8")) as { references?: Record<string, string> })
          .references ?? {};
    } catch (e) {
      if (!isErrno(e, "ENOENT")) log("warn", "image: unreadable reference table, starting empty", { err: e });
    }
    for (const [key, id] of Object.entries(table)) {
      try {
        this.refs.set(key, { ref: parseStored(key), id });
      } catch {
        log("warn", "image: dropping unparsable reference", { ref: key });
      }
    }
  }

  get(id: string): ImageRecord | undefined {
    return this.records.get(id);
  }

  all(): ImageRecord[] {
    return [...this.records.values()];
  }

  async put(rec: ImageRecord): Promise<void> {
    await writeJsonAtomic(join(this.recordDir, `${rec.id.slice(7)}.json`), rec, { tmpDir: this.tmpDir });
    const old = this.records.get(rec.id);
    if (old) this.count(old, -1);
    this.records.set(rec.id, rec);
    this.count(rec, 1);
  }

  async delete(id: string): Promise<void> {
    await rm(join(this.recordDir, `${id.slice(7)}.json`), { force: true });
    const old = this.records.get(id);
    if (old) this.count(old, -1);
    this.records.delete(id);
  }

  /** Whether any record (ghosts included) references a blob as its config, manifest or a layer. */
  blobInUse(digest: string): boolean {
    return this.blobUsers.has(digest);
  }

  private count(rec: ImageRecord, by: 1 | -1): void {
    for (const d of blobsOf(rec)) {
      const n = (this.blobUsers.get(d) ?? 0) + by;
      if (n > 0) this.blobUsers.set(d, n);
      else this.blobUsers.delete(d);
    }
  }

  /** The image a full reference points at. */
  lookup(ref: Reference): string | undefined {
    return this.refs.get(fullString(ref))?.id;
  }

  /** References to `id`, sorted by their familiar form (as Docker lists RepoTags). */
  refsOf(id: string): Reference[] {
    return [...this.refs.values()]
      .filter((r) => r.id === id)
      .map((r) => r.ref)
      .sort((a, b) => (familiarString(a) < familiarString(b) ? -1 : 1));
  }

  /** Tagged references of one repository with their image IDs, sorted by tag. */
  tagsOf(repo: Pick<Reference, "domain" | "path">): { ref: Reference; id: string }[] {
    return [...this.refs.values()]
      .filter((r) => r.ref.domain === repo.domain && r.ref.path === repo.path && r.ref.tag !== undefined)
      .sort((a, b) => ((a.ref.tag ?? "") < (b.ref.tag ?? "") ? -1 : 1));
  }

  async setRef(ref: Reference, id: string): Promise<void> {
    this.refs.set(fullString(ref), { ref, id });
    await this.saveRefs();
  }

  /** Removes references; the ones that were there are returned. */
  async deleteRefs(refs: Reference[]): Promise<Reference[]> {
    const gone = refs.filter((r) => this.refs.delete(fullString(r)));
    if (gone.length) await this.saveRefs();
    return gone;
  }

  /** Drops references to images that do not exist (a crash between writing them). */
  async pruneRefs(): Promise<void> {
    let changed = false;
    for (const [k, v] of this.refs) {
      const rec = this.records.get(v.id);
      if (!rec || rec.ghost) {
        this.refs.delete(k);
        changed = true;
      }
    }
    if (changed) await this.saveRefs();
  }

  private saveRefs(): Promise<void> {
    const table: Record<string, string> = {};
    for (const [k, v] of this.refs) table[k] = v.id;
    return writeJsonAtomic(this.refsFile, { references: table }, { tmpDir: this.tmpDir });
  }
}

/** The blobs a record references, each once: its config (the ID), its manifest and its layers. */
export function blobsOf(rec: ImageRecord): Set<string> {
  const out = new Set([rec.id, ...rec.layers.map((l) => l.digest)]);
  for (const l of rec.layers) if (l.gzip) out.add(l.gzip.digest);
  if (rec.manifestDigest) out.add(rec.manifestDigest);
  return out;
}
