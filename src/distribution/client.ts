import type { Readable } from "node:stream";
import { isDigest, sha256Digest, verifiedCopy } from "../content/index.ts";
import {
  InvalidParameterError,
  NotFoundError,
  SystemError,
  UnauthorizedError,
  UnavailableError,
} from "../errdefs/index.ts";
import { declaredMediaType, MAX_MANIFEST_BYTES } from "./documents.ts";
import { type HttpResponse, readAll, send } from "./http.ts";

/** Credentials as `X-Registry-Auth` and `POST /auth` carry them. */
export interface Credentials {
  username?: string;
  password?: string;
  identitytoken?: string;
  registrytoken?: string;
}

/** Which registries are spoken to over plain HTTP, and where Docker Hub names go. */
export interface RegistrySettings {
  /** `host[:port]` or CIDR entries of `--insecure-registry`. */
  insecure: string[];
  /** `--registry-mirror` URLs, tried for names without a registry host. */
  mirrors: string[];
  /** `--registry-mirror NAME=URL`: registry host → the base URL serving it (pulls only, as dockerd's mirrors). */
  hostMirrors?: Record<string, string>;
}

/** Media types of manifests a pull accepts, most wanted first. */
export const MANIFEST_MEDIA_TYPES = {
  dockerV2: "application/vnd.docker.distribution.manifest.v2+json",
  dockerList: "application/vnd.docker.distribution.manifest.list.v2+json",
  ociManifest: "application/vnd.oci.image.manifest.v1+json",
  ociIndex: "application/vnd.oci.image.index.v1+json",
} as const;

const ACCEPT = Object.values(MANIFEST_MEDIA_TYPES).join(", ");

/** A manifest as fetched: its bytes (digest-checked when asked by digest) and type. */
export interface FetchedManifest {
  bytes: Buffer;
  mediaType: string;
  digest: string;
}

/** True for 127.0.0.0/8, ::1 and localhost (with or without a port): plain HTTP, as Docker does. */
export function isLoopbackHost(host: string): boolean {
  const h = host.replace(/:\d+$/, "").replace(/^\[|\]$/g, "");
  return h === "localhost" || h === "::1" || /^127\.\d+\.\d+\.\d+$/.test(h);
}

