// Docker Engine API v1.47 wire shapes: images, builds and commits. Field names are Docker's (swagger v1.47, moby's api/types).
// Types only: no runtime code, no imports of other wharf folders, so api/, client/ and services share them.
import type { ContainerConfig, DriverData, HealthConfig } from "./container.ts";

/** One entry of `GET /images/json`. */
export interface ImageSummary {
  Id: string;
  ParentId: string;
  RepoTags: string[];
  RepoDigests: string[];
  Created: number;
  Size: number;
  SharedSize: number;
  Labels: Record<string, string>;
  Containers: number;
  Manifests?: ImageManifestSummary[];
}

/** ImageManifestSummary represents a summary of an image manifest. */
export interface ImageManifestSummary {
  ID: string;
  Descriptor: OCIDescriptor;
  Available: boolean;
  Size: {
    Total: number;
    Content: number;
  };
  Kind: "image" | "attestation" | "unknown";
  ImageData?: {
    Platform: OCIPlatform;
    Containers: string[];
    Size: {
      Unpacked: number;
    };
  } | null;
  AttestationData?: {
    For: string;
  } | null;
}

/** A descriptor struct containing digest, media type, and size, as defined in */
export interface OCIDescriptor {
  mediaType?: string;
  digest?: string;
  size?: number;
}

/** Describes the platform which the image in the manifest runs on, as defined */
export interface OCIPlatform {
  architecture?: string;
  os?: string;
  "os.version"?: string;
  "os.features"?: string[];
  variant?: string;
}

/** Information about an image in the local image cache. */
export interface ImageInspect {
  Id: string;
  RepoTags: string[];
  RepoDigests: string[];
  Parent: string;
  Comment: string;
  Created: string | null;
  DockerVersion: string;
  Author: string;
  Config: ImageConfig;
  /** The committed container's ID; removed from Docker's answer in API 1.45. */
  Container?: string;
  /** Removed from Docker's answer in API 1.45, but docker-compose 1.29 reads it (its Volumes) at any version. */
  ContainerConfig?: ImageConfig;
  Architecture: string;
  Variant?: string | null;
  Os: string;
  OsVersion?: string | null;
  Size: number;
  GraphDriver: DriverData;
  RootFS: {
    Type: string;
    Layers?: string[];
  };
  Metadata: {
    LastTagTime?: string | null;
  };
}

/** Configuration of the image: the same fields as a container's config, used as its defaults. */
export type ImageConfig = ContainerConfig;

/** One entry of `DELETE /images/{name}`: either Untagged or Deleted is set. */
export interface ImageDeleteResponseItem {
  Untagged?: string;
  Deleted?: string;
}

/** individual image layer information in response to ImageHistory operation */
export interface ImageHistoryResponseItem {
  Id: string;
  Created: number;
  CreatedBy: string;
  Tags: string[];
  Size: number;
  Comment: string;
}

/** `POST /images/prune`. */
export interface ImagePruneResponse {
  ImagesDeleted: ImageDeleteResponseItem[] | null;
  SpaceReclaimed: number;
}

/** Query of `POST /build`. */
export interface BuildQuery {
  dockerfile?: string;
  t?: string[];
  extrahosts?: string;
  remote?: string;
  q?: boolean;
  nocache?: boolean;
  cachefrom?: string[];
  pull?: boolean;
  rm?: boolean;
  forcerm?: boolean;
  memory?: number;
  memswap?: number;
  cpushares?: number;
  cpusetcpus?: string;
  cpuperiod?: number;
  cpuquota?: number;
  buildargs?: Record<string, string>;
  shmsize?: number;
  squash?: boolean;
  labels?: Record<string, string>;
  networkmode?: string;
  platform?: string;
  target?: string;
  outputs?: string;
  version?: "1" | "2";
}

/** `POST /build/prune`. */
export interface BuildCachePruneResponse {
  CachesDeleted: string[] | null;
  SpaceReclaimed: number;
}

/** Query of `POST /commit`. */
export interface CommitQuery {
  container: string;
  repo?: string;
  tag?: string;
  comment?: string;
  author?: string;
  pause?: boolean;
  changes?: string[];
}

/** The config part of a commit body (Docker sends the container config overrides, usually empty). */
export interface CommitConfig {
  Healthcheck?: HealthConfig;
  [key: string]: unknown;
}

/** One result of `GET /images/search`. */
export interface ImageSearchResult {
  name: string;
  description: string;
  star_count: number;
  is_official: boolean;
  /** Deprecated by Docker; always false. */
  is_automated: boolean;
}

/** `GET /distribution/{name}/json`: the manifest a reference names in its registry, and its platforms. */
export interface DistributionInspect {
  Descriptor: { mediaType: string; digest: string; size: number };
  Platforms:
    | {
        architecture: string;
        os: string;
        "os.version"?: string;
        "os.features"?: string[];
        variant?: string;
      }[]
    | null;
}
