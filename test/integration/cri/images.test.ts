/**
 * The CRI ImageService over wharf's one image store: PullImage through a per-registry mirror (a
 * `wharf registry serve` standing in for registry.k8s.io) with credentials from the request, ImageStatus,
 * ListImages, RemoveImage and ImageFsInfo, each as `docker images` sees it.
 */
import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import type { CriCallError } from "../../../src/cri/index.ts";
import { bcryptHash } from "../../../src/registry/index.ts";
import { type CriTestDaemon, startCriDaemon } from "../../helpers/cri.ts";
import { docker, importBusybox } from "../../helpers/daemon.ts";
import { startWharfRegistry, type TestRegistry } from "../distribution/registries.ts";

let t: CriTestDaemon;
let reg: TestRegistry;
let dir: string;

interface CriImage {
  id: string;
  repoTags: string[];
  repoDigests: string[];
  size: number;
  uid: { value: number } | null;
  username: string;
}

before(async () => {
  dir = await mkdtemp(join(tmpdir(), "wt-cri-img-"));
  await writeFile(join(dir, "htpasswd"), `kube:${bcryptHash("pw", 5)}\n`);
  reg = await startWharfRegistry(["--htpasswd", join(dir, "htpasswd")]);
  t = await startCriDaemon({
    name: "cri-images",
    args: ["--registry-mirror", `registry.k8s.io=http://${reg.host}`],
  });
  // The mirror holds busybox as registry.k8s.io would serve it (a path with no registry host).
  await importBusybox(t.d);
  const login = await docker(t.d, ["login", "-u", "kube", "--password-stdin", reg.host], { input: "pw" });
  assert.equal(login.code, 0, login.stderr);
  assert.equal((await docker(t.d, ["tag", "busybox", `${reg.host}/e2e/busybox:1.0`])).code, 0);
  const push = await docker(t.d, ["push", `${reg.host}/e2e/busybox:1.0`]);
  assert.equal(push.code, 0, push.stderr);
  assert.equal((await docker(t.d, ["rmi", `${reg.host}/e2e/busybox:1.0`])).code, 0);
});

after(async () => {
  await t?.stop();
  await reg?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

test("PullImage through the registry's mirror, with the request's credentials", async () => {
  const image = { image: "registry.k8s.io/e2e/busybox:1.0" };
  await assert.rejects(t.cri.image("PullImage", { image }), (e: CriCallError) => e.code !== 0);
  const { imageRef } = await t.cri.image<{ imageRef: string }>("PullImage", {
    image,
    auth: { auth: Buffer.from("kube:pw").toString("base64") },
  });
  assert.match(imageRef, /^sha256:[0-9a-f]{64}$/);
  // The same store as docker's.
  const listed = await docker(t.d, ["images", "--format", "{{.Repository}}:{{.Tag}} {{.ID}}"]);
  assert.match(listed.stdout, /^registry\.k8s\.io\/e2e\/busybox:1\.0 /m);
  const st = await t.cri.image<{ image: CriImage }>("ImageStatus", { image });
  assert.equal(st.image.id, imageRef);
  // The same image as the busybox:latest it was pushed from.
  assert.ok(st.image.repoTags.includes("registry.k8s.io/e2e/busybox:1.0"), st.image.repoTags.join(","));
  assert.equal(st.image.repoDigests.length, 1);
  assert.match(st.image.repoDigests[0] ?? "", /^registry\.k8s\.io\/e2e\/busybox@sha256:/);
  assert.ok(Number(st.image.size) > 0);
  // By ID too, as kubelet asks after a pull.
  assert.equal(
    (await t.cri.image<{ image: CriImage }>("ImageStatus", { image: { image: imageRef } })).image.id,
    imageRef,
  );
});

test("ImageStatus of an unknown image is an empty answer, not an error; ListImages lists the store", async () => {
  const none = await t.cri.image<{ image: CriImage | null }>("ImageStatus", { image: { image: "nosuch:1" } });
  assert.equal(none.image, null);
  const all = await t.cri.image<{ images: CriImage[] }>("ListImages", {});
  const tags = all.images.flatMap((i) => i.repoTags);
  // Full names, as containerd reports them (docker images shows the short ones).
  assert.ok(tags.includes("docker.io/library/busybox:latest"), tags.join(","));
  const one = await t.cri.image<{ images: CriImage[] }>("ListImages", {
    filter: { image: { image: "busybox" } },
  });
  assert.equal(one.images.length, 1);
});

test("ImageStatus reports the image's user as uid or username", async () => {
  const cfg = await docker(t.d, ["build", "-q", "-t", "cri-user:1", "-"], {
    input: "FROM busybox\nUSER 1234:5\n",
  });
  assert.equal(cfg.code, 0, cfg.stderr);
  const byUid = await t.cri.image<{ image: CriImage }>("ImageStatus", { image: { image: "cri-user:1" } });
  assert.deepEqual([byUid.image.uid, byUid.image.username], [{ value: 1234 }, ""]);
  const named = await docker(t.d, ["build", "-q", "-t", "cri-user:2", "-"], {
    input: "FROM busybox\nUSER nobody\n",
  });
  assert.equal(named.code, 0, named.stderr);
  const byName = await t.cri.image<{ image: CriImage }>("ImageStatus", { image: { image: "cri-user:2" } });
  assert.deepEqual([byName.image.uid, byName.image.username], [null, "nobody"]);
});

test("RemoveImage removes the image with all its names, as containerd; an unknown one is no error", async () => {
  const built = await docker(t.d, ["build", "-q", "-t", "cri-rm:1", "-"], {
    input: "FROM busybox\nENV A=1\n",
  });
  assert.equal(built.code, 0, built.stderr);
  assert.equal((await docker(t.d, ["tag", "cri-rm:1", "cri-rm:2"])).code, 0);
  await t.cri.image("RemoveImage", { image: { image: "cri-rm:1" } });
  await t.cri.image("RemoveImage", { image: { image: "cri-rm:1" } });
  for (const name of ["cri-rm:1", "cri-rm:2"])
    assert.equal(
      (await t.cri.image<{ image: CriImage | null }>("ImageStatus", { image: { image: name } })).image,
      null,
    );
  // By ID, and of an image others were built from: its names go, the store keeps what they need.
  const image = { image: "registry.k8s.io/e2e/busybox:1.0" };
  const id = (await t.cri.image<{ image: CriImage }>("ImageStatus", { image })).image.id;
  await t.cri.image("RemoveImage", { image: { image: id } });
  assert.equal((await t.cri.image<{ image: CriImage | null }>("ImageStatus", { image })).image, null);
  const listed = await docker(t.d, ["images", "--format", "{{.Repository}}"]);
  assert.doesNotMatch(listed.stdout, /registry\.k8s\.io|^busybox$/m);
  assert.match(listed.stdout, /^cri-user$/m);
});

test("ImageFsInfo reports the layer store", async () => {
  const fs = await t.cri.image<{
    imageFilesystems: { fsId: { mountpoint: string }; usedBytes: { value: number } }[];
  }>("ImageFsInfo", {});
  assert.equal(fs.imageFilesystems[0]?.fsId.mountpoint, join(t.d.dataRoot, "layers"));
  assert.ok(Number(fs.imageFilesystems[0]?.usedBytes.value) > 0);
});