function inCidr(host: string, cidr: string): boolean {
  const m = /^(\d+)\.(\d+)\.(\d+)\.(\d+)\/(\d+)$/.exec(cidr);
  const h = /^(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(host.replace(/:\d+$/, ""));
  if (!m || !h) return false;
  const n = (a: RegExpExecArray) => ((+a[1] << 24) | (+a[2] << 16) | (+a[3] << 8) | +a[4]) >>> 0;
  const bits = Number(m[5]);
  const mask = bits === 0 ? 0 : (~0 << (32 - bits)) >>> 0;
  return (n(m) & mask) === (n(h) & mask);
}

/** The base URL of a registry host: HTTP for loopback and `--insecure-registry` entries, HTTPS otherwise. */
export function registryBase(host: string, settings: RegistrySettings): string {
  const insecure =
    isLoopbackHost(host) ||
    settings.insecure.some((e) => e === host || e === host.replace(/:\d+$/, "") || inCidr(host, e));
  return `${insecure ? "http" : "https"}://${host}`;
}

/** One repository on one registry, with the auth a pull or push of it needs. */
export class RegistryClient {
  readonly base: string;
  readonly repo: string;
  private readonly creds: Credentials | undefined;
  private readonly actions: string;
  private authorization: string | undefined;
  private authed = false;

  constructor(opts: { base: string; repo: string; creds?: Credentials; push?: boolean }) {
    this.base = opts.base.replace(/\/+$/, "");
    this.repo = opts.repo;
    this.creds = opts.creds;
    this.actions = opts.push ? "pull,push" : "pull";
  }

  /** Pings /v2/ and answers its challenge (Bearer token or Basic), once. */
  async login(): Promise<void> {
    if (this.authed) return;
    const res = await this.raw("GET", "/v2/");
    res.body.resume();
    if (res.status === 401) await this.answer(res, `repository:${this.repo}:${this.actions}`);
    else if (res.status >= 400 && res.status !== 404) {
      throw new UnavailableError(`${this.base}/v2/: unexpected status ${res.status}`);
    }
    this.authed = true;
  }

  /** Checks credentials against the registry (`POST /auth`); throws UnauthorizedError when refused. */
  async checkLogin(): Promise<void> {
    const res = await this.raw("GET", "/v2/");
    res.body.resume();
    if (res.status !== 401) return;
    await this.answer(res, "");
    const again = await this.raw("GET", "/v2/");
    again.body.resume();
    if (again.status === 401) {
      throw new UnauthorizedError(`login attempt to ${this.base}/v2/ failed with status: 401 Unauthorized`);
    }
  }

  async getManifest(reference: string): Promise<FetchedManifest> {
    await this.login();
    const res = await this.call("GET", `/v2/${this.repo}/manifests/${reference}`, { Accept: ACCEPT });
    if (res.status !== 200) throw await this.failure(res, `manifest for ${reference}`);
    const bytes = await readAll(res, MAX_MANIFEST_BYTES, `manifest for ${reference}`);
    const digest = sha256Digest(bytes);
    if (isDigest(reference) && digest !== reference) {
      throw new InvalidParameterError(`manifest verification failed for digest ${reference}`);
    }
    const mediaType =
      declaredMediaType(bytes, `manifest for ${reference}`) ??
      String(res.headers["content-type"] ?? "").split(";")[0];
    return { bytes, mediaType, digest };
  }

  /** A blob's bytes as a stream; `size` from the response. Redirects (to storage backends) are followed. */
  async getBlob(digest: string, signal?: AbortSignal): Promise<{ stream: Readable; size: number }> {
    await this.login();
    let res = await this.call("GET", `/v2/${this.repo}/blobs/${digest}`, {}, { signal });
    for (let hops = 0; res.status >= 300 && res.status < 400 && res.headers.location && hops < 5; hops++) {
      res.body.resume();
      const next = new URL(res.headers.location, this.base).toString();
      // Storage backends sign their own URLs: the registry's credentials stay with the registry.
      const sameHost = new URL(next).host === new URL(this.base).host;
      res = await send({
        method: "GET",
        url: next,
        headers: sameHost && this.authorization ? { Authorization: this.authorization } : {},
        signal,
      });
    }
    if (res.status !== 200) throw await this.failure(res, `blob ${digest}`);
    return { stream: res.body, size: Number(res.headers["content-length"] ?? -1) };
  }

  /**
   * A small blob (a config) read whole: refused when its descriptor announces more than `limit` bytes, and
   * checked against the descriptor's size and digest as it arrives, so a registry cannot stream without end.
   */
  async getSmallBlob(desc: { digest: string; size: number }, limit: number, what: string): Promise<Buffer> {
    if (desc.size > limit)
      throw new InvalidParameterError(
        `${what} of ${desc.size} bytes is larger than the ${limit} bytes allowed`,
      );
    const { stream } = await this.getBlob(desc.digest);
    const copy = verifiedCopy(stream, desc, () => undefined);
    const chunks: Buffer[] = [];
    try {
      for await (const c of copy.out as AsyncIterable<Buffer>) chunks.push(c);
      await copy.done;
    } catch (e) {
      throw new InvalidParameterError(`${what} ${desc.digest}: ${(e as Error).message}`, { cause: e });
    }
    return Buffer.concat(chunks);
  }

  /** The blob's size when the repository has it. */
  async headBlob(digest: string): Promise<number | undefined> {
    await this.login();
    const res = await this.call("HEAD", `/v2/${this.repo}/blobs/${digest}`);
    res.body.resume();
    if (res.status === 200) return Number(res.headers["content-length"] ?? 0);
    if (res.status === 404) return undefined;
    throw await this.failure(res, `blob ${digest}`);
  }

  /** Tries a cross-repository mount; true when mounted, else an upload URL to use instead. */
  async mountOrStart(digest: string, from?: string): Promise<true | string> {
    await this.login();
    const q = from ? `?mount=${encodeURIComponent(digest)}&from=${encodeURIComponent(from)}` : "";
    const res = await this.call("POST", `/v2/${this.repo}/blobs/uploads/${q}`, { "Content-Length": "0" });
    res.body.resume();
    if (res.status === 201) return true;
    if (res.status !== 202 || !res.headers.location) throw await this.failure(res, "blob upload");
    return new URL(res.headers.location, this.base).toString();
  }

  /** Finishes an upload session with the whole blob in one PUT. */
  async putBlob(uploadUrl: string, digest: string, size: number, body: Readable): Promise<void> {
    const u = new URL(uploadUrl);
    u.searchParams.set("digest", digest);
    const headers: Record<string, string> = {
      "Content-Type": "application/octet-stream",
      "Content-Length": String(size),
    };
    if (this.authorization) headers.Authorization = this.authorization;
    const res = await send({ method: "PUT", url: u.toString(), headers, body });
    res.body.resume();
    if (res.status !== 201) throw await this.failure(res, `blob ${digest}`);
  }

  async putManifest(reference: string, bytes: Buffer, mediaType: string): Promise<string> {
    await this.login();
    const res = await this.call(
      "PUT",
      `/v2/${this.repo}/manifests/${reference}`,
      { "Content-Type": mediaType, "Content-Length": String(bytes.length) },
      { body: bytes },
    );
    if (res.status !== 201) throw await this.failure(res, `manifest ${reference}`);
    res.body.resume();
    return String(res.headers["docker-content-digest"] ?? sha256Digest(bytes));
  }

  /** A request with the current authorization; one 401 gets the challenge answered and the request retried. */
  private async call(
    method: string,
    path: string,
    headers: Record<string, string> = {},
    opts: { body?: Buffer; signal?: AbortSignal } = {},
  ): Promise<HttpResponse> {
    const res = await this.raw(method, path, headers, opts);
    if (res.status !== 401) return res;
    res.body.resume();
    await this.answer(res, `repository:${this.repo}:${this.actions}`);
    return this.raw(method, path, headers, opts);
  }

  private raw(
    method: string,
    path: string,
    headers: Record<string, string> = {},
    opts: { body?: Buffer; signal?: AbortSignal } = {},
  ): Promise<HttpResponse> {
    const h = { ...headers };
    if (this.authorization) h.Authorization = this.authorization;
    return send({ method, url: this.base + path, headers: h, body: opts.body, signal: opts.signal }).catch(
      (e: unknown) => {
        throw new UnavailableError(
          `Get "${this.base}${path}": ${e instanceof Error ? e.message : String(e)}`,
          { cause: e },
        );
      },
    );
  }

  /** Sets `authorization` from a 401's WWW-Authenticate challenge. */
  private async answer(res: HttpResponse, scope: string): Promise<void> {
    const challenge = parseChallenge(String(res.headers["www-authenticate"] ?? ""));
    const c = this.creds;
    const basic = c?.username
      ? `Basic ${Buffer.from(`${c.username}:${c.password ?? ""}`).toString("base64")}`
      : "";
    if (c?.registrytoken) {
      this.authorization = `Bearer ${c.registrytoken}`;
      return;
    }
    if (challenge?.scheme === "basic") {
      if (!basic) throw new UnauthorizedError("no basic auth credentials");
      this.authorization = basic;
      return;
    }
    if (challenge?.scheme === "bearer" && challenge.params.realm) {
      const u = new URL(challenge.params.realm);
      if (challenge.params.service) u.searchParams.set("service", challenge.params.service);
      if (scope) u.searchParams.set("scope", scope);
      const headers: Record<string, string> = {};
      if (basic) headers.Authorization = basic;
      let tokRes: HttpResponse;
      if (c?.identitytoken) {
        const form = new URLSearchParams({
          grant_type: "refresh_token",
          refresh_token: c.identitytoken,
          service: challenge.params.service ?? "",
          scope,
          client_id: "wharf",
        });
        tokRes = await send({
          method: "POST",
          url: challenge.params.realm,
          headers: { "Content-Type": "application/x-www-form-urlencoded" },
          body: Buffer.from(form.toString()),
        });
      } else {
        tokRes = await send({ method: "GET", url: u.toString(), headers });
      }
      const body = await readAll(tokRes, 1 << 20);
      if (tokRes.status === 401 || tokRes.status === 403) {
        throw new UnauthorizedError(`unauthorized: ${errorText(body) || "authentication required"}`);
      }
      if (tokRes.status !== 200) throw new UnavailableError(`token server answered ${tokRes.status}`);
      const tok = JSON.parse(body.toString("utf8")) as { token?: string; access_token?: string };
      const t = tok.token ?? tok.access_token;
      if (!t) throw new UnavailableError("token server sent no token");
      this.authorization = `Bearer ${t}`;
      return;
    }
    throw new UnauthorizedError("unauthorized: authentication required");
  }

  /** The error a failed response stands for, with the registry's own message. */
  private async failure(res: HttpResponse, what: string): Promise<Error> {
    const body = await readAll(res, 1 << 20).catch(() => Buffer.alloc(0));
    const text = errorText(body);
    const where = `${this.base.replace(/^https?:\/\//, "")}/${this.repo}`;
    if (res.status === 401) {
      return new UnauthorizedError(`${text || "unauthorized: authentication required"}`);
    }
    if (res.status === 403) return new UnauthorizedError(`denied: ${text || "requested access denied"}`);
    if (res.status === 404) {
      if (/NAME_UNKNOWN/.test(body.toString()) || what.startsWith("manifest for")) {
        return new NotFoundError(
          `${what.replace("manifest for ", `manifest for ${where}:`)} not found: ${text}`,
        );
      }
      return new NotFoundError(`${what} not found: ${text || "not found"}`);
    }
    if (res.status === 400) return new InvalidParameterError(`${what}: ${text || "bad request"}`);
    return new SystemError(`${what}: unexpected status ${res.status}${text ? `: ${text}` : ""}`);
  }
}

/** `code: message` of a registry's error JSON, lower-cased as Docker prints it. */
function errorText(body: Buffer): string {
  try {
    const j = JSON.parse(body.toString("utf8")) as { errors?: { code?: string; message?: string }[] };
    const e = j.errors?.[0];
    if (e) return `${(e.code ?? "").toLowerCase().replace(/_/g, " ")}: ${e.message ?? ""}`;
  } catch {
    // Not JSON.
  }
  return body.toString("utf8").trim().slice(0, 200);
}

/** Parses `Bearer realm="...",service="...",scope="..."` / `Basic realm="..."`. */
export function parseChallenge(h: string): { scheme: string; params: Record<string, string> } | undefined {
  const m = /^\s*(\w+)\s*(.*)$/.exec(h);
  if (!m) return undefined;
  const params: Record<string, string> = {};
  for (const p of m[2].matchAll(/(\w+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^,\s]+))/g)) {
    params[p[1].toLowerCase()] = (p[2] ?? p[3]).replace(/\\(.)/g, "$1");
  }
  return { scheme: m[1].toLowerCase(), params };
}
