import type { Readable } from "node:stream";
import type {
  ImageDeleteResponseItem,
  ImageHistoryResponseItem,
  ImageInspect,
  ImageSummary,
} from "../apitypes/index.ts";
import type { MountOptions } from "../layer/index.ts";
import type { OciImageConfig, OciRunConfig } from "../oci/index.ts";

/** What a container is created from. */
export interface ResolvedImage {
  /** "sha256:<hex>" */
  id: string;
  /** The run config of the image (never undefined: {} when the image has none). */
  config: OciRunConfig;
  /** The full OCI image config. */
  image: OciImageConfig;
  /** Chain IDs, bottom → top. */
  chainIds: string[];
  /** Layer diff directories, top first, as overlay's lowerdir lists them. */
  lowerDirs: string[];
  /** Uncompressed size of the layers, as `docker images` shows it. */
  size: number;
}

/** Whether a container uses an image, and whether it runs (rmi's conflict rules). */
export type ImageUse = (imageId: string) => { running: boolean; containerId: string } | undefined;

/** Options of `ImageService.importTar` (`POST /images/create?fromSrc=-`). */
export interface ImportOptions {
  repo?: string;
  tag?: string;
  message?: string;
  changes?: string[];
  platform?: string;
}

/** Options of `ImageService.list` (`GET /images/json`). */
export interface ListOptions {
  all?: boolean;
  filters?: Record<string, string[]>;
  digests?: boolean;
}

/** Options of `ImageService.remove` (`DELETE /images/{name}`). */
export interface RemoveOptions {
  force?: boolean;
  noprune?: boolean;
  inUse?: ImageUse;
}

/** What the image service reports on /events. */
export type ImageEventSink = (e: {
  Type: "image";
  Action: string;
  Actor: { ID: string; Attributes?: Record<string, string> };
}) => void;

/** The image service the API and the container service call. */
export interface ImageService {
  init(): Promise<void>;
  /** POST /images/create?fromSrc=-: a one-layer image from a rootfs tar (plain/gzip/zstd); returns "sha256:<hex>". */
  importTar(tar: Readable, opts: ImportOptions): Promise<string>;
  /** Filters: reference, dangling, label, before, since, until. */
  list(opts: ListOptions): Promise<ImageSummary[]>;
  /** Throws NotFoundError `No such image: <ref>`. */
  inspect(nameOrId: string): Promise<ImageInspect>;
  resolve(nameOrId: string): Promise<ResolvedImage>;
  tag(source: string, repo: string, tag?: string): Promise<void>;
  remove(nameOrId: string, opts: RemoveOptions): Promise<ImageDeleteResponseItem[]>;
  history(nameOrId: string): Promise<ImageHistoryResponseItem[]>;
  /** Mounts a container's rootfs: the image's layers under `upperDir`, at `target`. */
  mountRootfs(opts: MountOptions & { imageId: string }): Promise<void>;
  unmountRootfs(target: string): Promise<void>;
  /** A container holds its image (in memory: containers re-retain when the daemon restores them). */
  retain(imageId: string): void;
  release(imageId: string): void;
}
