import { createGzip } from "node:zlib";
import type { ContentStore } from "../content/index.ts";
import { type Credentials, RegistryClient, type RegistrySettings } from "../distribution/index.ts";
import { InvalidParameterError, NotFoundError } from "../errdefs/index.ts";
import { MediaTypes } from "./mediatypes.ts";
import { endpointFor } from "./pull.ts";
import type { ImageRecord, ImageRecords } from "./records.ts";
import { familiarName, fullName, parseNamed, type Reference } from "./reference.ts";
import { type ProgressSink, parallel, throttled } from "./transfer.ts";

/** What a push needs from the image service. */
export interface PushHost {
  content: ContentStore;
  settings: RegistrySettings;
  /** Tagged references of the repository `name` (all tags of it, or the one asked for). */
  tagsOf(name: Reference): { ref: Reference; rec: ImageRecord }[];
  /** Other repositories on the same registry whose images have this blob: mount candidates. */
  mountSources(domain: string, digest: string): string[];
  /** Manifest bytes of an image, made if the image has none stored. */
  manifestOf(rec: ImageRecord): Promise<{ bytes: Buffer; mediaType: string }>;
  /** The gzip blob of an uncompressed layer of `rec` (made and remembered on first use). */
  gzipOf(rec: ImageRecord, digest: string): Promise<{ digest: string; size: number }>;
  setRef(ref: Reference, id: string): Promise<void>;
}

/** Options of `POST /images/{name}/push`. */
export interface PushOptions {
  tag?: string;
  auth?: Credentials;
  progress: ProgressSink;
}

/** Pushes one tag, or every tag of the repository when none is given. */
export async function pushImage(h: PushHost, name: string, opts: PushOptions): Promise<void> {
  let ref = parseNamed(name);
  if (ref.digest) throw new InvalidParameterError("cannot push a digest reference");
  if (opts.tag) ref = { ...ref, tag: opts.tag };
  const targets = h.tagsOf(ref);
  if (!targets.length) {
    throw new NotFoundError(
      `An image does not exist locally with the tag: ${familiarName(ref)}${ref.tag ? `:${ref.tag}` : ""}`,
    );
  }
  const { base, repo } = endpointFor(ref, h.settings, name);
  const client = new RegistryClient({ base, repo, creds: opts.auth, push: true });
  opts.progress({ status: `The push refers to repository [${familiarName(ref)}]` });
  for (const { ref: tagRef, rec } of targets) {
    const { bytes, mediaType } = await pushedManifest(h, rec);
    const m = JSON.parse(bytes.toString("utf8")) as {
      config: { digest: string; size: number };
      layers: { digest: string; size: number; urls?: string[] }[];
    };
    const layers = m.layers.filter((l) => !l.urls?.length);
    for (const l of [...layers].reverse())
      opts.progress({ status: "Preparing", progressDetail: {}, id: l.digest.slice(7, 19) });
    await client.login();
    const pushBlob = async (d: { digest: string; size: number }, show: boolean) => {
      const id = d.digest.slice(7, 19);
      if ((await client.headBlob(d.digest)) !== undefined) {
        if (show) opts.progress({ status: "Layer already exists", progressDetail: {}, id });
        return;
      }
      let upload: true | string | undefined;
      for (const from of h.mountSources(ref.domain, d.digest).filter((r) => r !== repo)) {
        upload = await client.mountOrStart(d.digest, from);
        if (upload === true) {
          if (show)
            opts.progress({
              status: `Mounted from ${from}`,
              progressDetail: {},
              id,
            });
          return;
        }
        break;
      }
      upload ??= await client.mountOrStart(d.digest);
      if (upload === true) return;
      if (!(await h.content.has(d.digest))) {
        throw new NotFoundError(
          `blob ${d.digest} of ${fullName(ref)} is not stored locally; pull the image again`,
        );
      }
      const size = (await h.content.info(d.digest)).size;
      const report = throttled(opts.progress, id, "Pushing", size);
      const src = await h.content.readStream(d.digest);
      let sent = 0;
      if (show) {
        src.on("data", (c: Buffer) => {
          sent += c.length;
          report(sent);
        });
      }
      await client.putBlob(upload, d.digest, size, src);
      if (show) {
        report(size, true);
        opts.progress({ status: "Pushed", progressDetail: {}, id });
      }
    };
    await parallel(
      layers,
      5,
      (l) => pushBlob(l, true),
      (l) => opts.progress({ status: "Waiting", progressDetail: {}, id: l.digest.slice(7, 19) }),
    );
    await pushBlob(m.config, false);
    const tag = tagRef.tag ?? "latest";
    const digest = await client.putManifest(tag, bytes, mediaType);
    await h.setRef({ domain: tagRef.domain, path: tagRef.path, digest }, rec.id);
    opts.progress({ status: `${tag}: digest: ${digest} size: ${bytes.length}` });
    opts.progress({ progressDetail: {}, aux: { Tag: tag, Digest: digest, Size: bytes.length } });
  }
}

/**
 * The manifest a push sends: the image's own, with its uncompressed layers (built and committed layers are
 * stored so) replaced by their gzip blobs, as dockerd compresses its layers when it pushes them.
 */
async function pushedManifest(h: PushHost, rec: ImageRecord): Promise<{ bytes: Buffer; mediaType: string }> {
  const own = await h.manifestOf(rec);
  if (own.mediaType !== MediaTypes.manifest) return own;
  const m = JSON.parse(own.bytes.toString("utf8")) as {
    layers?: { mediaType?: string; digest: string; size: number; urls?: string[] }[];
  };
  if (!m.layers?.some((l) => l.mediaType === MediaTypes.layer && !l.urls?.length)) return own;
  const layers = [];
  for (const l of m.layers) {
    if (l.mediaType !== MediaTypes.layer || l.urls?.length) {
      layers.push(l);
      continue;
    }
    const gz = await h.gzipOf(rec, l.digest);
    layers.push({ ...l, mediaType: MediaTypes.layerGzip, digest: gz.digest, size: gz.size });
  }
  return { bytes: Buffer.from(JSON.stringify({ ...m, layers })), mediaType: own.mediaType };
}

/**
 * The gzip blob of an uncompressed layer of `rec`, made by its first push and kept on the record (blob GC then
 * keeps it too). zlib level 1, the blobs wharf's builds wrote before their layers were stored plain.
 */
export async function gzipOfLayer(
  h: {
    content: ContentStore;
    records: Pick<ImageRecords, "get" | "put">;
    locked(fn: () => Promise<void>): Promise<void>;
  },
  rec: ImageRecord,
  digest: string,
): Promise<{ digest: string; size: number }> {
  const known = rec.layers.find((l) => l.digest === digest)?.gzip;
  if (known && (await h.content.has(known.digest))) return known;
  const src = await h.content.readStream(digest);
  const gz = createGzip({ level: 1, chunkSize: 256 << 10 });
  src.once("error", (e) => gz.destroy(e));
  const blob = await h.content.ingest(src.pipe(gz));
  await h.locked(async () => {
    const cur = h.records.get(rec.id);
    if (!cur) return;
    await h.records.put({
      ...cur,
      layers: cur.layers.map((l) => (l.digest === digest ? { ...l, gzip: blob } : l)),
    });
  });
  return blob;
}
