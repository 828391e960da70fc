import { randomBytes } from "node:crypto";
import { mkdir, readdir, readFile, rename, rm } from "node:fs/promises";
import { join } from "node:path";
import { isErrno } from "../errdefs/index.ts";
import { log, writeJsonAtomic } from "../util/index.ts";

/**
 * One directory per object (`<root>/<id>/`) holding named JSON documents, each written atomically.
 * Objects whose main document is missing or unreadable are half-created leftovers of a crash:
 * `loadAll` reports them so start-up can remove them.
 */
export class RecordStore<T> {
  readonly root: string;
  readonly #doc: string;
  readonly #tmpDir: string;

  constructor(root: string, opts: { document: string; tmpDir: string }) {
    this.root = root;
    this.#doc = opts.document;
    this.#tmpDir = opts.tmpDir;
  }

  /** Creates the root directory. */
  async init(): Promise<void> {
    await mkdir(this.root, { recursive: true });
  }

  /** The object's directory. */
  dir(id: string): string {
    return join(this.root, id);
  }

  /** Writes the main document of an object. */
  async put(id: string, value: T): Promise<void> {
    await writeJsonAtomic(join(this.root, id, this.#doc), value, { tmpDir: this.#tmpDir });
  }

  /** Writes a side document (e.g. state) of an object. */
  async putDoc(id: string, name: string, value: unknown): Promise<void> {
    await writeJsonAtomic(join(this.root, id, name), value, { tmpDir: this.#tmpDir });
  }

  /** Reads a side document, or undefined when absent. */
  async getDoc<D>(id: string, name: string): Promise<D | undefined> {
    try {
      return JSON.parse(await readFile(join(this.root, id, name), "utf8")) as D;
    } catch (e) {
      if (isErrno(e, "ENOENT")) return undefined;
      throw e;
    }
  }

  /** Every complete object, and the ids of directories that hold no readable main document. */
  async loadAll(): Promise<{ records: Map<string, T>; broken: string[] }> {
    const records = new Map<string, T>();
    const broken: string[] = [];
    let names: string[];
    try {
      names = await readdir(this.root);
    } catch (e) {
      if (isErrno(e, "ENOENT")) return { records, broken };
      throw e;
    }
    await Promise.all(
      names.map(async (id) => {
        try {
          records.set(id, JSON.parse(await readFile(join(this.root, id, this.#doc), "utf8")) as T);
        } catch {
          broken.push(id);
        }
      }),
    );
    return { records, broken };
  }

  /**
   * Removes an object's directory and everything in it. The directory is first renamed into the staging
   * dir (one step: the object is gone for loadAll from then on) and emptied from there in the background,
   * so a caller waits for neither the walk nor its unlinks (a container's dir holds ~20 entries: 2.4-3.8 ms
   * of a `run --rm` here). A crash mid-way leaves the rest in the staging dir, which start-up empties.
   */
  async remove(id: string): Promise<void> {
    const dir = join(this.root, id);
    const staged = join(this.#tmpDir, `.rm-${id}-${randomBytes(4).toString("hex")}`);
    try {
      await rename(dir, staged);
    } catch (e) {
      if (isErrno(e, "ENOENT")) return;
      // Another filesystem, or a mount point in the way: removed where it is, as before.
      await rm(dir, { recursive: true, force: true });
      return;
    }
    void rm(staged, { recursive: true, force: true }).catch((e: unknown) =>
      log("warn", "removing a staged directory failed", { dir: staged, err: e }),
    );
  }
}
