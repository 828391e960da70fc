import { join } from "node:path";
import type { Readable } from "node:stream";
import { finished } from "node:stream/promises";
import type { FilesystemChange, PathStat } from "../apitypes/index.ts";
import { type IdMap, log } from "../util/index.ts";
import { type ContainerFs, readArchive, statPath, writeArchive } from "./archive.ts";
import { exportRootfs, upperChanges, upperSize } from "./changes.ts";
import type { Container } from "./container.ts";
import type { ImageBackend, SupervisorRuntime } from "./deps.ts";
import type { Registry } from "./registry.ts";
import type { Storage } from "./storage.ts";

/** Operations on a container's filesystem from outside: `docker cp` both ways. */
export class ContainerFiles {
  readonly #r: Registry;
  readonly #s: Storage;
  readonly #images: Pick<ImageBackend, "resolve">;
  readonly #idMap: IdMap | undefined;
  readonly #freezer: Pick<SupervisorRuntime, "pause" | "unpause"> | undefined;
  /** Archive operations under way per frozen container: the last one to end thaws it. */
  readonly #frozen = new Map<string, number>();

  constructor(deps: {
    registry: Registry;
    storage: Storage;
    images: Pick<ImageBackend, "resolve">;
    idMap?: IdMap;
    /** Freezes a running container while its paths are resolved and used (see #freeze). */
    freezer?: Pick<SupervisorRuntime, "pause" | "unpause">;
  }) {
    this.#r = deps.registry;
    this.#s = deps.storage;
    this.#images = deps.images;
    this.#idMap = deps.idMap;
    this.#freezer = deps.freezer;
  }

  /**
   * Freezes a running container for an archive operation and returns what thaws it. Paths are resolved inside
   * the container's root and then used by path: a process of the container swapping a directory for a symlink
   * in between (CVE-2018-15664) would lead the write or read onto the host. dockerd closes it by unpacking in
   * a chroot; Node cannot chroot a helper, so the container's processes are kept from moving anything instead.
   * A container the user paused stays as it is; one that cannot be frozen (no freezer) is copied as before.
   */
  async #freeze(c: Container): Promise<() => Promise<void>> {
    const freezer = this.#freezer;
    const id = c.id;
    if (!freezer) return async () => {};
    const held = await c.serial(async () => {
      const n = this.#frozen.get(id) ?? 0;
      if (n > 0) {
        this.#frozen.set(id, n + 1);
        return true;
      }
      if (!c.state.live || c.state.paused) return false;
      try {
        await freezer.pause(id);
      } catch (e) {
        log("debug", "cp: container not frozen for the copy", { id, error: String(e) });
        return false;
      }
      this.#frozen.set(id, 1);
      return true;
    });
    if (!held) return async () => {};
    let done = false;
    return () =>
      c.serial(async () => {
        if (done) return;
        done = true;
        const n = (this.#frozen.get(id) ?? 1) - 1;
        if (n > 0) {
          this.#frozen.set(id, n);
          return;
        }
        this.#frozen.delete(id);
        if (!c.state.live) return;
        await freezer.unpause(id).catch((e: unknown) => {
          log("warn", "cp: could not thaw the container after the copy", { id, error: String(e) });
        });
      });
  }

  /** Runs `fn` with the container's filesystem mounted, mounting it for the call when the container is stopped. */
  async #withFs<T>(
    c: Container,
    fn: (fs: ContainerFs) => Promise<T>,
    opts: { holdUntil?: (r: T) => Promise<unknown>; freeze?: boolean } = {},
  ): Promise<T> {
    const wasMounted = this.#s.isMounted(c);
    const rootfs = await this.#s.prepareRootfs(c);
    const thaw = opts.freeze ? await this.#freeze(c) : async () => {};
    const release = () => {
      void thaw().finally(() => {
        if (!wasMounted && !c.state.running) void this.#s.unmountRootfs(c);
      });
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
    return this.#withFs(c, (fs) => statPath(fs, path, c.shortName), { freeze: true });
  }

  /** GET /containers/{id}/archive */
  async archiveGet(ref: string, path: string): Promise<{ stat: PathStat; tar: Readable }> {
    const c = this.#r.get(ref);
    const r = await this.#withFs(c, (fs) => readArchive(fs, path, c.shortName), {
      holdUntil: (res) => finished(res.tar).catch(() => undefined),
      freeze: true,
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
    await this.#withFs(
      c,
      (fs) =>
        writeArchive(fs, path, body, {
          ...opts,
          containerName: c.shortName,
          user: c.record.Config.User || undefined,
        }),
      { freeze: true },
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
