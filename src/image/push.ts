import type { ContentStore } from "../content/index.ts";
import { type Credentials, RegistryClient, type RegistrySettings } from "../distribution/index.ts";
import { InvalidParameterError, NotFoundError } from "../errdefs/index.ts";
import { endpointFor } from "./pull.ts";
import type { ImageRecord } from "./records.ts";
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
    const { bytes, mediaType } = await h.manifestOf(rec);
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
