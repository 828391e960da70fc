import { chown, lstat, mkdir, readdir } from "node:fs/promises";
import { join } from "node:path";
import type { EventSink, Volume, VolumeCreateRequest } from "../apitypes/index.ts";
import { ConflictError, InvalidParameterError, isErrno, NotFoundError } from "../errdefs/index.ts";
import { realHost, UmountFlags } from "../host/index.ts";
import { RecordStore } from "../store/index.ts";
import { type IdPair, log, newId, nowRfc3339 } from "../util/index.ts";

const NAME_RE = /^[a-zA-Z0-9][a-zA-Z0-9_.-]+$/;
const LABEL_ANON = "com.docker.volume.anonymous";

interface Entry {
  vol: Volume;
  /** Containers using the volume. */
  users: Set<string>;
  /** Mounts of a `type=`/`device=` volume are made on first use and undone on last release. */
  mounted: number;
  /** A pending unmount, which a new mount waits for. */
  pending?: Promise<void>;
}

/** The `local` volume driver: directories under `<data-root>/volumes/<name>/_data`, optionally a mounted device. */
/** A container's use of a volume at a start, as its `mount` event tells it. */
export interface VolumeUse {
  container: string;
  destination: string;
  rw: boolean;
  propagation: string;
}

export class VolumeService {
  readonly #store: RecordStore<Volume>;
  readonly #vols = new Map<string, Entry>();
  readonly #events: EventSink;
  readonly #owner: IdPair | undefined;

  /** `opts.owner` (`--userns-remap`): new volumes' data dirs belong to the remapped root, as in dockerd. */
  constructor(opts: { root: string; tmpDir: string; events: EventSink; owner?: IdPair }) {
    this.#store = new RecordStore<Volume>(opts.root, { document: "volume.json", tmpDir: opts.tmpDir });
    this.#events = opts.events;
    this.#owner = opts.owner;
  }

  /** Loads volumes; directories without a readable record are half-created and removed. */
  async init(): Promise<void> {
    await this.#store.init();
    const { records, broken } = await this.#store.loadAll();
    for (const name of broken) {
      log("warn", "removing half-created volume", { name });
      await this.#store.remove(name);
    }
    for (const v of records.values()) this.#vols.set(v.Name, { vol: v, users: new Set(), mounted: 0 });
  }

