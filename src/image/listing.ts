// Image listing (`GET /images/json` with Docker's filters) and history: read-only views over the store,
// kept apart from the service that writes it.
import type { ImageHistoryResponseItem, ImageSummary } from "../apitypes/index.ts";
import { InvalidParameterError } from "../errdefs/index.ts";
import type { OciHistory, OciImageConfig } from "../oci/index.ts";
import { nowNs } from "../util/index.ts";
import type { ImageRecord } from "./records.ts";
import { familiarMatch, familiarString, type Reference } from "./reference.ts";
import type { ListOptions } from "./types.ts";
import { createdNs, filterTimeNs, type ImageView, matchLabels, toSummary } from "./views.ts";

const LIST_FILTERS = new Set(["dangling", "label", "before", "since", "reference", "until"]);

/** What listing and history read of the image store. */
export interface ListingSource {
  records(): ImageRecord[];
  get(id: string): ImageRecord | undefined;
  refsOf(id: string): Reference[];
  find(nameOrId: string): ImageRecord;
  config(id: string): OciImageConfig;
  view(rec: ImageRecord): ImageView;
  layerSize(chainId: string): number;
}

/** `GET /images/json`: visible images, filtered as dockerd does, newest first. */
export async function listImages(src: ListingSource, opts: ListOptions): Promise<ImageSummary[]> {
  const filters = opts.filters ?? {};
  for (const k of Object.keys(filters)) {
    if (!LIST_FILTERS.has(k)) throw new InvalidParameterError(`invalid filter '${k}'`);
  }
  let dangling: boolean | undefined;
  if (filters.dangling?.length) {
    const v = filters.dangling.map((x) => x.toLowerCase());
    if (v.every((x) => x === "true" || x === "1")) dangling = true;
    else if (v.every((x) => x === "false" || x === "0")) dangling = false;
    else throw new InvalidParameterError(`invalid filter 'dangling=${filters.dangling.join(",")}'`);
  }
  const bound = (key: "before" | "since") => {
    const vals = filters[key] ?? [];
    return vals.length ? createdNs(src.config(src.find(vals[vals.length - 1]).id)) : undefined;
  };
  const before = bound("before");
  const since = bound("since");
  const until = filters.until?.length ? filterTimeNs(filters.until[0], nowNs()) : undefined;
  const labels = filters.label ?? [];
  const patterns = filters.reference ?? [];

  const visible = src.records().filter((r) => !r.ghost);
  const parents = new Set(visible.map((r) => r.parent).filter((p): p is string => !!p));
  const out: { ns: bigint; summary: ImageSummary }[] = [];
  for (const rec of visible) {
    const v = src.view(rec);
    const created = createdNs(v.config);
    if (before !== undefined && created >= before) continue;
    if (since !== undefined && created <= since) continue;
    if (until !== undefined && created > until) continue;
    if (labels.length && !matchLabels(labels, v.config.config?.Labels)) continue;
    let refs = v.refs;
    if (patterns.length) refs = refs.filter((r) => patterns.some((p) => familiarMatch(p, r)));
    const named = refs.some((r) => !r.digest && r.tag !== undefined);
    if (dangling === true && (named || v.refs.length > 0)) continue;
    if (refs.length === 0) {
      // Nameless: an intermediate build image (hidden unless all), dangling, or filtered out by reference.
      if ((!opts.all && parents.has(rec.id)) || dangling === false || patterns.length) continue;
    }
    out.push({ ns: created, summary: toSummary(v, refs) });
  }
  // Newest first, by the full-precision time: images made within one second keep their order.
  return out.sort((a, b) => (a.ns === b.ns ? 0 : a.ns < b.ns ? 1 : -1)).map((x) => x.summary);
}

/**
 * The image part of `GET /system/df`: the images `docker images` lists, each with SharedSize (its layers that
 * another listed image also has), and LayersSize, every stored layer counted once, intermediate ones too.
 */
export async function imageDiskUsage(
  src: ListingSource,
): Promise<{ LayersSize: number; Images: ImageSummary[] }> {
  const images = await listImages(src, { all: false });
  const chains = (id: string) => new Set((src.get(id)?.layers ?? []).map((l) => l.chainId));
  const refs = new Map<string, number>();
  for (const i of images) for (const c of chains(i.Id)) refs.set(c, (refs.get(c) ?? 0) + 1);
  for (const i of images) {
    let shared = 0;
    for (const c of chains(i.Id)) if ((refs.get(c) ?? 0) > 1) shared += src.layerSize(c);
    i.SharedSize = shared;
  }
  const all = new Set(src.records().flatMap((r) => r.layers.map((l) => l.chainId)));
  let layersSize = 0;
  for (const c of all) layersSize += src.layerSize(c);
  return { LayersSize: layersSize, Images: images };
}

/** `GET /images/{name}/history`: newest entry first; entries that start a known image carry its ID and tags. */
export function imageHistory(src: ListingSource, rec: ImageRecord): ImageHistoryResponseItem[] {
  const config = src.config(rec.id);
  const items: ImageHistoryResponseItem[] = [];
  const history: OciHistory[] = config.history?.length
    ? config.history
    : config.rootfs.diff_ids.map(() => ({ created: config.created }));
  let layerIndex = 0;
  for (const h of history) {
    let size = 0;
    if (!h.empty_layer) {
      const l = rec.layers[layerIndex++];
      size = l ? src.layerSize(l.chainId) : 0;
    }
    items.unshift({
      Id: "<missing>",
      Created: h.created ? Number(createdNs({ ...config, created: h.created }) / 1_000_000_000n) : 0,
      CreatedBy: h.created_by ?? "",
      Tags: [],
      Size: size,
      Comment: h.comment ?? "",
    });
  }
  // Entries that start a locally known image carry its ID and tags, walking up the parent chain.
  let cur: ImageRecord | undefined = rec;
  for (const item of items) {
    if (!cur) break;
    item.Id = cur.id;
    const tags = src
      .refsOf(cur.id)
      .filter((r) => !r.digest)
      .map(familiarString);
    item.Tags = tags;
    const parent: ImageRecord | undefined = cur.parent ? src.get(cur.parent) : undefined;
    cur = parent && !parent.ghost ? parent : undefined;
  }
  return items;
}
