/**
 * Image distribution end to end: the real docker CLI drives a wharf daemon that pushes to and pulls from
 * `wharf registry serve`, Debian's docker-registry and skopeo's view of them; save/load, history, prune;
 * Basic auth; tampered and interrupted downloads leave nothing behind.
 */
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { bcryptHash } from "../../../src/registry/index.ts";
import { docker, exec, importBusybox, startDaemon, type TestDaemon } from "../../helpers/daemon.ts";
import {
  startCuttingProxy,
  startDockerRegistry,
  startWharfRegistry,
  type TestRegistry,
} from "./registries.ts";

let d: TestDaemon;
let reg: TestRegistry;
const cleanups: (() => Promise<void>)[] = [];
const SKOPEO = "/usr/bin/skopeo";

before(async () => {
  d = await startDaemon({ name: "dist" });
  reg = await startWharfRegistry();
  await importBusybox(d);
});

after(async () => {
  for (const c of cleanups.reverse()) await c().catch(() => undefined);
  await reg?.stop();
  await d?.stop();
});

async function ok(args: string[]): Promise<string> {
  const r = await docker(d, args, { timeoutMs: 120_000 });
  assert.equal(r.code, 0, `docker ${args.join(" ")}: ${r.stderr}\n${r.stdout}\n${d.output().slice(-2000)}`);
  return r.stdout;
}

async function inspect(name: string): Promise<{ Id: string; RepoTags: string[]; RepoDigests: string[] }> {
  return JSON.parse(await ok(["image", "inspect", "--format", "{{json .}}", name]));
}

/** Blobs, layers and temp files in the daemon's data root, to prove a failed pull left nothing. */
async function dataState(): Promise<{ blobs: string[]; layers: string[]; tmp: string[] }> {
  const ls = (p: string) => readdir(join(d.dataRoot, p)).catch(() => [] as string[]);
  return {
    blobs: (await ls("content/blobs/sha256")).sort(),
    layers: (await ls("layers")).filter((n) => /^[a-f0-9]{64}$/.test(n)).sort(),
    tmp: (await ls("tmp")).filter((n) => !n.startsWith(".")),
  };
}

test("push to the wharf registry, pull back by tag and digest, run it", async () => {
  const name = `${reg.host}/library/busybox:1`;
  await ok(["tag", "busybox:latest", name]);
  const push = await ok(["push", name]);
  assert.match(push, /Pushed/);
  const digest = /digest: (sha256:[a-f0-9]{64})/.exec(push)?.[1];
  assert.ok(digest, push);
  const again = await ok(["push", name]);
  assert.match(again, /Layer already exists/);
  await ok(["rmi", name]);
  const pull = await ok(["pull", name]);
  // busybox:latest still holds the layer.
  assert.match(pull, /Already exists/);
  assert.match(pull, new RegExp(`Digest: ${digest}`));
  const img = await inspect(name);
  assert.ok(img.RepoDigests.includes(`${reg.host}/library/busybox@${digest}`), JSON.stringify(img));
  assert.equal((await ok(["run", "--rm", name, "echo", "pulled"])).trim(), "pulled");
  const byDigest = await ok(["pull", `${reg.host}/library/busybox@${digest}`]);
  assert.match(byDigest, /Already exists|up to date/);
  // Cross-repository mount: the layer is already in library/busybox.
  await ok(["tag", name, `${reg.host}/other/box:1`]);
  assert.match(
    await ok(["push", `${reg.host}/other/box:1`]),
    /Mounted from library\/busybox|Layer already exists/,
  );
});

test("names without a registry host are refused; unknown tags are Docker's manifest unknown", async () => {
  const r = await docker(d, ["pull", "alpine:3"]);
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /no registry host/);
  const r2 = await docker(d, ["pull", `${reg.host}/library/busybox:nope`]);
  assert.notEqual(r2.code, 0);
  assert.match(r2.stderr, /manifest unknown/);
});

test("save and load round trip, history, rmi and image prune", async () => {
  const dir = await mkdtemp(join(tmpdir(), "wt-save-"));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  const name = `${reg.host}/library/busybox:1`;
  const id = (await inspect(name)).Id;
  await ok(["save", "-o", join(dir, "bb.tar"), name]);
  const manifest = (await exec("tar", ["-xOf", join(dir, "bb.tar"), "manifest.json"])).stdout;
  assert.deepEqual(JSON.parse(manifest)[0].RepoTags, [name]);
  await ok(["rmi", "-f", name]);
  const load = await ok(["load", "-i", join(dir, "bb.tar")]);
  assert.match(load, new RegExp(`Loaded image: ${name.replace(/[.]/g, "\\.")}`));
  assert.equal((await inspect(name)).Id, id);
  const hist = await ok(["history", "--format", "{{.ID}} {{.Comment}}", name]);
  assert.match(hist, /Imported from -/);
  // A dangling image goes with prune; -a takes unused tagged ones too.
  await ok(["tag", name, "to-untag:1"]);
  await ok(["rmi", name, `${reg.host}/other/box:1`]);
  const before = await ok(["images", "-q"]);
  assert.ok(before.trim().length > 0);
  await ok(["image", "prune", "-f"]);
  assert.ok((await ok(["images", "--format", "{{.Repository}}"])).includes("to-untag"));
  const pruned = await ok(["image", "prune", "-af"]);
  assert.match(pruned, /untagged: to-untag:1/);
  assert.equal((await ok(["images", "-q", "to-untag"])).trim(), "");
  await importBusybox(d);
});

