import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { log, writeJsonAtomic } from "../util/index.ts";

/**
 * The build cache: step key → the image that step produced. A key is the parent image, the step as history
 * records it (after expansion, with the build args RUN sees) and, for ADD/COPY, a checksum of the sources. It is
 * kept in `<dataRoot>/build/cache.json`, so it survives restarts; entries whose image is gone are ignored.
 */
export class BuildCache {
  readonly file: string;
  readonly tmpDir: string;
  private entries = new Map<string, string>();
  private dirty = false;
  private saving: Promise<void> = Promise.resolve();

  constructor(dir: string, tmpDir: string) {
    this.file = join(dir, "cache.json");
    this.tmpDir = tmpDir;
  }

  /** Loads the cache; an unreadable file starts it empty. */
  async init(): Promise<void> {
    try {
      const data = JSON.parse(await readFile(this.file, "utf8")) as { entries?: Record<string, string> };
      this.entries = new Map(Object.entries(data.entries ?? {}));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "ENOENT")
        log("warn", "build: unreadable cache, starting empty", { err: e });
    }
  }

  /** The key of one step. */
  static key(parent: string, step: string, extra = ""): string {
    return createHash("sha256")
      .update(JSON.stringify([parent, step, extra]))
      .digest("hex");
  }

  get(key: string): string | undefined {
    return this.entries.get(key);
  }

  set(key: string, imageId: string): void {
    this.entries.set(key, imageId);
    this.dirty = true;
  }

  /** Every key with the image it gives. */
  list(): [string, string][] {
    return [...this.entries];
  }

  delete(key: string): void {
    if (this.entries.delete(key)) this.dirty = true;
  }

  /** Writes the cache when it changed (after each build). */
  save(): Promise<void> {
    if (!this.dirty) return this.saving;
    this.dirty = false;
    const data = { entries: Object.fromEntries(this.entries) };
    this.saving = this.saving
      .then(() => writeJsonAtomic(this.file, data, { tmpDir: this.tmpDir }))
      .catch((e) => log("warn", "build: saving the cache failed", { err: e }));
    return this.saving;
  }
}
