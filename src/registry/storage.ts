import { createHash, type Hash, randomUUID } from "node:crypto";
import { createReadStream, createWriteStream } from "node:fs";
import { mkdir, open, readdir, readFile, rename, rm, stat, utimes, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { FsContentStore, isDigest, sha256Digest } from "../content/index.ts";
import { ensureDir, fsyncDir, writeFileAtomic } from "../util/index.ts";
import { RegistryError } from "./errors.ts";

/** Repository names as the spec's grammar allows them. */
export const NAME_RE = /^[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*)*$/;
/** Tags as the spec allows them. */
export const TAG_RE = /^[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}$/;

/** A manifest as stored: its bytes live in the blob store, the repository keeps the media type. */
export interface StoredManifest {
  digest: string;
  mediaType: string;
  size: number;
}

/** A referrer of a subject manifest: the descriptor the referrers API lists. */
export interface ReferrerDescriptor {
  mediaType: string;
  digest: string;
  size: number;
  artifactType?: string;
  annotations?: Record<string, string>;
}

interface Upload {
  id: string;
  repo: string;
  offset: number;
  hash: Hash;
  /** Serialises PATCH/PUT of one session: a second request waits for the first. */
  busy: Promise<unknown>;
}

/**
 * The registry's disk layout under `--root`:
 * `content/blobs/sha256/<hex>` (blobs and manifests, once for all repositories, via content/),
 * `repositories/<name>/_layers/<hex>` (a blob belongs to the repository), `_manifests/revisions/<hex>` (the
 * manifest's media type), `_manifests/tags/<tag>` (a digest), `_referrers/<subject-hex>/<hex>` (a descriptor),
 * and `uploads/<uuid>` (data of an upload in progress).
 */
export class RegistryStorage {
  readonly root: string;
  readonly blobs: FsContentStore;
  readonly repoDir: string;
  readonly uploadDir: string;
  readonly tmpDir: string;
  private readonly uploads = new Map<string, Upload>();

  constructor(root: string) {
    this.root = root;
    this.blobs = new FsContentStore(root);
    this.repoDir = join(root, "repositories");
    this.uploadDir = join(root, "uploads");
    this.tmpDir = join(root, "tmp");
  }

  async init(): Promise<void> {
    await this.blobs.init();
    await ensureDir(this.repoDir);
    await ensureDir(this.uploadDir);
  }

  private repo(name: string): string {
    if (!NAME_RE.test(name) || name.length > 255) {
      throw new RegistryError("NAME_INVALID", "invalid repository name", { detail: { name } });
    }
    return join(this.repoDir, name);
  }

  async repoExists(name: string): Promise<boolean> {
    return exists(this.repo(name));
  }

  // --- blobs ---

  /** The blob's size when it is in `repo`; BLOB_UNKNOWN otherwise. Touching it tells gc it is in use. */
  async blobInRepo(repo: string, digest: string): Promise<number> {
    checkDigest(digest);
    const link = join(this.repo(repo), "_layers", digest.slice(7));
    if (!(await exists(link))) throw blobUnknown(digest);
    try {
      const st = await stat(this.blobs.path(digest));
      const now = new Date();
      await utimes(this.blobs.path(digest), now, now).catch(() => undefined);
      return st.size;
    } catch {
      throw blobUnknown(digest);
    }
  }

  blobPath(digest: string): string {
    return this.blobs.path(digest);
  }

  /** Makes a stored blob part of `repo`. */
  async linkBlob(repo: string, digest: string): Promise<void> {
    const dir = join(this.repo(repo), "_layers");
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, digest.slice(7)), "");
  }

  async unlinkBlob(repo: string, digest: string): Promise<void> {
    checkDigest(digest);
    const link = join(this.repo(repo), "_layers", digest.slice(7));
    if (!(await exists(link))) throw blobUnknown(digest);
    await rm(link, { force: true });
  }

  /** Cross-repository mount: true when the blob exists in `from` (and now in `repo`). */
  async mountBlob(repo: string, from: string, digest: string): Promise<boolean> {
    try {
      await this.blobInRepo(from, digest);
    } catch {
      return false;
    }
    await this.linkBlob(repo, digest);
    return true;
  }

  /** A monolithic upload: the body must hash to `digest`. */
  async putBlob(repo: string, digest: string, body: Readable): Promise<number> {
    checkDigest(digest);
    try {
      const info = await this.blobs.ingest(body, { expectedDigest: digest });
      await this.linkBlob(repo, digest);
      return info.size;
    } catch (e) {
      if (e instanceof Error && /mismatch/.test(e.message)) {
        throw new RegistryError("DIGEST_INVALID", "provided digest did not match uploaded content", {
          detail: { expected: digest },
        });
      }
      throw e;
    }
  }

  // --- upload sessions ---

  async startUpload(repo: string): Promise<Upload> {
    this.repo(repo);
    const id = randomUUID();
    await writeFile(join(this.uploadDir, id), "", { flag: "wx" });
    const u: Upload = { id, repo, offset: 0, hash: createHash("sha256"), busy: Promise.resolve() };
    this.uploads.set(id, u);
    return u;
  }

  getUpload(repo: string, id: string): Upload {
    const u = this.uploads.get(id);
    if (!u || u.repo !== repo) {
      throw new RegistryError("BLOB_UPLOAD_UNKNOWN", "blob upload unknown to registry", { detail: { id } });
    }
    return u;
  }

  /** Appends a chunk; `start` (from Content-Range) must equal the current offset, else 416. */
  appendUpload(u: Upload, body: Readable, start?: number): Promise<number> {
    return this.serial(u, async () => {
      if (start !== undefined && start !== u.offset) {
        body.resume();
        throw new RegistryError("RANGE_INVALID", "invalid content range", {
          detail: { offset: u.offset, start },
        });
      }
      const file = join(this.uploadDir, u.id);
      let added = 0;
      const hash = u.hash.copy();
      await pipeline(
        body,
        async function* (src: AsyncIterable<Buffer>) {
          for await (const c of src) {
            hash.update(c);
            added += c.length;
            yield c;
          }
        },
        createWriteStream(file, { flags: "r+", start: u.offset }),
      );
      u.hash = hash;
      u.offset += added;
      return u.offset;
    });
  }

  /** Finishes an upload: checks the digest, moves the data into the blob store, links it into the repo. */
  finishUpload(u: Upload, digest: string): Promise<number> {
    return this.serial(u, async () => {
      checkDigest(digest);
      const actual = `sha256:${u.hash.copy().digest("hex")}`;
      if (actual !== digest) {
        throw new RegistryError("DIGEST_INVALID", "provided digest did not match uploaded content", {
          detail: { expected: digest, actual },
        });
      }
      const file = join(this.uploadDir, u.id);
      const fh = await open(file, "r+");
      try {
        // A chunk that failed half-way may have left bytes past the offset.
        await fh.truncate(u.offset);
        await fh.sync();
      } finally {
        await fh.close();
      }
      // Same content, same name: two sessions finishing the same blob at once both rename a correct file.
      await ensureDir(this.blobs.blobDir);
      await rename(file, this.blobs.path(digest));
      await fsyncDir(this.blobs.blobDir);
      this.uploads.delete(u.id);
      await this.linkBlob(u.repo, digest);
      return u.offset;
    });
  }

  async cancelUpload(u: Upload): Promise<void> {
    this.uploads.delete(u.id);
    await rm(join(this.uploadDir, u.id), { force: true });
  }

  private serial<T>(u: Upload, fn: () => Promise<T>): Promise<T> {
    const run = u.busy.then(fn, fn);
    u.busy = run.catch(() => undefined);
    return run;
  }

  // --- manifests ---

  /** The digest a tag or digest reference names in `repo`; MANIFEST_UNKNOWN otherwise. */
  async resolveManifest(repo: string, reference: string): Promise<StoredManifest> {
    const dir = join(this.repo(repo), "_manifests");
    let digest = reference;
    if (!isDigest(reference)) {
      if (!TAG_RE.test(reference)) throw new RegistryError("MANIFEST_INVALID", "invalid tag");
      try {
        digest = (await readFile(join(dir, "tags", reference), "utf8")).trim();
      } catch {
        throw manifestUnknown(reference);
      }
    }
    let mediaType: string;
    try {
      mediaType = (await readFile(join(dir, "revisions", digest.slice(7)), "utf8")).trim();
    } catch {
      throw manifestUnknown(reference);
    }
    try {
      const st = await stat(this.blobs.path(digest));
      return { digest, mediaType, size: st.size };
    } catch {
      throw manifestUnknown(reference);
    }
  }

  async readManifest(m: StoredManifest): Promise<Buffer> {
    return this.blobs.read(m.digest);
  }

  /** Stores a manifest under its digest (and `tag`), after its blobs and children were checked by the caller. */
  async putManifest(
    repo: string,
    body: Buffer,
    opts: { mediaType: string; tag?: string; subject?: string; referrer?: ReferrerDescriptor },
  ): Promise<string> {
    const dir = join(this.repo(repo), "_manifests");
    const digest = sha256Digest(body);
    await this.blobs.writeBlob(body, digest);
    await ensureDir(join(dir, "revisions"));
    await writeFileAtomic(join(dir, "revisions", digest.slice(7)), opts.mediaType, { tmpDir: this.tmpDir });
    if (opts.tag) {
      await ensureDir(join(dir, "tags"));
      await writeFileAtomic(join(dir, "tags", opts.tag), digest, { tmpDir: this.tmpDir });
    }
    if (opts.subject && opts.referrer) {
      const rdir = join(this.repo(repo), "_referrers", opts.subject.slice(7));
      await ensureDir(rdir);
      await writeFileAtomic(join(rdir, digest.slice(7)), JSON.stringify(opts.referrer), {
        tmpDir: this.tmpDir,
      });
    }
    return digest;
  }

  async hasRevision(repo: string, digest: string): Promise<boolean> {
    return exists(join(this.repo(repo), "_manifests", "revisions", digest.slice(7)));
  }

  /** Deletes a tag, or by digest the manifest with every tag and referrer entry pointing at it. */
  async deleteManifest(repo: string, reference: string): Promise<void> {
    const dir = join(this.repo(repo), "_manifests");
    if (!isDigest(reference)) {
      const p = join(dir, "tags", reference);
      if (!(await exists(p))) throw manifestUnknown(reference);
      await rm(p, { force: true });
      return;
    }
    await this.resolveManifest(repo, reference);
    for (const t of await list(join(dir, "tags"))) {
      const d = (await readFile(join(dir, "tags", t), "utf8").catch(() => "")).trim();
      if (d === reference) await rm(join(dir, "tags", t), { force: true });
    }
    await rm(join(dir, "revisions", reference.slice(7)), { force: true });
    const refDir = join(this.repo(repo), "_referrers");
    for (const s of await list(refDir)) await rm(join(refDir, s, reference.slice(7)), { force: true });
    await rm(join(refDir, reference.slice(7)), { recursive: true, force: true });
  }

  async tags(repo: string): Promise<string[]> {
    if (!(await this.repoExists(repo))) {
      throw new RegistryError("NAME_UNKNOWN", "repository name not known to registry", {
        detail: { name: repo },
      });
    }
    return (await list(join(this.repo(repo), "_manifests", "tags"))).sort();
  }

  async referrers(repo: string, subject: string): Promise<ReferrerDescriptor[]> {
    checkDigest(subject);
    const dir = join(this.repo(repo), "_referrers", subject.slice(7));
    const out: ReferrerDescriptor[] = [];
    for (const f of (await list(dir)).sort()) {
      try {
        out.push(JSON.parse(await readFile(join(dir, f), "utf8")) as ReferrerDescriptor);
      } catch {
        // Removed while listing.
      }
    }
    return out;
  }

  /** Every repository name, sorted. */
  async catalog(): Promise<string[]> {
    const out: string[] = [];
    const walk = async (dir: string, prefix: string): Promise<void> => {
      for (const e of await readdir(dir, { withFileTypes: true }).catch(() => [])) {
        if (!e.isDirectory() || e.name.startsWith("_")) continue;
        const name = prefix ? `${prefix}/${e.name}` : e.name;
        if (await exists(join(dir, e.name, "_manifests"))) out.push(name);
        await walk(join(dir, e.name), name);
      }
    };
    await walk(this.repoDir, "");
    return out.sort();
  }

  /** The data of an upload file, for gc's age check. */
  uploadFile(id: string): string {
    return join(this.uploadDir, id);
  }

  readBlobRange(digest: string, start: number, end: number): Readable {
    return createReadStream(this.blobs.path(digest), { start, end });
  }
}

function checkDigest(d: string): void {
  if (!isDigest(d)) throw new RegistryError("DIGEST_INVALID", "invalid digest", { detail: { digest: d } });
}

function blobUnknown(digest: string): RegistryError {
  return new RegistryError("BLOB_UNKNOWN", "blob unknown to registry", { detail: { digest } });
}

function manifestUnknown(reference: string): RegistryError {
  return new RegistryError("MANIFEST_UNKNOWN", "manifest unknown", { detail: { reference } });
}

async function exists(p: string): Promise<boolean> {
  try {
    await stat(p);
    return true;
  } catch {
    return false;
  }
}

async function list(dir: string): Promise<string[]> {
  try {
    return (await readdir(dir)).filter((n) => !n.startsWith("."));
  } catch {
    return [];
  }
}
