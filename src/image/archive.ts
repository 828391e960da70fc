import { randomBytes } from "node:crypto";
import { createReadStream, createWriteStream } from "node:fs";
import { mkdir, open, readFile, rm, stat } from "node:fs/promises";
import { dirname, join, posix } from "node:path";
import { PassThrough, type Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import tar from "tar-stream";
import { type ContentStore, sha256Digest } from "../content/index.ts";
import { hostPlatform, selectPlatform } from "../distribution/index.ts";
import { InvalidParameterError, isErrno, WharfError } from "../errdefs/index.ts";
import { detectCompression, type LayerInfo, type LayerStore } from "../layer/index.ts";
import type { OciDescriptor, OciImageConfig, OciIndex } from "../oci/index.ts";
import { addTarEntry, tarPack } from "../util/tar/index.ts";
import { MediaTypes } from "./mediatypes.ts";
import type { ImageRecord, LayerRef } from "./records.ts";
import { familiarString, parseNamed, type Reference } from "./reference.ts";

/** What save and load need from the image service. */
export interface ArchiveHost {
  content: ContentStore;
  layers: LayerStore;
  tmpDir: string;
  manifestOf(rec: ImageRecord): Promise<{ bytes: Buffer; mediaType: string }>;
  commit(opts: { config: OciImageConfig; configBytes: Buffer; layers: LayerRef[] }): Promise<string>;
  setRef(ref: Reference, id: string): Promise<void>;
}

/** One image to save with the names it is saved under. */
export interface SaveItem {
  rec: ImageRecord;
  refs: Reference[];
}

/**
 * `docker save`: an archive both `docker load` (manifest.json) and OCI tools (index.json, oci-layout) read,
 * as Docker 25+ writes it. Blobs are written as stored (compressed layers included; load decompresses).
 */
export function saveImages(h: ArchiveHost, items: SaveItem[]): Readable {
  const pack = tarPack();
  const out = new PassThrough();
  const written = new Set<string>();
  const entry = (name: string, data: Buffer) =>
    addTarEntry(pack, { name, size: data.length, mode: 0o644, mtime: new Date(0) }, data);
  const blobFile = async (digest: string) => {
    const name = `blobs/sha256/${digest.slice(7)}`;
    if (written.has(name)) return name;
    written.add(name);
    const { size } = await h.content.info(digest);
    const src = await h.content.readStream(digest);
    await addTarEntry(pack, { name, size, mode: 0o644, mtime: new Date(0) }, src);
    return name;
  };
  (async () => {
    await entry("oci-layout", Buffer.from('{"imageLayoutVersion":"1.0.0"}'));
    const manifestJson: { Config: string; RepoTags: string[]; Layers: string[] }[] = [];
    const index: { mediaType: string; digest: string; size: number; annotations?: Record<string, string> }[] =
      [];
    for (const it of items) {
      const { bytes, mediaType } = await h.manifestOf(it.rec);
      const m = JSON.parse(bytes.toString("utf8")) as { layers: { digest: string }[] };
      const digest = sha256Digest(bytes);
      if (!written.has(`blobs/sha256/${digest.slice(7)}`)) {
        written.add(`blobs/sha256/${digest.slice(7)}`);
        await entry(`blobs/sha256/${digest.slice(7)}`, bytes);
      }
      const config = await blobFile(it.rec.id);
      const layers: string[] = [];
      for (const l of m.layers) layers.push(await blobFile(l.digest));
      const tags = it.refs.filter((r) => r.tag !== undefined).map(familiarString);
      manifestJson.push({ Config: config, RepoTags: tags, Layers: layers });
      const refs = it.refs.filter((r) => r.tag !== undefined);
      if (!refs.length) index.push({ mediaType, digest, size: bytes.length });
      for (const r of refs) {
        index.push({
          mediaType,
          digest,
          size: bytes.length,
          annotations: {
            "io.containerd.image.name": `${r.domain}/${r.path}:${r.tag}`,
            "org.opencontainers.image.ref.name": r.tag ?? "",
          },
        });
      }
    }
    await entry(
      "index.json",
      Buffer.from(
        JSON.stringify({
          schemaVersion: 2,
          mediaType: "application/vnd.oci.image.index.v1+json",
          manifests: index,
        }),
      ),
    );
    await entry("manifest.json", Buffer.from(JSON.stringify(manifestJson)));
    pack.finalize();
  })().catch((e: unknown) => pack.destroy(e as Error));
  pack.on("error", (e: Error) => out.destroy(e));
  pack.pipe(out);
  return out;
}

/** `docker load`: a docker-archive (manifest.json) or an OCI layout tar; returns the lines to report. */
export async function loadImages(h: ArchiveHost, src: Readable): Promise<string[]> {
  const dir = join(h.tmpDir, `load-${randomBytes(8).toString("hex")}`);
  await mkdir(dir, { recursive: true });
  try {
    await unpackArchive(src, dir).catch((e: unknown) => {
      // A stream that is no tar (garbled, truncated) is the client's input, not a daemon failure.
      if (!(e instanceof WharfError) && !isErrno(e))
        throw new InvalidParameterError(`Error processing tar file: ${(e as Error).message}`);
      throw e;
    });
    const read = (p: string) => readFile(safeJoin(dir, p));
    const hasFile = (p: string) =>
      stat(safeJoin(dir, p)).then(
        () => true,
        () => false,
      );
    const lines: string[] = [];
    type Item = { config: string; layers: string[]; tags: string[] };
    const items: Item[] = [];
    if (await hasFile("manifest.json")) {
      const mj = JSON.parse((await read("manifest.json")).toString("utf8")) as {
        Config: string;
        RepoTags?: string[] | null;
        Layers: string[];
      }[];
      for (const e of mj) items.push({ config: e.Config, layers: e.Layers, tags: e.RepoTags ?? [] });
    } else if (await hasFile("index.json")) {
      const blob = (d: string) => `blobs/${d.replace(":", "/")}`;
      const walk = async (entries: OciDescriptor[], name?: string): Promise<void> => {
        for (const e of entries) {
          const annName =
            e.annotations?.["io.containerd.image.name"] ??
            refName(e.annotations?.["org.opencontainers.image.ref.name"]);
          const m = JSON.parse((await read(blob(e.digest))).toString("utf8")) as {
            manifests?: OciDescriptor[];
            config?: { digest: string };
            layers?: { digest: string }[];
          };
          if (m.manifests) {
            await walk([selectPlatform(m.manifests, hostPlatform())], annName ?? name);
            continue;
          }
          if (!m.config) continue;
          const tag = annName ?? name;
          items.push({
            config: blob(m.config.digest),
            layers: (m.layers ?? []).map((l) => blob(l.digest)),
            tags: tag ? [tag] : [],
          });
        }
      };
      const idx = JSON.parse((await read("index.json")).toString("utf8")) as OciIndex;
      await walk(idx.manifests ?? []);
    } else {
      throw new InvalidParameterError("unrecognized image archive: neither manifest.json nor index.json");
    }
    for (const it of items) {
      const configBytes = await read(it.config);
      const config = JSON.parse(configBytes.toString("utf8")) as OciImageConfig;
      const diffIds = config.rootfs?.diff_ids ?? [];
      if (diffIds.length !== it.layers.length)
        throw new InvalidParameterError("invalid manifest, layers length mismatch");
      const held: LayerInfo[] = [];
      const refs: LayerRef[] = [];
      try {
        let parent: string | null = null;
        for (let i = 0; i < it.layers.length; i++) {
          const file = safeJoin(dir, it.layers[i]);
          const head = Buffer.alloc(6);
          const fh = await open(file, "r");
          try {
            await fh.read(head, 0, 6, 0);
          } finally {
            await fh.close();
          }
          const comp = detectCompression(head);
          const mediaType =
            comp === "gzip"
              ? MediaTypes.layerGzip
              : comp === "zstd"
                ? MediaTypes.layerZstd
                : "application/vnd.oci.image.layer.v1.tar";
          const blob = await h.content.ingest(createReadStream(file));
          const layer = await h.layers.applyTar(createReadStream(file), parent);
          held.push(layer);
          if (layer.diffId !== diffIds[i]) {
            throw new InvalidParameterError(
              `invalid diffID for layer ${i}: expected ${diffIds[i]}, got ${layer.diffId}`,
            );
          }
          refs.push({
            diffId: layer.diffId,
            chainId: layer.chainId,
            digest: blob.digest,
            mediaType,
            size: blob.size,
          });
          parent = layer.chainId;
        }
        const id = await h.commit({ config, configBytes, layers: refs });
        if (!it.tags.length) lines.push(`Loaded image ID: ${id}`);
        for (const t of it.tags) {
          const ref = parseNamed(t);
          await h.setRef(ref.tag === undefined && !ref.digest ? { ...ref, tag: "latest" } : ref, id);
          lines.push(`Loaded image: ${familiarString(ref)}`);
        }
      } finally {
        for (const l of held.reverse()) await h.layers.release(l.chainId).catch(() => undefined);
      }
    }
    return lines;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** `org.opencontainers.image.ref.name` holds a whole reference only when it has a repository part. */
function refName(s: string | undefined): string | undefined {
  return s && /[/:]/.test(s) && !/^[\w][\w.-]*$/.test(s) ? s : undefined;
}

function safeJoin(root: string, p: string): string {
  const clean = posix.normalize(`/${p}`).slice(1);
  if (!clean || clean.startsWith("..")) throw new InvalidParameterError(`invalid path in archive: ${p}`);
  return join(root, clean);
}

/** Writes the regular files of a tar under `dir` (the archive is small metadata plus blobs). */
async function unpackArchive(src: Readable, dir: string): Promise<void> {
  const ex = tar.extract();
  // tar-stream holds its write callback while an entry is being read, so a stream cut inside an entry never
  // reaches its end-of-data check: the entry waits for bytes that will not come. Knowing how many bytes
  // arrived and where the entry ends (its header's offset, the header, the data) tells a cut file at once.
  let received = 0;
  let srcEnded = false;
  let current: { end: number; stream: Readable } | undefined;
  let failCut: (e: Error) => void = () => undefined;
  const cut = new Promise<never>((_, reject) => {
    failCut = reject;
  });
  cut.catch(() => undefined);
  const cutShort = () => {
    if (!srcEnded || !current || received >= current.end) return;
    const err = new Error("unexpected EOF");
    current.stream.destroy(err);
    // The entry may be destroyed before anything pipes it (a pipeline then never settles), so say it twice.
    failCut(err);
  };
  const feeding = (async () => {
    for await (const c of src) {
      received += (c as Buffer).length;
      if (!ex.write(c as Buffer)) await new Promise<void>((r) => ex.once("drain", () => r()));
    }
    srcEnded = true;
    cutShort();
    ex.end(() => undefined);
  })();
  feeding.catch((e: unknown) => ex.destroy(e as Error));
  for await (const e of ex) {
    const stream = e as unknown as Readable & { offset?: number };
    current = stream.offset === undefined ? undefined : { end: stream.offset + 512 + e.header.size, stream };
    cutShort();
    if (e.header.type !== "file") {
      e.resume();
      continue;
    }
    const target = safeJoin(dir, e.header.name);
    await mkdir(dirname(target), { recursive: true });
    const out = createWriteStream(target);
    await Promise.race([pipeline(stream, out), cut]).catch((err: unknown) => {
      out.destroy();
      throw err;
    });
  }
  current = undefined;
  await feeding;
}
