/**
 * `GET /distribution/{name}/json` (docker-py's `images.get_registry_data`): the descriptor of the manifest a
 * tag or digest names in `wharf registry serve`, and its platforms (an image manifest's config, or each entry
 * of an index); dockerd's answers for an image ID, an unknown tag and a name without a registry host.
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { after, before, describe, test } from "node:test";
import type { DistributionInspect } from "../../../src/apitypes/index.ts";
import { api, docker, exec, importBusybox, startDaemon, type TestDaemon } from "../../helpers/daemon.ts";
import { startWharfRegistry, type TestRegistry } from "../distribution/registries.ts";

let d: TestDaemon;
let reg: TestRegistry;
let digest: string;

before(async () => {
  reg = await startWharfRegistry();
  d = await startDaemon({ name: "regdata" });
  await importBusybox(d);
  const tag = await docker(d, ["tag", "busybox:latest", `${reg.host}/box:1`]);
  assert.equal(tag.code, 0, tag.stderr);
  const push = await docker(d, ["push", `${reg.host}/box:1`]);
  assert.equal(push.code, 0, push.stderr);
  digest = /digest: (sha256:[a-f0-9]{64})/.exec(push.stdout)?.[1] ?? "";
  assert.ok(digest, push.stdout);
});
after(async () => {
  await d?.stop();
  await reg?.stop();
});

async function manifestOf(ref: string): Promise<{ bytes: Buffer; type: string }> {
  const res = await fetch(`http://${reg.host}/v2/box/manifests/${ref}`, {
    headers: {
      Accept:
        "application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json",
    },
  });
  assert.equal(res.status, 200);
  return { bytes: Buffer.from(await res.arrayBuffer()), type: res.headers.get("content-type") ?? "" };
}

describe("GET /distribution/{name}/json", () => {
  test("a tag and a digest: the manifest's descriptor and the config's platform", async () => {
    const m = await manifestOf("1");
    const byTag = await api<DistributionInspect>(d, "GET", `/distribution/${reg.host}/box:1/json`);
    assert.deepEqual(byTag, {
      Descriptor: { mediaType: m.type, digest, size: m.bytes.length },
      Platforms: [{ architecture: "amd64", os: "linux" }],
    });
    const byDigest = await api<DistributionInspect>(
      d,
      "GET",
      `/v1.47/distribution/${reg.host}/box@${digest}/json`,
    );
    assert.deepEqual(byDigest, byTag);
  });

  test("an index: one platform per entry, the index's own descriptor", async () => {
    const m = await manifestOf("1");
    const index = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: "application/vnd.oci.image.index.v1+json",
        manifests: [
          {
            mediaType: m.type,
            digest,
            size: m.bytes.length,
            platform: { architecture: "amd64", os: "linux" },
          },
          {
            mediaType: m.type,
            digest,
            size: m.bytes.length,
            platform: { architecture: "arm64", os: "linux", variant: "v8" },
          },
        ],
      }),
    );
    const put = await fetch(`http://${reg.host}/v2/box/manifests/multi`, {
      method: "PUT",
      headers: { "Content-Type": "application/vnd.oci.image.index.v1+json" },
      body: index,
    });
    assert.equal(put.status, 201, await put.text());
    const got = await api<DistributionInspect>(d, "GET", `/distribution/${reg.host}/box:multi/json`);
    assert.deepEqual(got, {
      Descriptor: {
        mediaType: "application/vnd.oci.image.index.v1+json",
        digest: `sha256:${createHash("sha256").update(index).digest("hex")}`,
        size: index.length,
      },
      Platforms: [
        { architecture: "amd64", os: "linux" },
        { architecture: "arm64", os: "linux", variant: "v8" },
      ],
    });
  });

  test("an image ID, an unknown tag, no registry host, a malformed name", async () => {
    const status = async (path: string) =>
      api(d, "GET", path).then(
        () => ({ status: 200, message: "" }),
        (e: Error & { status: number }) => ({ status: e.status, message: e.message }),
      );
    const id = await status(`/distribution/${"a".repeat(64)}/json`);
    assert.deepEqual(id, { status: 500, message: "no manifest found for full image ID" });
    const unknown = await status(`/distribution/${reg.host}/box:nope/json`);
    assert.equal(unknown.status, 404);
    assert.match(unknown.message, /manifest unknown/);
    const hub = await status("/distribution/busybox/json");
    assert.equal(hub.status, 400);
    assert.match(hub.message, /wharf has no default registry/);
    const bad = await status(`/distribution/${reg.host}/Box:1/json`);
    assert.equal(bad.status, 400);
  });

  test("docker-py's get_registry_data", async () => {
    const r = await exec("python3", [
      "-c",
      [
        "import docker, json",
        `c = docker.DockerClient(base_url=${JSON.stringify(d.host)}, timeout=60)`,
        `rd = c.images.get_registry_data(${JSON.stringify(`${reg.host}/box:1`)})`,
        `mu = c.images.get_registry_data(${JSON.stringify(`${reg.host}/box:multi`)})`,
        'print(json.dumps({"id": rd.id, "amd64": rd.has_platform("linux/amd64"), "arm": rd.has_platform("linux/arm64"), "multiArm": mu.has_platform("linux/arm64/v8")}))',
      ].join("\n"),
    ]);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(JSON.parse(r.stdout), { id: digest, amd64: true, arm: false, multiArm: true });
  });
});
