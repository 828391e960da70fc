/** The CRI ImageService over wharf's image store: what `docker images` lists, crictl and kubelet see. */
import type { ImageInspect } from "../apitypes/index.ts";
import type { ContainerService } from "../container/index.ts";
import { InvalidParameterError, isConflict, isNotFound } from "../errdefs/index.ts";
import { fullString, type LocalImageService, parseNamed } from "../image/index.ts";
import { PAUSE_IMAGE } from "./pause.ts";
import { nowNsString } from "./times.ts";
import type { AuthConfig, FilesystemUsage, Image, ImageSpec } from "./types.ts";

type Credentials = NonNullable<Parameters<LocalImageService["pull"]>[1]["auth"]>;

/** An image's user as CRI reports it: a numeric user is `uid`, a named one `username`. */
export function imageUser(user: string | undefined): Pick<Image, "uid" | "username"> {
  const u = (user ?? "").split(":")[0] ?? "";
  if (!u) return { uid: null, username: "" };
  if (/^\d+$/.test(u)) return { uid: { value: Number(u) }, username: "" };
  return { uid: null, username: u };
}

/** CRI credentials as the registry client takes them; `auth` is base64 `user:password`. */
export function credentialsOf(a: AuthConfig | null): Credentials | undefined {
  if (!a) return undefined;
  let { username, password } = a;
  if (a.auth && !username) {
    const plain = Buffer.from(a.auth, "base64").toString("utf8");
    const at = plain.indexOf(":");
    if (at < 0) throw new InvalidParameterError("invalid auth: expected base64 of user:password");
    username = plain.slice(0, at);
    password = plain.slice(at + 1);
  }
  const out: Credentials = {};
  if (username) out.username = username;
  if (password) out.password = password;
  if (a.identityToken) out.identitytoken = a.identityToken;
  if (a.registryToken) out.registrytoken = a.registryToken;
  return Object.keys(out).length ? out : undefined;
}

/** A stored name in full (`docker.io/library/busybox:latest`), as containerd reports image references. */
function qualified(name: string): string {
  try {
    return fullString(parseNamed(name));
  } catch {
    return name;
  }
}

function toCri(ins: ImageInspect): Image {
  return {
    id: ins.Id,
    repoTags: (ins.RepoTags ?? []).map(qualified),
    repoDigests: (ins.RepoDigests ?? []).map(qualified),
    size: ins.Size ?? 0,
    ...imageUser(ins.Config?.User),
    spec: null,
    // The pause image is made on this host and cannot be pulled again: kubelet's GC must leave it.
    pinned: (ins.RepoTags ?? []).map(qualified).includes(qualified(PAUSE_IMAGE)),
  };
}

/** The ImageService operations. */
export class Images {
  readonly #images: LocalImageService;
  readonly #containers: ContainerService;
  readonly #dataRoot: string;

  constructor(o: { images: LocalImageService; containers: ContainerService; dataRoot: string }) {
    this.#images = o.images;
    this.#containers = o.containers;
    this.#dataRoot = o.dataRoot;
  }

  async #find(ref: string): Promise<ImageInspect | undefined> {
    if (!ref) throw new InvalidParameterError("ImageSpec.image should not be empty");
    try {
      return await this.#images.inspect(ref);
    } catch (e) {
      if (isNotFound(e) || (e instanceof Error && e.name === "InvalidParameterError")) return undefined;
      throw e;
    }
  }

  /** ListImages, or the one image the filter names. */
  async list(filter: { image: ImageSpec | null } | null): Promise<Image[]> {
    const want = filter?.image?.image;
    if (want) {
      const one = await this.#find(want);
      return one ? [toCri(one)] : [];
    }
    const all = await this.#images.list({ all: false });
    const out: Image[] = [];
    for (const s of all) {
      const ins = await this.#find(s.Id);
      if (ins) out.push(toCri(ins));
    }
    return out;
  }

  /** ImageStatus: `image` is null for an image the store does not have (no error, as CRI asks). */
  async status(
    spec: ImageSpec | null,
    verbose: boolean,
  ): Promise<{ image: Image | null; info: Record<string, string> }> {
    const ins = await this.#find(spec?.image ?? "");
    if (!ins) return { image: null, info: {} };
    const info: Record<string, string> = {};
    if (verbose)
      info.info = JSON.stringify({
        imageSpec: { config: ins.Config, os: ins.Os, architecture: ins.Architecture },
      });
    return { image: toCri(ins), info };
  }

  /** PullImage: the image's ID (what containerd answers as image_ref). */
  async pull(spec: ImageSpec | null, auth: AuthConfig | null): Promise<string> {
    const ref = spec?.image;
    if (!ref) throw new InvalidParameterError("ImageSpec.image should not be empty");
    const creds = credentialsOf(auth);
    return this.#images.pull(ref, { ...(creds ? { auth: creds } : {}), progress: () => undefined });
  }

  /**
   * RemoveImage: the image with all its names, whichever of them (or its ID) the request gives, as
   * containerd removes every reference of the image. Names go first, as `docker rmi -f NAME` each: an image
   * that built ones depend on then stays untagged (Docker's parent rule) instead of failing the request.
   * One the store does not have is no error.
   */
  async remove(spec: ImageSpec | null): Promise<void> {
    const ins = await this.#find(spec?.image ?? "");
    if (!ins) return;
    const inUse = (id: string) => this.#containers.imageUse(id);
    for (const name of [...(ins.RepoTags ?? []), ...(ins.RepoDigests ?? [])]) {
      try {
        await this.#images.remove(name, { force: true, inUse });
      } catch (e) {
        // The name is gone even then: the conflict is about deleting the image it leaves untagged.
        if (!isNotFound(e) && !isConflict(e)) throw e;
      }
    }
    if (!(await this.#find(ins.Id))) return;
    try {
      await this.#images.remove(ins.Id, { force: true, inUse });
    } catch (e) {
      if (!isNotFound(e) && !isConflict(e)) throw e;
    }
  }

  /** ImageFsInfo: the layer store's usage. */
  async fsInfo(): Promise<{ imageFilesystems: FilesystemUsage[]; containerFilesystems: FilesystemUsage[] }> {
    const du = await this.#images.diskUsage();
    const usage = (mountpoint: string, bytes: number): FilesystemUsage => ({
      timestamp: nowNsString(),
      fsId: { mountpoint },
      usedBytes: { value: bytes },
      inodesUsed: { value: 0 },
    });
    return {
      imageFilesystems: [usage(`${this.#dataRoot}/layers`, du.LayersSize)],
      containerFilesystems: [usage(`${this.#dataRoot}/containers`, 0)],
    };
  }
}