  #get(name: string): Entry {
    const e = this.#vols.get(name);
    if (!e) throw new NotFoundError(`get ${name}: no such volume`);
    return e;
  }

  /** POST /volumes/create: an existing volume of that name is returned as is, as Docker does. */
  async create(opts: VolumeCreateRequest): Promise<{ volume: Volume; created: boolean }> {
    const driver = opts.Driver || "local";
    if (driver !== "local")
      throw new NotFoundError(`error looking up volume plugin ${driver}: plugin "${driver}" not found`);
    const name = opts.Name || newId();
    if (!NAME_RE.test(name))
      throw new InvalidParameterError(
        `create ${name}: "${name}" includes invalid characters for a local volume name, only "[a-zA-Z0-9][a-zA-Z0-9_.-]" are allowed. If you intended to pass a host directory, use absolute path`,
      );
    const existing = this.#vols.get(name);
    if (existing) return { volume: existing.vol, created: false };
    const options = opts.DriverOpts ?? {};
    for (const k of Object.keys(options)) {
      if (!["type", "device", "o", "size"].includes(k))
        throw new InvalidParameterError(`create ${name}: invalid option key: "${k}"`);
    }
    if ((options.type || options.device) && !(options.type && options.device))
      throw new InvalidParameterError(
        `create ${name}: missing required option: "${options.type ? "device" : "type"}"`,
      );
    const dir = this.#store.dir(name);
    const vol: Volume = {
      Name: name,
      Driver: "local",
      Mountpoint: join(dir, "_data"),
      CreatedAt: nowRfc3339().replace(/\.\d+Z$/, "Z"),
      Labels: opts.Labels ?? {},
      Scope: "local",
      Options: options,
    };
    await mkdir(vol.Mountpoint, { recursive: true, mode: 0o755 });
    if (this.#owner) await chown(vol.Mountpoint, this.#owner.uid, this.#owner.gid);
    await this.#store.put(name, vol);
    this.#vols.set(name, { vol, users: new Set(), mounted: 0 });
    this.#events({ Type: "volume", Action: "create", Actor: { ID: name, Attributes: { driver: "local" } } });
    return { volume: vol, created: true };
  }

  /** An anonymous volume for a container's `-v /path` or an image VOLUME. */
  async createAnonymous(): Promise<Volume> {
    return (await this.create({ Labels: { [LABEL_ANON]: "" } })).volume;
  }

  /** True for volumes made for one container, which `rm -v` and prune remove. */
  isAnonymous(name: string): boolean {
    return LABEL_ANON in (this.#vols.get(name)?.vol.Labels ?? {});
  }

  /** GET /volumes/{name} */
  inspect(name: string): Volume {
    return this.#get(name).vol;
  }

  /** True when the volume exists. */
  has(name: string): boolean {
    return this.#vols.has(name);
  }

  /** Records that a container uses a volume (at container create, and for each container at start-up). */
  use(name: string, containerId: string): void {
    this.#get(name).users.add(containerId);
  }

  /** Forgets a container's use of a volume. */
  release(name: string, containerId: string): void {
    this.#vols.get(name)?.users.delete(containerId);
  }

  /**
   * The host path to bind into a container; mounts a device-backed volume on first use. With `use`, the
   * container's `mount` event is published, as dockerd does at each start.
   */
  async mountpoint(name: string, use?: VolumeUse): Promise<string> {
    const e = this.#get(name);
    if (use)
      this.#events({
        Type: "volume",
        Action: "mount",
        Actor: {
          ID: name,
          Attributes: {
            container: use.container,
            destination: use.destination,
            driver: "local",
            propagation: use.propagation,
            "read/write": String(use.rw),
          },
        },
      });
    const o = e.vol.Options;
    if (o.type && o.device) {
      // Counted before the await, so a second user at the same time shares this mount instead of mounting again.
      if (e.mounted++ === 0) {
        const data = [o.o, o.size ? `size=${o.size}` : ""].filter(Boolean).join(",");
        const prev = e.pending;
        e.pending = (async () => {
          await prev;
          await realHost().mounts.mount({
            source: o.device ?? "",
            target: e.vol.Mountpoint,
            fstype: o.type ?? null,
            data: data || null,
          });
        })();
        try {
          await e.pending;
        } catch (err) {
          e.mounted--;
          e.pending = undefined;
          throw err;
        }
      } else await e.pending;
    }
    return e.vol.Mountpoint;
  }

  /** Undoes mountpoint() for device-backed volumes; with `containerId`, publishes its `unmount` event. */
  unmount(name: string, containerId?: string): void {
    const e = this.#vols.get(name);
    if (e && containerId)
      this.#events({
        Type: "volume",
        Action: "unmount",
        Actor: { ID: name, Attributes: { container: containerId, driver: "local" } },
      });
    if (!e?.mounted) return;
    if (--e.mounted === 0) {
      // Off the event loop; a later mount of the volume waits for this one.
      const prev = e.pending?.catch(() => undefined);
      e.pending = Promise.resolve(prev)
        .then(() => realHost().mounts.unmount(e.vol.Mountpoint, UmountFlags.DETACH))
        .catch((err) => log("warn", "volume unmount failed", { name, err }));
    }
  }

  /** GET /volumes */
  list(filters: Record<string, string[]> = {}): Volume[] {
    for (const k of Object.keys(filters))
      if (!["name", "label", "dangling", "driver"].includes(k))
        throw new InvalidParameterError(`invalid filter '${k}'`);
    return [...this.#vols.values()]
      .filter((e) => matches(e, filters))
      .map((e) => e.vol)
      .sort((a, b) => a.Name.localeCompare(b.Name));
  }

  /** The volume part of `GET /system/df`: every volume with its bytes on disk and how many containers use it. */
  async diskUsage(): Promise<Volume[]> {
    const entries = [...this.#vols.values()].sort((a, b) => a.vol.Name.localeCompare(b.vol.Name));
    return Promise.all(
      entries.map(async (e) => ({
        ...e.vol,
        UsageData: { Size: await dirSize(e.vol.Mountpoint), RefCount: e.users.size },
      })),
    );
  }

  /** DELETE /volumes/{name} */
  async remove(name: string, opts: { force?: boolean } = {}): Promise<void> {
    const e = this.#vols.get(name);
    if (!e) {
      if (opts.force) return;
      throw new NotFoundError(`get ${name}: no such volume`);
    }
    if (e.users.size)
      throw new ConflictError(`remove ${name}: volume is in use - [${[...e.users].join(", ")}]`);
    if (e.mounted) {
      e.mounted = 1;
      this.unmount(name);
      await e.pending;
    }
    this.#vols.delete(name);
    await this.#store.remove(name);
    this.#events({ Type: "volume", Action: "destroy", Actor: { ID: name, Attributes: { driver: "local" } } });
  }

  /** POST /volumes/prune: unused anonymous volumes, or all unused ones with `all=true`. */
  async prune(
    filters: Record<string, string[]> = {},
  ): Promise<{ VolumesDeleted: string[]; SpaceReclaimed: number }> {
    const all = (filters.all ?? []).some((v) => v === "true" || v === "1");
    const labelFilters = { label: filters.label ?? [], "label!": filters["label!"] ?? [] };
    const deleted: string[] = [];
    let space = 0;
    for (const e of [...this.#vols.values()]) {
      if (e.users.size) continue;
      if (!all && !(LABEL_ANON in e.vol.Labels)) continue;
      if (!labelsMatch(e.vol.Labels, labelFilters.label)) continue;
      if (labelFilters["label!"].length && labelsMatch(e.vol.Labels, labelFilters["label!"])) continue;
      space += await dirSize(e.vol.Mountpoint);
      await this.remove(e.vol.Name);
      deleted.push(e.vol.Name);
    }
    this.#events({
      Type: "volume",
      Action: "prune",
      Actor: { ID: "", Attributes: { reclaimed: String(space) } },
    });
    return { VolumesDeleted: deleted, SpaceReclaimed: space };
  }
}

