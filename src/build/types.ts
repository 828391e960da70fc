import type { Duplex, Readable } from "node:stream";
import type { ContainerCreateRequest } from "../apitypes/index.ts";
import type { ContentStore } from "../content/index.ts";
import type { Credentials } from "../distribution/index.ts";
import type { LayerRef, ResolvedImage } from "../image/index.ts";
import type { LayerStore } from "../layer/index.ts";
import type { OciImageConfig } from "../oci/index.ts";
import type { AttachStreams } from "../runtime/index.ts";

/** A registry host's credentials (`127.0.0.1:5000`, `registry-1.docker.io`), as the client holds them. */
export type RegistryAuth = (host: string) => Promise<Credentials | undefined>;

/** What the builder needs from the image service (and the stores beneath it). */
export interface BuildImageBackend {
  content: ContentStore;
  layers: LayerStore;
  resolve(ref: string): Promise<ResolvedImage>;
  layersOf(ref: string): LayerRef[];
  /** An image's parent image ID, if any. */
  parentOf(ref: string): string | undefined;
  commitImage(config: OciImageConfig, layers: LayerRef[], opts?: { parent?: string }): Promise<string>;
  /** Tags an image with a full reference (`name[:tag]`). */
  tag(imageId: string, ref: string): Promise<void>;
  /** Throws InvalidParameterError for a reference `tag` would refuse. */
  checkRef(ref: string): void;
  /**
   * Pulls an image (progress lines are passed on), with the credentials `auth` gives for the registry's host;
   * absent when the engine cannot pull.
   */
  pull?(
    ref: string,
    progress: (line: Record<string, unknown>) => void,
    opts?: { auth?: RegistryAuth },
  ): Promise<string>;
}

/** What the builder needs from the container service: RUN steps run in real containers. */
export interface BuildContainerBackend {
  create(req: ContainerCreateRequest, opts: { name?: string }): Promise<{ Id: string }>;
  attach(ref: string): { stdio: Promise<AttachStreams>; cancel(): void };
  start(ref: string): Promise<void>;
  wait(ref: string, opts: { condition?: string }): { ready: Promise<{ StatusCode: number }> };
  kill(ref: string, signal?: string): Promise<void>;
  remove(ref: string, opts: { force?: boolean }): Promise<void>;
  /** The container's writable layer (its overlay upper dir). */
  upperDir(id: string): string;
}

/** `POST /build`'s options, decoded from the query. */
export interface BuildOptions {
  tags: string[];
  dockerfile: string;
  buildArgs: Record<string, string | null>;
  target?: string;
  noCache: boolean;
  pull: boolean;
  rm: boolean;
  forceRm: boolean;
  labels: Record<string, string>;
  quiet: boolean;
  networkMode?: string;
  extraHosts: string[];
  shmSize?: number;
  memory?: number;
  memorySwap?: number;
  cpuQuota?: number;
  cpuPeriod?: number;
  cpuShares?: number;
  cpusetCpus?: string;
  platform?: string;
  cacheFrom: string[];
  /** BuildKit's clients send the Dockerfile apart from the context, and the context already filtered. */
  dockerfileText?: string;
  /** `RUN --mount=type=secret`: the client's secret by id (BuildKit sessions), undefined when it has none. */
  secret?: (id: string) => Promise<Buffer | undefined>;
  /**
   * `RUN --mount=type=ssh`: the client's SSH agent by id (BuildKit sessions' `--ssh`). Resolves to a function
   * that carries one connection to that agent, or undefined when the client forwards none by that id.
   */
  sshAgent?: (id: string) => Promise<((conn: Duplex) => void) | undefined>;
  /** Credentials for a registry host (BuildKit sessions ask the client's); undefined when it has none. */
  registryAuth?: RegistryAuth;
  /** BuildKit's predefined platform ARGs (TARGETPLATFORM, BUILDARCH, ...) are set, as BuildKit's frontend does. */
  platformArgs?: boolean;
}

/** Where a build's progress goes: Docker's JSON-lines messages. */
export interface BuildOutput {
  stream(text: string): void;
  /** A RUN step's stderr, when the client tells it apart (BuildKit); otherwise it goes to stream. */
  stderr?(text: string): void;
  aux(value: Record<string, unknown>): void;
  /**
   * Called before each `Step N/M` line with the step as BuildKit names it (`[base 2/3] RUN ...`), or undefined
   * for a step BuildKit shows no vertex for (ARG, ENV, LABEL, FROM another stage).
   */
  step?(s: StepName | undefined): void;
  /** Aborted when the client went away: the build stops and removes its container. */
  signal: AbortSignal;
}

/** A step as BuildKit's Dockerfile frontend numbers it: per stage, only steps that change files. */
export interface StepName {
  stage: string | undefined;
  index: number;
  total: number;
  /** The instruction as written, its keyword upper-cased; just `FROM` for a FROM (see image). */
  instruction: string;
  /** The image a FROM starts from, as written (after ARG expansion). */
  image?: string;
}

/** A build's input: the context tar (plain or compressed) or a bare Dockerfile. */
export type BuildContextSource = Readable;
