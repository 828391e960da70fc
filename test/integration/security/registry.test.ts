/**
 * A hostile registry (issue 11): manifests and configs too large, not JSON, or lying about their sizes and
 * digests; layers longer than announced; a zstd layer that would unpack thousands of times its size. Each pull through the real docker CLI fails with a clear message,
 * the daemon stays up, and nothing of the pull stays in the data root (no image, blob or temp file).
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { readdir } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { zstdCompressSync } from "node:zlib";
import { api, docker, startDaemon, type TestDaemon } from "../../helpers/daemon.ts";

const sha = (b: Buffer | string) => `sha256:${createHash("sha256").update(b).digest("hex")}`;
const MANIFEST = "application/vnd.oci.image.manifest.v1+json";

/** What the fake registry answers for one repository. */
interface Repo {
  manifest: Buffer | (() => Buffer);
  blobs?: Record<string, Buffer | ((res: import("node:http").ServerResponse) => void)>;
}

const config = Buffer.from(
  JSON.stringify({
    architecture: "amd64",
    os: "linux",
    rootfs: { type: "layers", diff_ids: [] },
    config: {},
  }),
);
const manifestOf = (cfg: { digest: string; size: number }, layers: { digest: string; size: number }[] = []) =>
  Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: MANIFEST,
      config: { mediaType: "application/vnd.oci.image.config.v1+json", ...cfg },
      layers: layers.map((l) => ({ mediaType: "application/vnd.oci.image.layer.v1.tar", ...l })),
    }),
  );

const layerCfg = Buffer.from(
  JSON.stringify({
    architecture: "amd64",
    os: "linux",
    rootfs: { type: "layers", diff_ids: [`sha256:${"a".repeat(64)}`] },
    config: {},
  }),
);

const repos: Record<string, Repo> = {
  // 5 MiB of JSON: above the 4 MiB a manifest may have.
  big: { manifest: Buffer.from(`{"schemaVersion":2,"pad":"${"x".repeat(5 << 20)}"}`) },
  notjson: { manifest: Buffer.from("{this is not json") },
  notobject: { manifest: Buffer.from("[1,2,3]") },
  // A config announced at 1 GiB: refused before a byte of it is read.
  hugeconfig: { manifest: manifestOf({ digest: sha("x"), size: 1 << 30 }) },
  // A config announced at 10 bytes that streams on and on.
  longconfig: {
    manifest: manifestOf({ digest: sha("0123456789"), size: 10 }),
    blobs: {
      [sha("0123456789")]: (res) => {
        res.writeHead(200, { "Content-Type": "application/octet-stream" });
        const chunk = Buffer.alloc(64 << 10, 0x41);
        let n = 0;
        const pump = () => {
          while (n++ < 2000 && res.write(chunk));
          if (n < 2000) res.once("drain", pump);
          else res.end();
        };
        pump();
      },
    },
  },
  // A config whose bytes are not the ones its digest names.
  wrongconfig: {
    manifest: manifestOf({ digest: sha("something else"), size: config.length }),
    blobs: { [sha("something else")]: config },
  },
  baddigest: { manifest: manifestOf({ digest: "sha256:../../../../etc/passwd", size: 10 }) },
  badlayerdigest: {
    manifest: manifestOf({ digest: sha(layerCfg), size: layerCfg.length }, [
      { digest: "sha256:../../../etc/shadow", size: 10 },
    ]),
    blobs: { [sha(layerCfg)]: layerCfg },
  },
  // A layer announced at 100 bytes that sends a megabyte.
  longlayer: {
    manifest: manifestOf({ digest: sha(layerCfg), size: layerCfg.length }, [
      { digest: sha(Buffer.alloc(100)), size: 100 },
    ]),
    blobs: { [sha(layerCfg)]: layerCfg, [sha(Buffer.alloc(100))]: Buffer.alloc(1 << 20) },
  },
};

