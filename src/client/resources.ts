// Typed methods for everything but containers: images and their distribution, build, networks,
// volumes, events and disk usage.
import type { Readable } from "node:stream";
import type {
  AuthConfig,
  AuthResponse,
  BuildCachePruneResponse,
  BuildQuery,
  CommitConfig,
  CommitQuery,
  DiskUsage,
  EventsQuery,
  FiltersParam,
  IdResponse,
  ImageCreateQuery,
  ImageDeleteQuery,
  ImageDeleteResponseItem,
  ImageHistoryResponseItem,
  ImageInspect,
  ImageListQuery,
  ImagePruneResponse,
  ImageSummary,
  NetworkConnectRequest,
  NetworkCreateRequest,
  NetworkPruneResponse,
  NetworkResource,
  Volume,
  VolumeCreateRequest,
  VolumeListResponse,
  VolumePruneResponse,
} from "../apitypes/index.ts";
import { BaseClient, type Query, seg } from "./base.ts";
import type { ClientResponse } from "./transport.ts";

/** Options of calls that may need registry credentials. */
export interface AuthOptions {
  /** The `X-Registry-Auth` header value (base64url JSON of the AuthConfig). */
  registryAuth?: string;
  signal?: AbortSignal;
}

/** Encodes credentials for `X-Registry-Auth`: base64url of the JSON, as docker sends it. */
export function encodeRegistryAuth(auth: AuthConfig | Record<string, unknown>): string {
  return Buffer.from(JSON.stringify(auth)).toString("base64url");
}

function authHeaders(opts: AuthOptions): Record<string, string> {
  // Docker always sends the header on push (an empty `{}` when there are no credentials).
  return { "X-Registry-Auth": opts.registryAuth ?? encodeRegistryAuth({}) };
}

/** Image, network, volume and system endpoints. */
export class ResourceClient extends BaseClient {
  /** `GET /images/json`. */
  imageList(query: ImageListQuery = {}): Promise<ImageSummary[]> {
    return this.json("GET", "/images/json", { query: query as Query });
  }

  /** `GET /images/{name}/json`. */
  imageInspect(ref: string): Promise<ImageInspect> {
    return this.json("GET", `/images/${ref}/json`);
  }

  /** `GET /images/{name}/history`. */
  imageHistory(ref: string): Promise<ImageHistoryResponseItem[]> {
    return this.json("GET", `/images/${ref}/history`);
  }

  /** `POST /images/create`: pull (`fromImage`) or import (`fromSrc`); the body is a JSON-lines progress stream. */
  imageCreate(
    query: ImageCreateQuery,
    opts: { body?: Readable | Buffer; registryAuth?: string } = {},
  ): Promise<ClientResponse> {
    const headers: Record<string, string> = {};
    if (opts.registryAuth) headers["X-Registry-Auth"] = opts.registryAuth;
    if (opts.body) headers["Content-Type"] = "application/x-tar";
    return this.stream("POST", "/images/create", { query: query as Query, body: opts.body, headers });
  }

  /** `POST /images/{name}/push`: a JSON-lines progress stream. */
  imagePush(name: string, query: { tag?: string; platform?: string }, opts: AuthOptions = {}) {
    return this.stream("POST", `/images/${name}/push`, {
      query,
      headers: authHeaders(opts),
      signal: opts.signal,
    });
  }

  /** `POST /images/{name}/tag`. */
  async imageTag(ref: string, target: { repo: string; tag?: string }): Promise<void> {
    await this.call("POST", `/images/${ref}/tag`, { query: target });
  }

  /** `DELETE /images/{name}`. */
  imageRemove(ref: string, query: ImageDeleteQuery = {}): Promise<ImageDeleteResponseItem[]> {
    return this.json("DELETE", `/images/${ref}`, { query: query as Query });
  }

  /** `GET /images/get?names=...`: a tar of the images. */
  imageSave(names: string[], opts: { platform?: string } = {}): Promise<ClientResponse> {
    return this.stream("GET", "/images/get", { query: { names, platform: opts.platform } });
  }

  /** `POST /images/load`: a JSON-lines stream (`quiet` asks for no progress). */
  imageLoad(body: Readable, opts: { quiet?: boolean } = {}): Promise<ClientResponse> {
    return this.stream("POST", "/images/load", {
      query: { quiet: opts.quiet ? true : undefined },
      body,
      headers: { "Content-Type": "application/x-tar" },
    });
  }

  /** `POST /images/prune`. */
  imagePrune(filters?: FiltersParam): Promise<ImagePruneResponse> {
    return this.json("POST", "/images/prune", { query: { filters } });
  }

