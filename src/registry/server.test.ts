import assert from "node:assert/strict";
import { mkdtemp, rm, utimes, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { sha256Digest } from "../content/index.ts";
import { bcryptHash, collectGarbage, Htpasswd, RegistryStorage, serveRegistry } from "./index.ts";

async function start(
  t: { after(fn: () => Promise<void>): void },
  opts: { htpasswd?: Htpasswd; readOnly?: boolean } = {},
) {
  const root = await mkdtemp(join(tmpdir(), "wharf-registry-"));
  const storage = new RegistryStorage(root);
  await storage.init();
  const reg = await serveRegistry({ storage, ...opts }, { host: "127.0.0.1", port: 0 });
  t.after(async () => {
    await reg.close();
    await rm(root, { recursive: true, force: true });
  });
  const base = `http://127.0.0.1:${reg.address.port}`;
  const req = (path: string, init: RequestInit = {}) => fetch(base + path, init);
  return { root, storage, base, req };
}

const errCode = async (r: Response) => ((await r.json()) as { errors: { code: string }[] }).errors[0].code;

async function pushBlob(req: (p: string, i?: RequestInit) => Promise<Response>, repo: string, data: string) {
  const d = sha256Digest(data);
  const r = await req(`/v2/${repo}/blobs/uploads/?digest=${d}`, { method: "POST", body: data });
  assert.equal(r.status, 201);
  return { digest: d, size: Buffer.byteLength(data) };
}

function imageManifest(config: { digest: string; size: number }, layers: { digest: string; size: number }[]) {
  return JSON.stringify({
    schemaVersion: 2,
    mediaType: "application/vnd.oci.image.manifest.v1+json",
    config: { mediaType: "application/vnd.oci.image.config.v1+json", ...config },
    layers: layers.map((l) => ({ mediaType: "application/vnd.oci.image.layer.v1.tar+gzip", ...l })),
  });
}

test("base endpoint answers with the API version header", async (t) => {
  const { req } = await start(t);
  const r = await req("/v2/");
  assert.equal(r.status, 200);
  assert.equal(r.headers.get("docker-distribution-api-version"), "registry/2.0");
});

test("chunked upload: PATCH with offsets, 416 on a gap, status, PUT verifies the digest", async (t) => {
  const { req, base } = await start(t);
  const post = await req("/v2/a/b/blobs/uploads/", { method: "POST" });
  assert.equal(post.status, 202);
  const loc = new URL(post.headers.get("location") ?? "", base).pathname;
  let r = await req(loc, { method: "PATCH", body: "hello ", headers: { "Content-Range": "0-5" } });
  assert.equal(r.status, 202);
  assert.equal(r.headers.get("range"), "0-5");
  r = await req(loc, { method: "PATCH", body: "gap", headers: { "Content-Range": "10-12" } });
  assert.equal(r.status, 416);
  r = await req(loc);
  assert.equal(r.status, 204);
  assert.equal(r.headers.get("range"), "0-5");
  r = await req(`${loc}?digest=${sha256Digest("wrong")}`, { method: "PUT", body: "world" });
  assert.equal(r.status, 400);
  assert.equal(await errCode(r), "DIGEST_INVALID");
  const d = sha256Digest("hello world");
  r = await req(`${loc}?digest=${d}`, { method: "PUT", body: "" });
  assert.equal(r.status, 201);
  assert.equal(r.headers.get("docker-content-digest"), d);
  r = await req(`/v2/a/b/blobs/${d}`, { headers: { Range: "bytes=6-" } });
  assert.equal(r.status, 206);
  assert.equal(await r.text(), "world");
  r = await req(`/v2/a/b/blobs/${d}`, { method: "HEAD" });
  assert.equal(r.headers.get("content-length"), "11");
  // Cancel an upload.
  const p2 = await req("/v2/a/b/blobs/uploads/", { method: "POST" });
  const loc2 = new URL(p2.headers.get("location") ?? "", base).pathname;
  assert.equal((await req(loc2, { method: "DELETE" })).status, 204);
  assert.equal(await errCode(await req(loc2)), "BLOB_UPLOAD_UNKNOWN");
});

test("monolithic upload with a wrong digest stores nothing; mount across repositories", async (t) => {
  const { req, storage } = await start(t);
  const r = await req(`/v2/x/blobs/uploads/?digest=${sha256Digest("other")}`, {
    method: "POST",
    body: "data",
  });
  assert.equal(r.status, 400);
  assert.equal(await errCode(r), "DIGEST_INVALID");
  assert.deepEqual(await storage.blobs.list(), []);
  const b = await pushBlob(req, "x", "data");
  const m = await req(`/v2/y/blobs/uploads/?mount=${b.digest}&from=x`, { method: "POST" });
  assert.equal(m.status, 201);
  assert.equal((await req(`/v2/y/blobs/${b.digest}`, { method: "HEAD" })).status, 200);
  // Not in the source repository: falls back to an upload session.
  const m2 = await req(`/v2/z/blobs/uploads/?mount=${sha256Digest("nope")}&from=x`, { method: "POST" });
  assert.equal(m2.status, 202);
  assert.equal((await req(`/v2/z/blobs/${b.digest}`)).status, 404);
});

test("manifests: missing blobs refused, tag and digest, negotiation, tags and catalog pagination, delete", async (t) => {
  const { req } = await start(t);
  const cfg = await pushBlob(
    req,
    "app",
    '{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}',
  );
  const missing = { digest: sha256Digest("missing"), size: 7 };
  let r = await req("/v2/app/manifests/v1", {
    method: "PUT",
    body: imageManifest(cfg, [missing]),
    headers: { "Content-Type": "application/vnd.oci.image.manifest.v1+json" },
  });
  assert.equal(r.status, 400);
  assert.equal(await errCode(r), "MANIFEST_BLOB_UNKNOWN");
  const layer = await pushBlob(req, "app", "layer");
  const body = imageManifest(cfg, [layer]);
  const digest = sha256Digest(body);
  for (const tag of ["v1", "v2", "v3"]) {
    r = await req(`/v2/app/manifests/${tag}`, {
      method: "PUT",
      body,
      headers: { "Content-Type": "application/vnd.oci.image.manifest.v1+json" },
    });
    assert.equal(r.status, 201);
    assert.equal(r.headers.get("docker-content-digest"), digest);
  }
  r = await req(`/v2/app/manifests/${sha256Digest("x")}`, { method: "PUT", body });
  assert.equal(await errCode(r), "DIGEST_INVALID");
  r = await req("/v2/app/manifests/v1", {
    headers: { Accept: "application/vnd.oci.image.manifest.v1+json" },
  });
  assert.equal(r.headers.get("content-type"), "application/vnd.oci.image.manifest.v1+json");
  assert.equal(await r.text(), body);
  r = await req(`/v2/app/manifests/${digest}`, { method: "HEAD" });
  assert.equal(r.status, 200);
  r = await req("/v2/app/manifests/v1", {
    headers: { Accept: "application/vnd.docker.distribution.manifest.v2+json" },
  });
  assert.equal(r.status, 404);
  r = await req("/v2/app/tags/list?n=2");
  assert.deepEqual(await r.json(), { name: "app", tags: ["v1", "v2"] });
  assert.equal(r.headers.get("link"), '</v2/app/tags/list?n=2&last=v2>; rel="next"');
  r = await req("/v2/app/tags/list?n=2&last=v2");
  assert.deepEqual(await r.json(), { name: "app", tags: ["v3"] });
  await pushBlob(req, "other/repo", "x");
  await req("/v2/other/repo/manifests/t", {
    method: "PUT",
    body: imageManifest(await pushBlob(req, "other/repo", "c"), []),
  });
  r = await req("/v2/_catalog?n=1");
  assert.deepEqual(await r.json(), { repositories: ["app"] });
  assert.match(r.headers.get("link") ?? "", /last=app/);
  assert.equal(await errCode(await req("/v2/nothing/tags/list")), "NAME_UNKNOWN");
  assert.equal((await req("/v2/app/manifests/v2", { method: "DELETE" })).status, 202);
  assert.equal(await errCode(await req("/v2/app/manifests/v2")), "MANIFEST_UNKNOWN");
  assert.equal((await req(`/v2/app/manifests/${digest}`, { method: "DELETE" })).status, 202);
  assert.equal(await errCode(await req("/v2/app/manifests/v1")), "MANIFEST_UNKNOWN");
});

test("referrers API lists manifests with a subject, filtered by artifactType", async (t) => {
  const { req } = await start(t);
  const cfg = await pushBlob(req, "r", "{}");
  const subject = imageManifest(cfg, []);
  await req("/v2/r/manifests/latest", { method: "PUT", body: subject });
  const sd = sha256Digest(subject);
  const sig = JSON.stringify({
    schemaVersion: 2,
    mediaType: "application/vnd.oci.image.manifest.v1+json",
    artifactType: "application/vnd.example.sig",
    config: { mediaType: "application/vnd.oci.empty.v1+json", digest: cfg.digest, size: cfg.size },
    layers: [],
    subject: { mediaType: "application/vnd.oci.image.manifest.v1+json", digest: sd, size: subject.length },
  });
  const r = await req(`/v2/r/manifests/${sha256Digest(sig)}`, { method: "PUT", body: sig });
  assert.equal(r.status, 201);
  assert.equal(r.headers.get("oci-subject"), sd);
  const list = (await (await req(`/v2/r/referrers/${sd}`)).json()) as {
    manifests: { digest: string; artifactType: string }[];
  };
  assert.deepEqual(
    list.manifests.map((m) => [m.digest, m.artifactType]),
    [[sha256Digest(sig), "application/vnd.example.sig"]],
  );
  const none = await req(`/v2/r/referrers/${sd}?artifactType=other`);
  assert.equal(none.headers.get("oci-filters-applied"), "artifactType");
  assert.deepEqual(((await none.json()) as { manifests: unknown[] }).manifests, []);
});

test("htpasswd: anonymous and wrong passwords refused, right one accepted; read-only refuses writes", async (t) => {
  const dir = await mkdtemp(join(tmpdir(), "wharf-htpasswd-"));
  t.after(() => rm(dir, { recursive: true, force: true }));
  await writeFile(join(dir, "htpasswd"), `alice:${bcryptHash("secret", 4).replace(/^\$2b\$/, "$2y$")}\n`);
  const { req } = await start(t, { htpasswd: await Htpasswd.load(join(dir, "htpasswd")), readOnly: true });
  const anon = await req("/v2/");
  assert.equal(anon.status, 401);
  assert.match(anon.headers.get("www-authenticate") ?? "", /^Basic realm=/);
  assert.equal(await errCode(anon), "UNAUTHORIZED");
  const auth = (p: string) => ({ Authorization: `Basic ${Buffer.from(`alice:${p}`).toString("base64")}` });
  assert.equal((await req("/v2/", { headers: auth("wrong") })).status, 401);
  assert.equal((await req("/v2/", { headers: auth("secret") })).status, 200);
  const w = await req("/v2/a/blobs/uploads/", { method: "POST", headers: auth("secret") });
  assert.equal(w.status, 405);
  assert.equal(await errCode(w), "UNSUPPORTED");
});

test("gc deletes unreferenced old blobs only", async (t) => {
  const { req, storage } = await start(t);
  const cfg = await pushBlob(req, "g", "{}");
  const layer = await pushBlob(req, "g", "layer");
  await req("/v2/g/manifests/v1", { method: "PUT", body: imageManifest(cfg, [layer]) });
  const orphanOld = await pushBlob(req, "g", "orphan-old");
  const orphanNew = await pushBlob(req, "g", "orphan-new");
  const old = new Date(Date.now() - 2 * 3600_000);
  for (const b of [cfg, layer, orphanOld]) await utimes(storage.blobPath(b.digest), old, old);
  const r = await collectGarbage(storage, { graceMs: 3600_000 });
  assert.deepEqual(r.deleted, [orphanOld.digest]);
  assert.equal(await storage.blobs.has(orphanNew.digest), true);
  assert.equal(await storage.blobs.has(layer.digest), true);
  assert.equal((await req(`/v2/g/blobs/${orphanOld.digest}`, { method: "HEAD" })).status, 404);
});
