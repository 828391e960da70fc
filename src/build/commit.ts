/** `POST /commit`: a container's changes (its upper dir) as a new image on top of its image. */
import type { ContainerConfig, ContainerInspectResponse } from "../apitypes/index.ts";
import { applyChanges, familiarString, parseNamed, withDefaultTag, withTag } from "../image/index.ts";
import type { OciImageConfig, OciRunConfig } from "../oci/index.ts";
import { nowNs, rfc3339Nano } from "../util/index.ts";
import type { Builder } from "./builder.ts";

/** What commit needs besides the builder's image plumbing. */
export interface CommitDeps {
  builder: Builder;
  inspect(ref: string): ContainerInspectResponse;
  pause(ref: string): Promise<void>;
  unpause(ref: string): Promise<void>;
  /** Publishes the container's `commit` event. */
  announce(ref: string, action: "commit", attrs: Record<string, string>): void;
}

/** Options of a commit, as `POST /commit` takes them. */
export interface CommitOptions {
  container: string;
  repo?: string;
  tag?: string;
  comment?: string;
  author?: string;
  pause: boolean;
  changes: string[];
  config?: ContainerConfig;
}

/** The container config fields a commit keeps, as dockerd merges the container's whole config in. */
const RUN_FIELDS = [
  "Hostname",
  "Domainname",
  "User",
  "AttachStdin",
  "AttachStdout",
  "AttachStderr",
  "Tty",
  "OpenStdin",
  "StdinOnce",
  "ExposedPorts",
  "Env",
  "Entrypoint",
  "Cmd",
  "Volumes",
  "WorkingDir",
  "Labels",
  "StopSignal",
  "Healthcheck",
  "OnBuild",
  "Shell",
  "Image",
] as const;

/** Commits a container; returns the new image ID. */
export async function commitContainer(d: CommitDeps, o: CommitOptions): Promise<string> {
  const c = d.inspect(o.container);
  const images = d.builder.o.images;
  if (o.repo) images.checkRef(o.tag ? `${o.repo}:${o.tag}` : o.repo);
  // As dockerd, a failed pause (the container exited meanwhile) does not stop the commit.
  const paused =
    o.pause &&
    !!c.State?.Running &&
    !c.State?.Paused &&
    (await d.pause(c.Id ?? o.container).then(
      () => true,
      () => false,
    ));
  try {
    const base = await images.resolve(c.Image ?? "");
    const parentLayers = images.layersOf(base.id);
    const layer = await d.builder.layerFromUpper(
      { layers: parentLayers },
      d.builder.o.containers.upperDir(c.Id ?? ""),
    );
    const config: OciImageConfig = structuredClone(base.image);
    const run: OciRunConfig = {};
    const from = { ...(c.Config ?? {}), ...definedOnly(o.config ?? {}) } as Record<string, unknown>;
    for (const k of RUN_FIELDS)
      if (from[k] !== undefined && from[k] !== null) (run as Record<string, unknown>)[k] = from[k];
    config.config = applyChanges(run, o.changes);
    config.container = c.Id ?? "";
    config.container_config = structuredClone((c.Config ?? {}) as OciRunConfig);
    const created = rfc3339Nano(nowNs());
    config.created = created;
    if (o.author) config.author = o.author;
    else delete config.author;
    if (o.comment) config.comment = o.comment;
    else delete config.comment;
    config.history = [
      ...(config.history ?? []),
      {
        created,
        created_by: [c.Path ?? "", ...(c.Args ?? [])].join(" ").trim(),
        ...(o.author ? { author: o.author } : {}),
        ...(o.comment ? { comment: o.comment } : {}),
        ...(layer ? {} : { empty_layer: true }),
      },
    ];
    const layers = layer ? [...parentLayers, layer.ref] : parentLayers;
    config.rootfs = { type: "layers", diff_ids: layers.map((l) => l.diffId) };
    let id: string;
    try {
      id = await images.commitImage(config, layers, { parent: base.id });
    } finally {
      await layer?.release();
    }
    const imageRef = o.repo
      ? familiarString(o.tag ? withTag(parseNamed(o.repo), o.tag) : withDefaultTag(parseNamed(o.repo)))
      : "";
    if (o.repo) await images.tag(id, o.tag ? `${o.repo}:${o.tag}` : o.repo);
    // dockerd's commit event follows the tag's, with these three attributes always present.
    d.announce(c.Id ?? o.container, "commit", { comment: o.comment ?? "", imageID: id, imageRef });
    return id;
  } finally {
    if (paused) await d.unpause(c.Id ?? o.container).catch(() => undefined);
  }
}

function definedOnly(o: object): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(o).filter(
      ([, v]) => v !== undefined && v !== null && !(Array.isArray(v) && v.length === 0),
    ),
  );
}
