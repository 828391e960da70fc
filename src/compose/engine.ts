/**
 * The Engine API calls compose needs beyond the typed client's (networks, volumes, exec, build, pause),
 * made through its generic JSON methods so compose works with whatever the client offers today.
 */
import type { Duplex, Readable } from "node:stream";
import type { ContainerSummary, EndpointSettings } from "../apitypes/index.ts";
import { type ClientResponse, type EngineClient, isApiError, jsonLines } from "../client/index.ts";
import { LABELS } from "./model.ts";
import type { EngineResource } from "./plan.ts";

/** `POST /networks/create` body. */
export interface NetworkCreate {
  Name: string;
  Driver?: string;
  Internal?: boolean;
  Attachable?: boolean;
  EnableIPv6?: boolean;
  IPAM?: { Driver?: string; Config?: { Subnet?: string; IPRange?: string; Gateway?: string }[] };
  Options?: Record<string, string>;
  Labels?: Record<string, string>;
}

/** `POST /volumes/create` body. */
export interface VolumeCreate {
  Name: string;
  Driver?: string;
  DriverOpts?: Record<string, string>;
  Labels?: Record<string, string>;
}

/** `POST /containers/{id}/exec` body. */
export interface ExecCreate {
  Cmd: string[];
  AttachStdin?: boolean;
  AttachStdout?: boolean;
  AttachStderr?: boolean;
  Tty?: boolean;
  Env?: string[];
  User?: string;
  WorkingDir?: string;
  Privileged?: boolean;
  DetachKeys?: string;
}

/** True for a 404 (missing object, or an endpoint the daemon does not have yet). */
export function isNotFound(err: unknown): boolean {
  return isApiError(err) && err.statusCode === 404;
}

/** Compose's view of the engine. */
export class ComposeEngine {
  readonly client: EngineClient;

  constructor(client: EngineClient) {
    this.client = client;
  }

  /** All containers of a project (any state), by label. */
  projectContainers(
    project: string,
    opts: { oneoff?: boolean; all?: boolean } = {},
  ): Promise<ContainerSummary[]> {
    const label = [`${LABELS.project}=${project}`];
    if (opts.oneoff !== undefined) label.push(`${LABELS.oneoff}=${opts.oneoff ? "True" : "False"}`);
    return this.client.containerList({ all: opts.all ?? true, filters: { label } });
  }

