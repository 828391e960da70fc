import { createReadStream } from "node:fs";
import { readFile, stat } from "node:fs/promises";
import type { IncomingMessage, ServerResponse } from "node:http";
import https from "node:https";
import type { AddressInfo } from "node:net";
import { pipeline } from "node:stream/promises";
import { isDigest, sha256Digest } from "../content/index.ts";
import { log, nodeHttp } from "../util/index.ts";
import { RegistryError } from "./errors.ts";
import type { Htpasswd } from "./htpasswd.ts";
import { MANIFEST_TYPES, MAX_MANIFEST_BYTES, parseManifest } from "./manifest.ts";
import { NAME_RE, type RegistryStorage, TAG_RE } from "./storage.ts";

/** Options of the registry HTTP server. */
export interface RegistryServerOptions {
  storage: RegistryStorage;
  htpasswd?: Htpasswd;
  readOnly?: boolean;
  tls?: { cert: Buffer; key: Buffer };
}

const API_HEADER = { "Docker-Distribution-API-Version": "registry/2.0" };
const REALM = "wharf-registry";

/** A running registry: where it listens and how to stop it. */
export interface RunningRegistry {
  address: AddressInfo;
  close(): Promise<void>;
}

/** Serves the OCI Distribution API over `storage` on `host:port` (port 0: any free one). */
export async function serveRegistry(
  opts: RegistryServerOptions,
  listen: { host: string; port: number },
): Promise<RunningRegistry> {
  const handler = (req: IncomingMessage, res: ServerResponse) => {
    handle(opts, req, res).catch((e: unknown) => sendError(res, e));
  };
  const server = opts.tls
    ? https.createServer({ cert: opts.tls.cert, key: opts.tls.key }, handler)
    : nodeHttp().createServer(handler);
  // Large blobs over slow links: no request timeout.
  server.requestTimeout = 0;
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(listen.port, listen.host, () => resolve());
  });
  return {
    address: server.address() as AddressInfo,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

type Route =
  | { kind: "base" }
  | { kind: "catalog" }
  | { kind: "tags"; name: string }
  | { kind: "manifest"; name: string; ref: string }
  | { kind: "blob"; name: string; digest: string }
  | { kind: "upload"; name: string; id?: string }
  | { kind: "referrers"; name: string; digest: string };

function route(path: string): Route | undefined {
  if (path === "/v2/" || path === "/v2") return { kind: "base" };
  if (path === "/v2/_catalog") return { kind: "catalog" };
  let m = /^\/v2\/(.+)\/tags\/list$/.exec(path);
  if (m) return { kind: "tags", name: m[1] };
  m = /^\/v2\/(.+)\/manifests\/([^/]+)$/.exec(path);
  if (m) return { kind: "manifest", name: m[1], ref: m[2] };
  m = /^\/v2\/(.+)\/blobs\/uploads\/?([^/]*)$/.exec(path);
  if (m) return { kind: "upload", name: m[1], id: m[2] || undefined };
  m = /^\/v2\/(.+)\/blobs\/([^/]+)$/.exec(path);
  if (m) return { kind: "blob", name: m[1], digest: m[2] };
  m = /^\/v2\/(.+)\/referrers\/([^/]+)$/.exec(path);
  if (m) return { kind: "referrers", name: m[1], digest: m[2] };
  return undefined;
}

async function handle(opts: RegistryServerOptions, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = new URL(req.url ?? "/", "http://registry");
  const method = req.method ?? "GET";
  for (const [k, v] of Object.entries(API_HEADER)) res.setHeader(k, v);
  if (opts.htpasswd && !(await authorized(opts.htpasswd, req))) {
    req.resume();
    res.setHeader("WWW-Authenticate", `Basic realm="${REALM}"`);
    throw new RegistryError("UNAUTHORIZED", "authentication required");
  }
  const r = route(url.pathname);
  if (!r) throw new RegistryError("NAME_UNKNOWN", "not found", { status: 404 });
  if ("name" in r && !NAME_RE.test(r.name)) {
    throw new RegistryError("NAME_INVALID", "invalid repository name", { detail: { name: r.name } });
  }
  const writes = method !== "GET" && method !== "HEAD";
  if (writes && opts.readOnly) {
    req.resume();
    throw new RegistryError("UNSUPPORTED", "the registry is in read-only mode");
  }
  const s = opts.storage;
  switch (r.kind) {
    case "base":
      return sendJson(res, 200, {});
    case "catalog":
      if (method !== "GET") break;
      return paginate(res, url, await s.catalog(), "/v2/_catalog", (page) => ({ repositories: page }));
    case "tags":
      if (method !== "GET") break;
      return paginate(res, url, await s.tags(r.name), `/v2/${r.name}/tags/list`, (page) => ({
        name: r.name,
        tags: page,
      }));
    case "manifest":
      return manifest(s, r, req, res);
    case "blob":
      return blob(s, r, req, res);
    case "upload":
      return upload(s, r, url, req, res);
    case "referrers": {
      if (method !== "GET") break;
      if (!isDigest(r.digest)) throw new RegistryError("DIGEST_INVALID", "invalid digest");
      let items = await s.referrers(r.name, r.digest);
      const artifactType = url.searchParams.get("artifactType");
      if (artifactType) {
        items = items.filter((d) => d.artifactType === artifactType);
        res.setHeader("OCI-Filters-Applied", "artifactType");
      }
      res.setHeader("Content-Type", MANIFEST_TYPES.ociIndex);
      return sendJson(res, 200, { schemaVersion: 2, mediaType: MANIFEST_TYPES.ociIndex, manifests: items });
    }
  }
  req.resume();
  throw new RegistryError("UNSUPPORTED", `${method} is not supported here`);
}

async function authorized(h: Htpasswd, req: IncomingMessage): Promise<boolean> {
  const m = /^Basic\s+(\S+)$/i.exec(req.headers.authorization ?? "");
  if (!m) return false;
  const text = Buffer.from(m[1], "base64").toString("utf8");
  const i = text.indexOf(":");
  return i > 0 && h.check(text.slice(0, i), text.slice(i + 1));
}

async function manifest(
  s: RegistryStorage,
  r: { name: string; ref: string },
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  const method = req.method;
  if (method === "GET" || method === "HEAD") {
    const m = await s.resolveManifest(r.name, r.ref);
    if (!acceptable(req.headers.accept, m.mediaType)) {
      throw new RegistryError("MANIFEST_UNKNOWN", "manifest unknown", {
        detail: { reference: r.ref, reason: `not acceptable: ${m.mediaType}` },
      });
    }
    res.writeHead(200, {
      "Content-Type": m.mediaType,
      "Content-Length": String(m.size),
      "Docker-Content-Digest": m.digest,
      ETag: `"${m.digest}"`,
    });
    if (method === "HEAD") return void res.end();
    res.end(await s.readManifest(m));
    return;
  }
  if (method === "PUT") {
    const body = await readBody(req, MAX_MANIFEST_BYTES);
    const parsed = parseManifest(body, req.headers["content-type"]);
    const byDigest = isDigest(r.ref);
    if (!byDigest && !TAG_RE.test(r.ref)) throw new RegistryError("MANIFEST_INVALID", "invalid tag");
    for (const d of parsed.blobs) {
      try {
        await s.blobInRepo(r.name, d);
      } catch {
        // A blob pushed to another repository is not enough: the spec wants it in this one.
        throw new RegistryError("MANIFEST_BLOB_UNKNOWN", "blob unknown to registry", {
          detail: { digest: d },
        });
      }
    }
    for (const d of parsed.manifests) {
      if (!(await s.hasRevision(r.name, d))) {
        throw new RegistryError("MANIFEST_BLOB_UNKNOWN", "manifest unknown to registry", {
          detail: { digest: d },
        });
      }
    }
    const digest = sha256Digest(body);
    if (byDigest && digest !== r.ref) {
      throw new RegistryError("DIGEST_INVALID", "provided digest did not match uploaded content", {
        detail: { expected: r.ref, actual: digest },
      });
    }
    await s.putManifest(r.name, body, {
      mediaType: parsed.mediaType,
      tag: byDigest ? undefined : r.ref,
      subject: parsed.subject,
      referrer: parsed.referrer ? { ...parsed.referrer, digest, size: body.length } : undefined,
    });
    const headers: Record<string, string> = {
      Location: `/v2/${r.name}/manifests/${digest}`,
      "Docker-Content-Digest": digest,
      "Content-Length": "0",
    };
    if (parsed.subject) headers["OCI-Subject"] = parsed.subject;
    res.writeHead(201, headers);
    res.end();
    return;
  }
  if (method === "DELETE") {
    await s.deleteManifest(r.name, r.ref);
    res.writeHead(202, { "Content-Length": "0" });
    res.end();
    return;
  }
  req.resume();
  throw new RegistryError("UNSUPPORTED", `${method} is not supported here`);
}

/** Whether an Accept header admits a media type; no header (or a wildcard) admits all. */
function acceptable(accept: string | undefined, mediaType: string): boolean {
  if (!accept) return true;
  const types = accept.split(",").map((t) => t.split(";")[0].trim());
  if (types.some((t) => t === "*/*" || t === "application/*" || t === mediaType || t === "")) return true;
  // Clients asking only for plain JSON get what there is.
  return types.every((t) => t === "application/json");
}

async function blob(
  s: RegistryStorage,
  r: { name: string; digest: string },
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  const method = req.method;
  if (method === "DELETE") {
    await s.unlinkBlob(r.name, r.digest);
    res.writeHead(202, { "Content-Length": "0" });
    res.end();
    return;
  }
  if (method !== "GET" && method !== "HEAD") {
    req.resume();
    throw new RegistryError("UNSUPPORTED", `${method} is not supported here`);
  }
  const size = await s.blobInRepo(r.name, r.digest);
  const headers: Record<string, string> = {
    "Content-Type": "application/octet-stream",
    "Docker-Content-Digest": r.digest,
    "Accept-Ranges": "bytes",
    ETag: `"${r.digest}"`,
    "Cache-Control": "max-age=31536000",
  };
  const range = req.headers.range;
  let start = 0;
  let end = size - 1;
  let status = 200;
  if (range) {
    const m = /^bytes=(\d*)-(\d*)$/.exec(range.trim());
    if (!m || (m[1] === "" && m[2] === "")) throw rangeInvalid(size);
    if (m[1] === "") {
      start = Math.max(0, size - Number(m[2]));
    } else {
      start = Number(m[1]);
      if (m[2] !== "") end = Math.min(end, Number(m[2]));
    }
    if (start >= size || start > end) throw rangeInvalid(size);
    status = 206;
    headers["Content-Range"] = `bytes ${start}-${end}/${size}`;
  }
  headers["Content-Length"] = String(Math.max(0, end - start + 1));
  res.writeHead(status, headers);
  if (method === "HEAD" || size === 0) return void res.end();
  await pipeline(createReadStream(s.blobPath(r.digest), { start, end }), res);
}

function rangeInvalid(size: number): RegistryError {
  return new RegistryError("RANGE_INVALID", "requested range not satisfiable", { detail: { size } });
}

async function upload(
  s: RegistryStorage,
  r: { name: string; id?: string },
  url: URL,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  const method = req.method;
  const q = url.searchParams;
  const location = (id: string) => `/v2/${r.name}/blobs/uploads/${id}`;
  const created = (digest: string) => {
    res.writeHead(201, {
      Location: `/v2/${r.name}/blobs/${digest}`,
      "Docker-Content-Digest": digest,
      "Content-Length": "0",
    });
    res.end();
  };
  const accepted = (id: string, offset: number, status = 202) => {
    res.writeHead(status, {
      Location: location(id),
      Range: `0-${Math.max(0, offset - 1)}`,
      "Docker-Upload-UUID": id,
      "Content-Length": "0",
    });
    res.end();
  };
  if (method === "POST" && !r.id) {
    const mount = q.get("mount");
    const from = q.get("from");
    if (mount && from && NAME_RE.test(from) && isDigest(mount) && (await s.mountBlob(r.name, from, mount))) {
      req.resume();
      return created(mount);
    }
    const digest = q.get("digest");
    if (digest) {
      await s.putBlob(r.name, digest, req);
      return created(digest);
    }
    req.resume();
    const u = await s.startUpload(r.name);
    return accepted(u.id, 0);
  }
  if (!r.id) {
    req.resume();
    throw new RegistryError("UNSUPPORTED", `${method} is not supported here`);
  }
  const u = s.getUpload(r.name, r.id);
  if (method === "GET") return accepted(u.id, u.offset, 204);
  if (method === "DELETE") {
    await s.cancelUpload(u);
    res.writeHead(204, { "Content-Length": "0" });
    res.end();
    return;
  }
  if (method === "PATCH") {
    const cr = req.headers["content-range"];
    let start: number | undefined;
    if (cr) {
      const m = /^(?:bytes[ =])?(\d+)-(\d+)$/.exec(cr.trim());
      if (!m) throw new RegistryError("RANGE_INVALID", "invalid content range", { detail: { range: cr } });
      start = Number(m[1]);
    }
    const offset = await s.appendUpload(u, req, start);
    return accepted(u.id, offset);
  }
  if (method === "PUT") {
    const digest = q.get("digest");
    if (!digest) {
      req.resume();
      throw new RegistryError("DIGEST_INVALID", "digest missing");
    }
    await s.appendUpload(u, req);
    await s.finishUpload(u, digest);
    return created(digest);
  }
  req.resume();
  throw new RegistryError("UNSUPPORTED", `${method} is not supported here`);
}

async function paginate(
  res: ServerResponse,
  url: URL,
  all: string[],
  path: string,
  body: (page: string[]) => unknown,
): Promise<void> {
  const nRaw = url.searchParams.get("n");
  const last = url.searchParams.get("last");
  let items = last ? all.filter((x) => x > last) : all;
  if (nRaw !== null) {
    const n = Number(nRaw);
    if (!Number.isInteger(n) || n < 0) {
      throw new RegistryError("PAGINATION_NUMBER_INVALID", "invalid number of results requested");
    }
    if (items.length > n) {
      items = items.slice(0, n);
      if (n > 0) {
        const next = `${path}?n=${n}&last=${encodeURIComponent(items[items.length - 1])}`;
        res.setHeader("Link", `<${next}>; rel="next"`);
      }
    }
  }
  sendJson(res, 200, body(items));
}

async function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let n = 0;
  for await (const c of req as AsyncIterable<Buffer>) {
    n += c.length;
    if (n > limit) throw new RegistryError("SIZE_INVALID", "manifest too large", { status: 413 });
    chunks.push(c);
  }
  return Buffer.concat(chunks);
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const data = Buffer.from(JSON.stringify(body));
  if (!res.hasHeader("Content-Type")) res.setHeader("Content-Type", "application/json");
  res.writeHead(status, { "Content-Length": String(data.length) });
  res.end(data);
}

function sendError(res: ServerResponse, e: unknown): void {
  if (res.headersSent) {
    res.destroy(e instanceof Error ? e : undefined);
    return;
  }
  if (e instanceof RegistryError) {
    res.setHeader("Content-Type", "application/json");
    sendJson(res, e.status, e.body());
    return;
  }
  log("error", "registry: request failed", { err: e });
  sendJson(res, 500, { errors: [{ code: "UNKNOWN", message: e instanceof Error ? e.message : String(e) }] });
}

/** Reads TLS files for `serveRegistry`. */
export async function readTls(cert: string, key: string): Promise<{ cert: Buffer; key: Buffer }> {
  await stat(cert);
  return { cert: await readFile(cert), key: await readFile(key) };
}
