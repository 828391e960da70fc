/**
 * `--cache-from`: the classic builder's second cache. A step hits when one of the given images' history continues
 * the stage's current history (every earlier entry equal, its diff IDs a prefix of the image's) with an entry whose
 * `created_by` is the step's. The step then takes that image's state at that point: the image itself when the entry
 * is its last, otherwise a new image of the stage's config, the entry appended to the history and the entry's layer
 * (none for an `empty_layer` entry) to the rootfs. After a restoring hit only the image that matched is searched on;
 * after a miss the sources are dropped for the rest of the stage, as Docker does (a later step cannot continue a
 * history that an earlier step left).
 */
import type { LayerRef } from "../image/index.ts";
import type { OciHistory, OciImageConfig } from "../oci/index.ts";

/** One `--cache-from` image. */
export interface CacheSource {
  id: string;
  config: OciImageConfig;
  layers: LayerRef[];
}

/** What a cache-from hit gives the step. */
export type CacheFromHit =
  | { kind: "image"; id: string }
  | { kind: "restore"; history: OciHistory; layer: LayerRef | undefined; parent: string | undefined };

/** The stage state a probe compares against. */
export interface ProbeState {
  imageId?: string;
  config: OciImageConfig;
  layers: LayerRef[];
}

/** The cache-from images of one build. */
export class CacheFrom {
  private sources: CacheSource[];

  constructor(sources: CacheSource[]) {
    this.sources = sources;
  }

  /** Whether any source is still searched. */
  get active(): boolean {
    return this.sources.length > 0;
  }

  /** Finds the source whose history continues `st` with `createdBy`; narrows or drops the sources as Docker does. */
  probe(st: ProbeState, createdBy: string): CacheFromHit | undefined {
    const history = st.config.history ?? [];
    const diffIds = st.layers.map((l) => l.diffId);
    for (const src of this.sources) {
      const th = src.config.history ?? [];
      if (!continues(src, history, diffIds)) continue;
      const next = th[history.length];
      if (!next || next.created_by !== createdBy) continue;
      if (th.length - 1 === history.length) return { kind: "image", id: src.id };
      const layer = next.empty_layer ? undefined : layerAt(src, history.length);
      if (!next.empty_layer && !layer) continue;
      this.sources = [src];
      return { kind: "restore", history: structuredClone(next), layer, parent: st.imageId };
    }
    this.sources = [];
    return undefined;
  }
}

/** Whether `src` starts with the given history and layers (an empty parent is continued by any image). */
function continues(src: CacheSource, history: OciHistory[], diffIds: string[]): boolean {
  const th = src.config.history ?? [];
  const td = src.config.rootfs?.diff_ids ?? [];
  if (th.length === 0) return false;
  if (history.length === 0 && diffIds.length === 0) return true;
  if (history.length >= th.length || diffIds.length > td.length) return false;
  for (let i = 0; i < history.length; i++) if (!sameHistory(history[i], th[i])) return false;
  for (let i = 0; i < diffIds.length; i++) if (diffIds[i] !== td[i]) return false;
  return true;
}

/** Field-by-field, an absent field equal to its zero value (Go's DeepEqual of the decoded structs). */
function sameHistory(a: OciHistory, b: OciHistory): boolean {
  return (
    (a.created ?? "") === (b.created ?? "") &&
    (a.created_by ?? "") === (b.created_by ?? "") &&
    (a.author ?? "") === (b.author ?? "") &&
    (a.comment ?? "") === (b.comment ?? "") &&
    !!a.empty_layer === !!b.empty_layer
  );
}

/** The layer that history entry `index` added: entries before it that were not empty count the layers. */
function layerAt(src: CacheSource, index: number): LayerRef | undefined {
  const th = src.config.history ?? [];
  let n = 0;
  for (let i = 0; i < index; i++) if (!th[i].empty_layer) n++;
  const layer = src.layers[n];
  const diffId = src.config.rootfs?.diff_ids?.[n];
  return layer && layer.diffId === diffId ? layer : undefined;
}
