import { createHash, randomBytes } from "node:crypto";
import { createReadStream, createWriteStream } from "node:fs";
import { readdir, readFile, rename, rm, stat, unlink } from "node:fs/promises";
import { join } from "node:path";
import { Readable, Transform } from "node:stream";
import { pipeline } from "node:stream/promises";
import { isErrno, NotFoundError } from "../errdefs/index.ts";
import { ensureDir, fsyncDir } from "../util/index.ts";
import { DigestMismatchError, digestHex, sha256Digest } from "./digest.ts";

/** A stored blob: its digest and length in bytes. */
export interface BlobInfo {
  digest: string;
  size: number;
}

/** What a caller may assert about content it hands to `ingest`. */
export interface IngestOptions {
  expectedDigest?: string;
  expectedSize?: number;
  /** Told the bytes received so far, as they arrive (download progress). */
  onBytes?: (n: number) => void;
}

/** Content-addressed blob storage (containerd's Provider + Ingester + Manager, in one small interface). */
export interface ContentStore {
  init(): Promise<void>;
  has(digest: string): Promise<boolean>;
  /** Where the blob lives (or would live); does not check that it exists. */
  path(digest: string): string;
  info(digest: string): Promise<BlobInfo>;
  read(digest: string): Promise<Buffer>;
  readStream(digest: string): Promise<Readable>;
  writeBlob(data: string | Uint8Array, expectedDigest?: string): Promise<BlobInfo>;
  ingest(src: Readable, opts?: IngestOptions): Promise<BlobInfo>;
  /** Removes a blob; false when it was not there. */
  delete(digest: string): Promise<boolean>;
  list(): Promise<BlobInfo[]>;
}

/** Prefix of ingest temp files in `<dataRoot>/tmp`, so start-up can remove only our own leftovers. */
const TMP_PREFIX = "ingest-";

/** The blob store under `<dataRoot>/content/blobs/sha256/`. */
export class FsContentStore implements ContentStore {
  readonly blobDir: string;
  readonly tmpDir: string;

  constructor(dataRoot: string) {
    this.blobDir = join(dataRoot, "content", "blobs", "sha256");
    this.tmpDir = join(dataRoot, "tmp");
  }

  /** Creates the directories and drops ingests a crash left half-done. */
  async init(): Promise<void> {
    await ensureDir(this.blobDir);
    await ensureDir(this.tmpDir);
    for (const name of await readdir(this.tmpDir)) {
      if (name.startsWith(TMP_PREFIX)) await rm(join(this.tmpDir, name), { force: true, recursive: true });
    }
  }

  path(digest: string): string {
    return join(this.blobDir, digestHex(digest));
  }

  async has(digest: string): Promise<boolean> {
    try {
      return (await stat(this.path(digest))).isFile();
    } catch (e) {
      if (isErrno(e, "ENOENT")) return false;
      throw e;
    }
  }

  async info(digest: string): Promise<BlobInfo> {
    try {
      const st = await stat(this.path(digest));
      return { digest, size: st.size };
    } catch (e) {
      throw notFound(digest, e);
    }
  }

  async read(digest: string): Promise<Buffer> {
    try {
      return await readFile(this.path(digest));
    } catch (e) {
      throw notFound(digest, e);
    }
  }

  async readStream(digest: string): Promise<Readable> {
    const p = this.path(digest);
    // Check first: createReadStream reports a missing file only as a stream error, too late for a clean 404.
    await this.info(digest);
    return createReadStream(p);
  }

  async writeBlob(data: string | Uint8Array, expectedDigest?: string): Promise<BlobInfo> {
    const buf = typeof data === "string" ? Buffer.from(data) : data;
    const digest = sha256Digest(buf);
    if (expectedDigest !== undefined && expectedDigest !== digest) {
      digestHex(expectedDigest);
      throw new DigestMismatchError("digest", expectedDigest, digest);
    }
    return this.ingest(Readable.from([buf]), { expectedDigest: digest, expectedSize: buf.byteLength });
  }

  async ingest(src: Readable, opts: IngestOptions = {}): Promise<BlobInfo> {
    // Validate the expectation before reading anything, so a bad digest fails fast.
    if (opts.expectedDigest !== undefined) digestHex(opts.expectedDigest);
    await ensureDir(this.tmpDir);
    const tmp = join(this.tmpDir, `${TMP_PREFIX}${randomBytes(8).toString("hex")}`);
    const hash = createHash("sha256");
    let size = 0;
    const expectedSize = opts.expectedSize;
    const onBytes = opts.onBytes;
    const meter = new Transform({
      transform(chunk: Buffer, _enc, cb) {
        size += chunk.byteLength;
        if (expectedSize !== undefined && size > expectedSize) {
          cb(new DigestMismatchError("size", String(expectedSize), `more than ${expectedSize}`));
          return;
        }
        hash.update(chunk);
        onBytes?.(size);
        cb(null, chunk);
      },
    });
    try {
      // flush: true fsyncs before close, so the renamed blob is durable.
      await pipeline(src, meter, createWriteStream(tmp, { flags: "wx", mode: 0o644, flush: true }));
      const digest = `sha256:${hash.digest("hex")}`;
      if (expectedSize !== undefined && size !== expectedSize) {
        throw new DigestMismatchError("size", String(expectedSize), String(size));
      }
      if (opts.expectedDigest !== undefined && opts.expectedDigest !== digest) {
        throw new DigestMismatchError("digest", opts.expectedDigest, digest);
      }
      await ensureDir(this.blobDir);
      await rename(tmp, join(this.blobDir, digestHex(digest)));
      await fsyncDir(this.blobDir);
      return { digest, size };
    } catch (e) {
      await rm(tmp, { force: true });
      throw e;
    }
  }

  async delete(digest: string): Promise<boolean> {
    try {
      await unlink(this.path(digest));
      return true;
    } catch (e) {
      if (isErrno(e, "ENOENT")) return false;
      throw e;
    }
  }

  async list(): Promise<BlobInfo[]> {
    let names: string[];
    try {
      names = await readdir(this.blobDir);
    } catch (e) {
      if (isErrno(e, "ENOENT")) return [];
      throw e;
    }
    const out: BlobInfo[] = [];
    for (const name of names) {
      if (!/^[a-f0-9]{64}$/.test(name)) continue;
      try {
        const st = await stat(join(this.blobDir, name));
        if (st.isFile()) out.push({ digest: `sha256:${name}`, size: st.size });
      } catch (e) {
        // Deleted between readdir and stat: simply not listed.
        if (!isErrno(e, "ENOENT")) throw e;
      }
    }
    return out;
  }
}

function notFound(digest: string, cause: unknown): Error {
  if (isErrno(cause, "ENOENT")) return new NotFoundError(`content digest ${digest}: not found`, { cause });
  return cause instanceof Error ? cause : new Error(String(cause));
}
