// OCI image spec shapes (image-spec v1.1, with Docker's extensions), as wharf reads and writes them.
// Types only: no runtime code, no imports of other wharf folders.
import type { HealthConfig } from "../apitypes/index.ts";

/** The `config` object of an OCI image config, with Docker's extensions (Healthcheck, OnBuild, Shell, ...). */
export interface OciRunConfig {
  User?: string;
  ExposedPorts?: Record<string, object>;
  Env?: string[];
  Entrypoint?: string[] | null;
  Cmd?: string[] | null;
  Volumes?: Record<string, object>;
  WorkingDir?: string;
  Labels?: Record<string, string>;
  StopSignal?: string;
  Healthcheck?: HealthConfig;
  OnBuild?: string[] | null;
  Shell?: string[];
  ArgsEscaped?: boolean;
  /** Docker's extension: the image a build step ran on (inspect's Config.Image). */
  Image?: string;
  /** Docker's extensions a commit keeps from the container's config, as dockerd does. */
  Hostname?: string;
  Domainname?: string;
  AttachStdin?: boolean;
  AttachStdout?: boolean;
  AttachStderr?: boolean;
  Tty?: boolean;
  OpenStdin?: boolean;
  StdinOnce?: boolean;
}

/** One history entry of an OCI image config. */
export interface OciHistory {
  created?: string;
  created_by?: string;
  author?: string;
  comment?: string;
  empty_layer?: boolean;
}

/** An OCI image config (application/vnd.oci.image.config.v1+json); its sha256 is the image ID. */
export interface OciImageConfig {
  created?: string;
  author?: string;
  architecture: string;
  variant?: string;
  os: string;
  "os.version"?: string;
  config?: OciRunConfig;
  rootfs: { type: "layers"; diff_ids: string[] };
  history?: OciHistory[];
  /** Docker's extensions, kept when present. */
  comment?: string;
  docker_version?: string;
  parent?: string;
  /** The committed container's ID and config (docker commit), which inspect showed before API 1.45. */
  container?: string;
  container_config?: OciRunConfig;
}

/** The platform an image runs on (OCI image index `platform`). */
export interface OciPlatform {
  os: string;
  architecture: string;
  variant?: string;
  "os.version"?: string;
}

/** A content descriptor (OCI image-spec `descriptor`): what a manifest or index points at. */
export interface OciDescriptor {
  mediaType: string;
  digest: string;
  size: number;
  urls?: string[];
  platform?: OciPlatform;
  annotations?: Record<string, string>;
}

/** An image manifest (OCI or Docker schema 2): one config blob and the layers, bottom first. */
export interface OciManifest {
  schemaVersion?: number;
  mediaType?: string;
  config: OciDescriptor;
  layers: OciDescriptor[];
  annotations?: Record<string, string>;
}

/** An image index (OCI) or manifest list (Docker): one manifest per platform. */
export interface OciIndex {
  schemaVersion?: number;
  mediaType?: string;
  manifests?: OciDescriptor[];
  annotations?: Record<string, string>;
}
