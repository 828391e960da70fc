import { join } from "node:path";
import type { Readable } from "node:stream";
import { finished } from "node:stream/promises";
import type { FilesystemChange, PathStat } from "../apitypes/index.ts";
import type { IdMap } from "../util/index.ts";
import { type ContainerFs, readArchive, statPath, writeArchive } from "./archive.ts";
import { exportRootfs, upperChanges, upperSize } from "./changes.ts";
import type { Container } from "./container.ts";
import type { ImageBackend } from "./deps.ts";
import type { Registry } from "./registry.ts";
import type { Storage } from "./storage.ts";

/** Operations on a container's filesystem from outside: `docker cp` both ways. */
export class ContainerFiles {
  readonly #r: Registry;
  readonly #s: Storage;
  readonly #images: Pick<ImageBackend, "resolve">;
  readonly #idMap: IdMap | undefined;

  constructor(deps: {
    registry: Registry;
    storage: Storage;
    images: Pick<ImageBackend, "resolve">;
    idMap?: IdMap;
  }) {
    this.#r = deps.registry;
    this.#s = deps.storage;
    this.#images = deps.images;
    this.#idMap = deps.idMap;
  }

  /** Runs `fn` with the container's filesystem mounted, mounting it for the call when the container is stopped. */
  async #withFs<T>(
    c: Container,
    fn: (fs: ContainerFs) => Promise<T>,
    opts: { holdUntil?: (r: T) => Promise<unknown> } = {},
  ): Promise<T> {
    const wasMounted = this.#s.isMounted(c);
    const rootfs = await this.#s.prepareRootfs(c);
    const release = () => {
      if (!wasMounted && !c.state.running) void this.#s.unmountRootfs(c);
    };
    const fs: ContainerFs = {
      rootfs,
      ...(this.#idMap ? { idMap: this.#idMap } : {}),
      readonlyRootfs: !!c.record.HostConfig.ReadonlyRootfs,
      mounts: [
        // The engine's /etc files are bind mounts too: cp sees their content, not the image's.
        { destination: "/etc/hostname", source: c.record.HostnamePath, rw: true },
        { destination: "/etc/hosts", source: c.record.HostsPath, rw: true },
        { destination: "/etc/resolv.conf", source: c.record.ResolvConfPath, rw: true },
        ...c.record.MountPoints.filter((m) => m.Type !== "tmpfs").map((m) => ({
          destination: m.Destination,
          source: m.Source,
          rw: m.RW,
        })),
      ],
    };
    let result: T;
    try {
      result = await fn(fs);
    } catch (e) {
      release();
      throw e;
    }
    if (opts.holdUntil) void opts.holdUntil(result).finally(release);
    else release();
    return result;
  }

  /** HEAD /containers/{id}/archive */
  archiveStat(ref: string, path: string): Promise<PathStat> {
    const c = this.#r.get(ref);
    return this.#withFs(c, (fs) => statPath(fs, path, c.shortName));
  }

  /** GET /containers/{id}/archive */
  async archiveGet(ref: string, path: string): Promise<{ stat: PathStat; tar: Readable }> {
    const c = this.#r.get(ref);
    const r = await this.#withFs(c, (fs) => readArchive(fs, path, c.shortName), {
      holdUntil: (res) => finished(res.tar).catch(() => undefined),
    });
    this.#r.emit(c, "archive-path");
    return r;
  }

  /** PUT /containers/{id}/archive */
  async archivePut(
    ref: string,
    path: string,
    body: Readable,
    opts: { copyUidGid: boolean; noOverwriteDirNonDir: boolean },
  ): Promise<void> {
    const c = this.#r.get(ref);
    await this.#withFs(c, (fs) =>
      writeArchive(fs, path, body, {
        ...opts,
        containerName: c.shortName,
        user: c.record.Config.User || undefined,
      }),
    );
    this.#r.emit(c, "extract-to-dir");
  }

  /** GET /containers/{id}/changes */
  async changes(ref: string): Promise<FilesystemChange[]> {
    const c = this.#r.get(ref);
    const image = await this.#images.resolve(c.record.Image);
    return upperChanges(join(this.#r.dir(c.id), "upper"), image.lowerDirs ?? []);
  }

  /** `size=1` of list and inspect: the upper dir's bytes, and the image's plus those (dockerd's SizeRw/SizeRootFs). */
  async sizes(ref: string): Promise<{ SizeRw: number; SizeRootFs: number }> {
    const c = this.#r.get(ref);
    const rw = await upperSize(join(this.#r.dir(c.id), "upper"));
    const image = await this.#images.resolve(c.record.Image).catch(() => undefined);
    return { SizeRw: rw, SizeRootFs: (image?.size ?? 0) + rw };
  }

  /** GET /containers/{id}/export */
  async export(ref: string): Promise<Readable> {
    const c = this.#r.get(ref);
    const tar = await this.#withFs(c, async (fs) => exportRootfs(fs.rootfs, fs.idMap), {
      holdUntil: (t) => finished(t).catch(() => undefined),
    });
    this.#r.emit(c, "export");
    return tar;
  }
}