/** A zstd layer of one 64 MiB file of zeros: a few KiB that would unpack 10 000 times larger. */
function zstdBomb(): { blob: Buffer; cfg: Buffer } {
  const header = Buffer.alloc(512);
  header.write("zero", 0);
  header.write("0000644\0", 100);
  header.write("0000000\0", 108);
  header.write("0000000\0", 116);
  header.write(`${(64 << 20).toString(8).padStart(11, "0")}\0`, 124);
  header.write("00000000000\0", 136);
  header.write("        ", 148);
  header.write("0", 156);
  header.write("ustar\x0000", 257);
  let sum = 0;
  for (const b of header) sum += b;
  header.write(`${sum.toString(8).padStart(6, "0")}\0 `, 148);
  const tar = Buffer.concat([header, Buffer.alloc(64 << 20), Buffer.alloc(1024)]);
  const cfg = Buffer.from(
    JSON.stringify({
      architecture: "amd64",
      os: "linux",
      rootfs: { type: "layers", diff_ids: [sha(tar)] },
      config: {},
    }),
  );
  return { blob: zstdCompressSync(tar), cfg };
}
const bomb = zstdBomb();
repos.zstdbomb = {
  manifest: Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: MANIFEST,
      config: {
        mediaType: "application/vnd.oci.image.config.v1+json",
        digest: sha(bomb.cfg),
        size: bomb.cfg.length,
      },
      layers: [
        {
          mediaType: "application/vnd.oci.image.layer.v1.tar+zstd",
          digest: sha(bomb.blob),
          size: bomb.blob.length,
        },
      ],
    }),
  ),
  blobs: { [sha(bomb.cfg)]: bomb.cfg, [sha(bomb.blob)]: bomb.blob },
};

/** What each pull must say (a substring of the CLI's stderr). */
const expected: Record<string, RegExp> = {
  big: /manifest for .* is larger than the 4194304 bytes allowed/,
  notjson: /is not valid JSON/,
  notobject: /is not a JSON object/,
  hugeconfig: /config of 1073741824 bytes is larger than the 8388608 bytes allowed/,
  longconfig: /size mismatch: expected 10/,
  wrongconfig: /digest mismatch/,
  baddigest: /invalid digest/,
  badlayerdigest: /invalid digest/,
  longlayer: /size mismatch/,
  zstdbomb: /layer unpacks to more than \d+ bytes: refused as a decompression bomb/,
};

let d: TestDaemon;
let srv: Server;
let host: string;

before(async () => {
  srv = createServer((req, res) => {
    const url = req.url ?? "";
    if (url === "/v2/" || url === "/v2") {
      res.writeHead(200, { "Content-Type": "application/json" }).end("{}");
      return;
    }
    const m = /^\/v2\/evil\/([a-z]+)\/(manifests|blobs)\/(.+)$/.exec(url);
    const repo = m && repos[m[1]];
    if (!m || !repo) {
      res.writeHead(404, { "Content-Type": "application/json" }).end('{"errors":[{"code":"NAME_UNKNOWN"}]}');
      return;
    }
    if (m[2] === "manifests") {
      const body = typeof repo.manifest === "function" ? repo.manifest() : repo.manifest;
      res.writeHead(200, { "Content-Type": MANIFEST, "Content-Length": body.length });
      res.end(req.method === "HEAD" ? undefined : body);
      return;
    }
    const blob = repo.blobs?.[decodeURIComponent(m[3])];
    if (!blob) {
      res.writeHead(404, { "Content-Type": "application/json" }).end('{"errors":[{"code":"BLOB_UNKNOWN"}]}');
      return;
    }
    if (typeof blob === "function") blob(res);
    else res.writeHead(200, { "Content-Length": blob.length }).end(blob);
  });
  await new Promise<void>((r) => srv.listen(0, "127.0.0.1", r));
  host = `127.0.0.1:${(srv.address() as AddressInfo).port}`;
  d = await startDaemon({ name: "hostreg" });
});

after(async () => {
  await d?.stop();
  srv?.closeAllConnections();
  await new Promise((r) => srv?.close(r));
});

describe("pulls from a hostile registry", () => {
  for (const [name, want] of Object.entries(expected)) {
    test(`${name}: a clear error, the daemon up, nothing left behind`, async () => {
      const r = await docker(d, ["pull", `${host}/evil/${name}:v1`], { timeoutMs: 60_000 });
      assert.notEqual(r.code, 0, r.stdout);
      assert.match(r.stderr, want, r.stderr);
      assert.doesNotMatch(r.stderr, /500|Internal Server Error/, r.stderr);
      await api(d, "GET", "/_ping");
      assert.deepEqual(await api(d, "GET", "/images/json?all=1"), []);
      const blobs = await readdir(join(d.dataRoot, "content/blobs/sha256")).catch(() => []);
      assert.deepEqual(blobs, [], "blobs left behind");
      const tmp = await readdir(join(d.dataRoot, "tmp")).catch(() => []);
      assert.deepEqual(tmp, [], "temp files left behind");
    });
  }
});
