import type { ImageConfig, ImageInspect, ImageSummary } from "../apitypes/index.ts";
import { InvalidParameterError } from "../errdefs/index.ts";
import type { OciImageConfig, OciRunConfig } from "../oci/index.ts";
import { parseFilterTime, parseRfc3339Ns, ZERO_TIME } from "../util/index.ts";
import type { ImageRecord } from "./records.ts";
import { familiarString, type Reference } from "./reference.ts";

/** An image with everything the views need, gathered by the service. */
export interface ImageView {
  rec: ImageRecord;
  config: OciImageConfig;
  refs: Reference[];
  /** Uncompressed size of all layers. */
  size: number;
}

/** Created time in nanoseconds since the epoch (0 when the image does not say). */
export function createdNs(config: OciImageConfig): bigint {
  if (!config.created) return 0n;
  try {
    return parseRfc3339Ns(config.created);
  } catch {
    return 0n;
  }
}

/** Tags and digests split as RepoTags / RepoDigests show them. */
export function repoStrings(refs: Reference[]): { tags: string[]; digests: string[] } {
  const tags: string[] = [];
  const digests: string[] = [];
  for (const r of refs) {
    if (r.digest) digests.push(familiarString(r));
    else if (r.tag !== undefined) tags.push(familiarString(r));
  }
  return { tags, digests };
}

/** The image's run config in the full v1.47 `ImageConfig` shape (deprecated fields present and empty). */
export function toImageConfig(c: OciRunConfig | undefined): ImageConfig {
  const cfg = c ?? {};
  const out: ImageConfig = {
    Hostname: cfg.Hostname ?? "",
    Domainname: cfg.Domainname ?? "",
    User: cfg.User ?? "",
    AttachStdin: cfg.AttachStdin === true,
    AttachStdout: cfg.AttachStdout === true,
    AttachStderr: cfg.AttachStderr === true,
    Tty: cfg.Tty === true,
    OpenStdin: cfg.OpenStdin === true,
    StdinOnce: cfg.StdinOnce === true,
    Image: cfg.Image ?? "",
    WorkingDir: cfg.WorkingDir ?? "",
    OnBuild: cfg.OnBuild?.length ? [...cfg.OnBuild] : null,
  };
  if (cfg.Env?.length) out.Env = [...cfg.Env];
  if (cfg.Cmd) out.Cmd = [...cfg.Cmd];
  if (cfg.Entrypoint) out.Entrypoint = [...cfg.Entrypoint];
  if (cfg.Volumes && Object.keys(cfg.Volumes).length) out.Volumes = { ...cfg.Volumes };
  if (cfg.Labels && Object.keys(cfg.Labels).length) out.Labels = { ...cfg.Labels };
  // Docker omits these when unset; key order follows Docker's output for readable diffs against it.
  if (cfg.ExposedPorts && Object.keys(cfg.ExposedPorts).length) out.ExposedPorts = { ...cfg.ExposedPorts };
  if (cfg.Healthcheck) out.Healthcheck = { ...cfg.Healthcheck };
  if (cfg.ArgsEscaped) out.ArgsEscaped = true;
  if (cfg.StopSignal) out.StopSignal = cfg.StopSignal;
  if (cfg.Shell?.length) out.Shell = [...cfg.Shell];
  return out;
}

/** `GET /images/{name}/json`. */
export function toInspect(
  v: ImageView,
  graph: { upperDir: string; lowerDirs: string[]; layerDir: string },
): ImageInspect {
  const { tags, digests } = repoStrings(v.refs);
  const data: Record<string, string> = {};
  if (graph.lowerDirs.length) data.LowerDir = graph.lowerDirs.join(":");
  data.MergedDir = `${graph.layerDir}/merged`;
  data.UpperDir = graph.upperDir;
  data.WorkDir = `${graph.layerDir}/work`;
  const out: ImageInspect = {
    Id: v.rec.id,
    RepoTags: tags,
    RepoDigests: digests,
    Parent: v.rec.parent ?? "",
    Comment: v.config.comment ?? "",
    Created: v.config.created ?? null,
    DockerVersion: v.config.docker_version ?? "",
    Author: v.config.author ?? "",
    Config: toImageConfig(v.config.config),
    Container: v.config.container ?? "",
    ...(v.config.container_config ? { ContainerConfig: toImageConfig(v.config.container_config) } : {}),
    Architecture: v.config.architecture,
    Os: v.config.os,
    Size: v.size,
    GraphDriver: { Name: "overlay2", Data: data },
    RootFS: { Type: "layers", Layers: [...v.config.rootfs.diff_ids] },
    Metadata: { LastTagTime: v.rec.lastTagTime ?? ZERO_TIME },
  };
  if (v.config.variant) out.Variant = v.config.variant;
  if (v.config["os.version"]) out.OsVersion = v.config["os.version"];
  return out;
}

/** One `GET /images/json` entry. */
export function toSummary(v: ImageView, refs: Reference[]): ImageSummary {
  const { tags, digests } = repoStrings(refs);
  return {
    Id: v.rec.id,
    ParentId: v.rec.parent ?? "",
    RepoTags: tags,
    RepoDigests: digests,
    Created: Number(createdNs(v.config) / 1_000_000_000n),
    Size: v.size,
    SharedSize: -1,
    Labels: { ...(v.config.config?.Labels ?? {}) },
    Containers: -1,
  };
}

/** A filter timestamp (see util's parseFilterTime), with the image routes' error text. */
export function filterTimeNs(value: string, nowNs: bigint): bigint {
  const ns = parseFilterTime(value, nowNs);
  if (ns === undefined)
    throw new InvalidParameterError(`failed to parse value as time or duration: "${value}"`);
  return ns;
}

/** Docker's MatchKVList: every `key` or `key=value` filter must hold for the labels. */
export function matchLabels(filters: string[], labels: Record<string, string> | undefined): boolean {
  const l = labels ?? {};
  return filters.every((f) => {
    const i = f.indexOf("=");
    if (i < 0) return Object.hasOwn(l, f);
    const k = f.slice(0, i);
    return Object.hasOwn(l, k) && l[k] === f.slice(i + 1);
  });
}