test("Basic auth: anonymous and wrong passwords refused, login then push and pull", async () => {
  const dir = await mkdtemp(join(tmpdir(), "wt-auth-"));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  await writeFile(join(dir, "htpasswd"), `alice:${bcryptHash("s3cret", 5)}\n`);
  const secured = await startWharfRegistry(["--htpasswd", join(dir, "htpasswd")]);
  cleanups.push(() => secured.stop());
  const name = `${secured.host}/team/box:1`;
  await ok(["tag", "busybox:latest", name]);
  const anon = await docker(d, ["push", name]);
  assert.notEqual(anon.code, 0, anon.stdout);
  assert.match(anon.stderr + anon.stdout, /auth|unauthorized/i);
  const bad = await docker(d, ["login", "-u", "alice", "--password-stdin", secured.host], {
    input: "wrong\n",
  });
  assert.notEqual(bad.code, 0);
  assert.match(bad.stderr, /401|unauthorized/i);
  const good = await docker(d, ["login", "-u", "alice", "--password-stdin", secured.host], {
    input: "s3cret\n",
  });
  assert.equal(good.code, 0, good.stderr);
  assert.match(good.stdout, /Login Succeeded/);
  assert.match(await ok(["push", name]), /Pushed/);
  await ok(["rmi", name]);
  assert.match(await ok(["pull", name]), /Downloaded newer image/);
  await ok(["logout", secured.host]);
  await ok(["rmi", name]);
  const r = await docker(d, ["pull", name]);
  assert.notEqual(r.code, 0);
});

test("push to and pull from Debian's docker-registry", async (t) => {
  const ref = await startDockerRegistry();
  if (!ref) return t.skip("docker-registry is not installed (scripts/setup.sh installs it)");
  cleanups.push(() => ref.stop());
  const name = `${ref.host}/library/busybox:ref`;
  await ok(["tag", "busybox:latest", name]);
  assert.match(await ok(["push", name]), /digest: sha256:/);
  await ok(["rmi", name]);
  assert.match(await ok(["pull", name]), /Downloaded newer image/);
  assert.equal((await ok(["run", "--rm", name, "echo", "ref"])).trim(), "ref");
  await ok(["rmi", name]);
});

test("skopeo inspects and copies images in both directions", async (t) => {
  if (!existsSync(SKOPEO)) return t.skip("skopeo is not installed (scripts/setup.sh installs it)");
  const dir = await mkdtemp(join(tmpdir(), "wt-skopeo-"));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  const name = `${reg.host}/library/busybox:1`;
  await ok(["tag", "busybox:latest", name]);
  await ok(["push", name]);
  const env = { HOME: dir, XDG_RUNTIME_DIR: dir };
  const ins = await exec(SKOPEO, ["inspect", "--tls-verify=false", `docker://${name}`], { env });
  assert.equal(ins.code, 0, ins.stderr);
  assert.equal(JSON.parse(ins.stdout).Name, `${reg.host}/library/busybox`);
  const out = await exec(
    SKOPEO,
    ["copy", "--src-tls-verify=false", `docker://${name}`, `oci:${join(dir, "oci")}:v1`],
    { env },
  );
  assert.equal(out.code, 0, out.stderr);
  const back = await exec(
    SKOPEO,
    ["copy", "--dest-tls-verify=false", `oci:${join(dir, "oci")}:v1`, `docker://${reg.host}/from/skopeo:v1`],
    { env },
  );
  assert.equal(back.code, 0, back.stderr);
  assert.match(await ok(["pull", `${reg.host}/from/skopeo:v1`]), /Status:/);
  assert.equal((await ok(["run", "--rm", `${reg.host}/from/skopeo:v1`, "echo", "skopeo"])).trim(), "skopeo");
  await ok(["rmi", `${reg.host}/from/skopeo:v1`]);
});

/** Pushes a fresh one-layer image and removes it locally: its layer blob is then only in the registry. */
async function pushFresh(repo: string): Promise<{ name: string; layer: string }> {
  const tag = `${reg.host}/${repo}:1`;
  const dir = await mkdtemp(join(tmpdir(), "wt-fresh-"));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  await writeFile(join(dir, "data"), Buffer.alloc(3 << 20, repo));
  await writeFile(join(dir, "nonce"), `${Date.now()} ${Math.random()}`);
  const tar = await exec("tar", [
    "-C",
    dir,
    "-cf",
    join(dir, "..", `${repo.replace(/\W/g, "_")}.tar`),
    "data",
    "nonce",
  ]);
  assert.equal(tar.code, 0, tar.stderr);
  cleanups.push(() => rm(join(dir, "..", `${repo.replace(/\W/g, "_")}.tar`), { force: true }));
  await ok(["import", join(dir, "..", `${repo.replace(/\W/g, "_")}.tar`), tag]);
  await ok(["push", tag]);
  const accept =
    "application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json";
  const res = await fetch(`http://${reg.host}/v2/${repo}/manifests/1`, { headers: { Accept: accept } });
  const m = (await res.json()) as { layers: { digest: string }[] };
  await ok(["rmi", tag]);
  return { name: tag, layer: m.layers[m.layers.length - 1].digest };
}