  /** Networks, or undefined when the daemon has no network API yet. */
  async networks(): Promise<EngineResource[] | undefined> {
    try {
      return await this.client.json<EngineResource[]>("GET", "/networks");
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }

  /** Creates a network; returns its ID. */
  async networkCreate(body: NetworkCreate): Promise<string> {
    const r = await this.client.json<{ Id: string }>("POST", "/networks/create", { json: body });
    return r.Id;
  }

  /** Removes a network. */
  async networkRemove(id: string): Promise<void> {
    await this.client.call("DELETE", `/networks/${encodeURIComponent(id)}`);
  }

  /** Connects a container to a network. */
  async networkConnect(network: string, container: string, endpoint: EndpointSettings): Promise<void> {
    await this.client.call("POST", `/networks/${encodeURIComponent(network)}/connect`, {
      json: { Container: container, EndpointConfig: endpoint },
    });
  }

  /** Volumes, or undefined when the daemon has no volume API yet. */
  async volumes(): Promise<EngineResource[] | undefined> {
    try {
      const r = await this.client.json<{ Volumes: EngineResource[] | null }>("GET", "/volumes");
      return r.Volumes ?? [];
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }

  /** Creates a volume. */
  async volumeCreate(body: VolumeCreate): Promise<void> {
    await this.client.json("POST", "/volumes/create", { json: body });
  }

  /** Removes a volume. */
  async volumeRemove(name: string): Promise<void> {
    await this.client.call("DELETE", `/volumes/${encodeURIComponent(name)}`);
  }

  /** The image's ID, or undefined when the engine does not have it. */
  async imageId(ref: string): Promise<string | undefined> {
    try {
      return (await this.client.imageInspect(ref)).Id;
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }

  /** Pulls an image, reading the progress stream to its end; throws the stream's error. */
  async pull(ref: string, onProgress?: (line: Record<string, unknown>) => void): Promise<void> {
    const [repo, tag] = splitRef(ref);
    const res = await this.client.imageCreate({ fromImage: repo, tag });
    await readJsonStream(res, onProgress);
  }

  /** Pushes an image. */
  async push(ref: string, onProgress?: (line: Record<string, unknown>) => void): Promise<void> {
    const [repo, tag] = splitRef(ref);
    const res = await this.client.stream("POST", `/images/${repo}/push`, {
      query: { tag },
      headers: { "X-Registry-Auth": "e30" },
    });
    await readJsonStream(res, onProgress);
  }

  /** `POST /build` with a tar context; returns the built image ID. */
  async build(
    context: Readable,
    query: Record<string, string | number | boolean | undefined>,
    onLine?: (line: Record<string, unknown>) => void,
  ): Promise<string | undefined> {
    let res: ClientResponse;
    try {
      res = await this.client.stream("POST", "/build", {
        query,
        body: context,
        headers: { "Content-Type": "application/x-tar" },
      });
    } catch (err) {
      // A daemon without the build API answers 404 for the route itself.
      if (isNotFound(err) && /page not found|404/.test((err as Error).message)) {
        throw new Error(
          "this engine cannot build images yet (no POST /build): build the image elsewhere or set image:",
        );
      }
      throw err;
    }
    let id: string | undefined;
    await readJsonStream(res, (l) => {
      const aux = l.aux as { ID?: string } | undefined;
      if (aux?.ID) id = aux.ID;
      const m = typeof l.stream === "string" ? /Successfully built ([0-9a-f]+)/.exec(l.stream) : null;
      if (m && !id) id = m[1];
      onLine?.(l);
    });
    return id;
  }

  /** Pauses a container. */
  async pause(id: string): Promise<void> {
    await this.client.call("POST", `/containers/${encodeURIComponent(id)}/pause`);
  }

  /** Unpauses a container. */
  async unpause(id: string): Promise<void> {
    await this.client.call("POST", `/containers/${encodeURIComponent(id)}/unpause`);
  }

  /** Renames a container. */
  async rename(id: string, name: string): Promise<void> {
    await this.client.call("POST", `/containers/${encodeURIComponent(id)}/rename`, { query: { name } });
  }

  /** Creates an exec instance. */
  async execCreate(container: string, body: ExecCreate): Promise<string> {
    return (await this.client.execCreate(container, body as unknown as Record<string, unknown>)).Id;
  }

  /** Starts an exec instance attached: a hijacked stream (stdin out, output in). */
  execStartAttached(id: string, opts: { tty: boolean }): Promise<Duplex | Readable> {
    return this.client.transport.hijack("POST", `/exec/${encodeURIComponent(id)}/start`, {
      json: { Detach: false, Tty: opts.tty },
    });
  }

  /** Starts an exec instance detached. */
  async execStartDetached(id: string): Promise<void> {
    await this.client.call("POST", `/exec/${encodeURIComponent(id)}/start`, {
      json: { Detach: true, Tty: false },
    });
  }

  /** Exec inspect: the exit code once it ended. */
  async execExitCode(id: string): Promise<number | null> {
    const r = await this.client.json<{ ExitCode: number | null; Running: boolean }>(
      "GET",
      `/exec/${encodeURIComponent(id)}/json`,
    );
    return r.Running ? null : r.ExitCode;
  }

  /** Resizes an exec TTY. */
  async execResize(id: string, size: { h: number; w: number }): Promise<void> {
    await this.client.call("POST", `/exec/${encodeURIComponent(id)}/resize`, { query: size });
  }
}

/** Splits `repo[:tag]` (a registry port is not a tag); digests stay in the repo part. */
export function splitRef(ref: string): [string, string | undefined] {
  if (ref.includes("@")) return [ref, undefined];
  const slash = ref.lastIndexOf("/");
  const colon = ref.lastIndexOf(":");
  if (colon > slash) return [ref.slice(0, colon), ref.slice(colon + 1)];
  return [ref, "latest"];
}

async function readJsonStream(
  res: ClientResponse,
  onLine?: (l: Record<string, unknown>) => void,
): Promise<void> {
  for await (const line of jsonLines<Record<string, unknown>>(res)) {
    const detail = line.errorDetail as { message?: string } | undefined;
    if (line.error || detail) throw new Error(String(detail?.message ?? line.error));
    onLine?.(line);
  }
}