function labelsMatch(labels: Record<string, string>, wanted: string[]): boolean {
  return wanted.every((w) => {
    const i = w.indexOf("=");
    return i < 0 ? w in labels : labels[w.slice(0, i)] === w.slice(i + 1);
  });
}

function matches(e: Entry, f: Record<string, string[]>): boolean {
  const any = (k: string, pred: (v: string) => boolean) => !f[k]?.length || f[k].some(pred);
  return (
    any("name", (v) => e.vol.Name.includes(v)) &&
    any("driver", (v) => e.vol.Driver === v) &&
    any("dangling", (v) => (["true", "1"].includes(v) ? e.users.size === 0 : e.users.size > 0)) &&
    labelsMatch(e.vol.Labels, f.label ?? [])
  );
}

/** Bytes under a directory, each inode once and symlinks not followed, as dockerd's directory.Size counts. */
async function dirSize(dir: string, seen = new Set<string>()): Promise<number> {
  let total = 0;
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (e) {
    if (isErrno(e)) return 0;
    throw e;
  }
  for (const n of names) {
    const p = join(dir, n);
    const st = await lstat(p).catch(() => undefined);
    if (!st) continue;
    if (st.isDirectory()) {
      total += await dirSize(p, seen);
      continue;
    }
    const ino = `${st.dev}:${st.ino}`;
    if (seen.has(ino)) continue;
    seen.add(ino);
    total += st.size;
  }
  return total;
}