  /** `POST /commit`. */
  commit(query: CommitQuery, config?: CommitConfig): Promise<IdResponse> {
    return this.json("POST", "/commit", { query: query as unknown as Query, json: config });
  }

  /**
   * `POST /build` with a tar context; `registryConfig` is the `X-Registry-Config` map (registry →
   * AuthConfig), sent base64url-encoded as docker does. The answer is a JSON-lines stream.
   */
  build(
    context: Readable | Buffer,
    query: BuildQuery,
    opts: { registryConfig?: Record<string, AuthConfig>; signal?: AbortSignal } = {},
  ): Promise<ClientResponse> {
    const q: Record<string, unknown> = { ...query };
    if (query.buildargs) q.buildargs = JSON.stringify(query.buildargs);
    if (query.labels) q.labels = JSON.stringify(query.labels);
    if (query.cachefrom) q.cachefrom = JSON.stringify(query.cachefrom);
    return this.stream("POST", "/build", {
      query: q as Query,
      body: context,
      signal: opts.signal,
      headers: {
        "Content-Type": "application/x-tar",
        "X-Registry-Config": encodeRegistryAuth(opts.registryConfig ?? {}),
      },
    });
  }

  /** `POST /build/prune`. */
  buildPrune(query: { all?: boolean; filters?: FiltersParam } = {}): Promise<BuildCachePruneResponse> {
    return this.json("POST", "/build/prune", { query: query as Query });
  }

  /** `POST /auth`: checks credentials with the registry. */
  auth(config: AuthConfig): Promise<AuthResponse> {
    return this.json("POST", "/auth", { json: config });
  }

  /** `GET /events`: a JSON-lines stream of EventMessage. */
  events(query: EventsQuery = {}, opts: { signal?: AbortSignal } = {}): Promise<ClientResponse> {
    return this.stream("GET", "/events", { query: query as Query, signal: opts.signal });
  }

  /** `GET /system/df`. */
  systemDf(opts: { type?: string[] } = {}): Promise<DiskUsage> {
    return this.json("GET", "/system/df", { query: { type: opts.type } });
  }

  /** `GET /volumes`. */
  volumeList(filters?: FiltersParam): Promise<VolumeListResponse> {
    return this.json("GET", "/volumes", { query: { filters } });
  }

  /** `POST /volumes/create`. */
  volumeCreate(body: VolumeCreateRequest): Promise<Volume> {
    return this.json("POST", "/volumes/create", { json: body });
  }

  /** `GET /volumes/{name}`. */
  volumeInspect(name: string): Promise<Volume> {
    return this.json("GET", `/volumes/${seg(name)}`);
  }

  /** `DELETE /volumes/{name}`. */
  async volumeRemove(name: string, opts: { force?: boolean } = {}): Promise<void> {
    await this.call("DELETE", `/volumes/${seg(name)}`, { query: { force: opts.force || undefined } });
  }

  /** `POST /volumes/prune`. */
  volumePrune(filters?: FiltersParam): Promise<VolumePruneResponse> {
    return this.json("POST", "/volumes/prune", { query: { filters } });
  }

  /** `GET /networks`. */
  networkList(filters?: FiltersParam): Promise<NetworkResource[]> {
    return this.json("GET", "/networks", { query: { filters } });
  }

  /** `POST /networks/create`. */
  networkCreate(body: NetworkCreateRequest): Promise<{ Id: string; Warning?: string }> {
    return this.json("POST", "/networks/create", { json: body });
  }

  /** `GET /networks/{id}`. */
  networkInspect(ref: string, opts: { verbose?: boolean; scope?: string } = {}): Promise<NetworkResource> {
    return this.json("GET", `/networks/${seg(ref)}`, {
      query: { verbose: opts.verbose || undefined, scope: opts.scope },
    });
  }

  /** `DELETE /networks/{id}`. */
  async networkRemove(ref: string): Promise<void> {
    await this.call("DELETE", `/networks/${seg(ref)}`);
  }

  /** `POST /networks/{id}/connect`. */
  async networkConnect(ref: string, body: NetworkConnectRequest): Promise<void> {
    await this.call("POST", `/networks/${seg(ref)}/connect`, { json: body });
  }

  /** `POST /networks/{id}/disconnect`. */
  async networkDisconnect(ref: string, body: { Container: string; Force?: boolean }): Promise<void> {
    await this.call("POST", `/networks/${seg(ref)}/disconnect`, { json: body });
  }

  /** `POST /networks/prune`. */
  networkPrune(filters?: FiltersParam): Promise<NetworkPruneResponse> {
    return this.json("POST", "/networks/prune", { query: { filters } });
  }
}