test("a tampered blob fails the pull and leaves no blob or layer", async () => {
  const { name, layer } = await pushFresh("tamper/box");
  const state = await dataState();
  const blob = join(reg.root, "content/blobs/sha256", layer.slice(7));
  const data = await readFile(blob);
  data[data.length - 5] ^= 0xff;
  await writeFile(blob, data);
  const r = await docker(d, ["pull", name]);
  assert.notEqual(r.code, 0, r.stdout);
  assert.match(r.stderr + r.stdout, /mismatch|verif/i);
  assert.deepEqual(await dataState(), state);
});

test("a registry dying mid-blob leaves no partial blob or layer", async () => {
  const { name, layer } = await pushFresh("cut/box");
  const proxy = await startCuttingProxy(reg.host, layer);
  cleanups.push(() => proxy.stop());
  const state = await dataState();
  const r = await docker(d, ["pull", name.replace(reg.host, proxy.host)]);
  assert.notEqual(r.code, 0, r.stdout);
  assert.deepEqual(await dataState(), state);
  // The same pull through the registry itself works afterwards.
  assert.match(await ok(["pull", name]), /Pull complete/);
});

test("a built layer is stored as a plain tar, pushed gzip-compressed (once), pulled back and saved as it is", async () => {
  const dir = await mkdtemp(join(tmpdir(), "wt-built-"));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  await writeFile(join(dir, "Dockerfile"), "FROM busybox\nCOPY data /data\nRUN echo ran > /ran\n");
  await writeFile(join(dir, "data"), `${"wharf ".repeat(50_000)}${Math.random()}`);
  const name = `${reg.host}/built/box:1`;
  await ok(["build", "-q", "-t", name, dir]);
  const id = (await inspect(name)).Id;
  const push = await ok(["push", name]);
  assert.match(push, /Pushed/);
  const accept = "application/vnd.oci.image.manifest.v1+json";
  const res = await fetch(`http://${reg.host}/v2/built/box/manifests/1`, { headers: { Accept: accept } });
  const m = (await res.json()) as { layers: { mediaType: string; digest: string; size: number }[] };
  assert.ok(m.layers.length >= 3, JSON.stringify(m));
  for (const l of m.layers) assert.equal(l.mediaType, "application/vnd.oci.image.layer.v1.tar+gzip");
  // The COPY layer (300 KB of one repeated word) went out compressed.
  assert.ok(m.layers[m.layers.length - 2].size < 100_000, JSON.stringify(m.layers));
  // A second push finds the kept gzip blobs: nothing to compress or send again, the same manifest digest.
  const digest = /digest: (sha256:[a-f0-9]{64})/.exec(push)?.[1];
  const again = await ok(["push", name]);
  assert.match(again, /Layer already exists/);
  assert.equal(/digest: (sha256:[a-f0-9]{64})/.exec(again)?.[1], digest);
  // docker save writes the layers as stored; load gives the same image.
  await ok(["save", "-o", join(dir, "built.tar"), name]);
  await ok(["rmi", name]);
  await ok(["load", "-i", join(dir, "built.tar")]);
  assert.equal((await inspect(name)).Id, id);
  await ok(["rmi", name]);
  assert.match(await ok(["pull", name]), /Pull complete|Already exists/);
  assert.equal((await inspect(name)).Id, id);
  assert.equal((await ok(["run", "--rm", name, "cat", "/ran"])).trim(), "ran");
  await ok(["rmi", name]);
});

test("a lower layer cut mid-blob fails the layers above it too (they unpack side by side) and leaves nothing", async () => {
  const dir = await mkdtemp(join(tmpdir(), "wt-cutlow-"));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  await writeFile(
    join(dir, "Dockerfile"),
    `FROM busybox\nRUN head -c 1000000 /dev/urandom > /low\nRUN head -c 1000000 /dev/urandom > /high && echo ${Math.random()}\n`,
  );
  const name = `${reg.host}/cutlow/box:1`;
  await ok(["build", "-q", "-t", name, dir]);
  await ok(["push", name]);
  const res = await fetch(`http://${reg.host}/v2/cutlow/box/manifests/1`, {
    headers: { Accept: "application/vnd.oci.image.manifest.v1+json" },
  });
  const m = (await res.json()) as { layers: { digest: string }[] };
  await ok(["rmi", name]);
  const proxy = await startCuttingProxy(reg.host, m.layers[m.layers.length - 2].digest);
  cleanups.push(() => proxy.stop());
  const state = await dataState();
  const r = await docker(d, ["pull", name.replace(reg.host, proxy.host)], { timeoutMs: 60_000 });
  assert.notEqual(r.code, 0, r.stdout);
  assert.deepEqual(await dataState(), state);
});
