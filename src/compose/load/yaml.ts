import { LineCounter, parseDocument, Scalar, type ScalarTag, visit } from "yaml";
import { LoadError } from "./errors.ts";

/**
 * A value carrying the Compose merge tags `!reset` (drop what earlier files set) or `!override` (replace
 * instead of merging). The tags must survive interpolation and validation until files are merged.
 */
export class Tagged {
  readonly tag: "reset" | "override";
  readonly value: unknown;

  constructor(tag: "reset" | "override", value: unknown) {
    this.tag = tag;
    this.value = value;
  }
}

/** `0644` is octal to go-yaml v3 (and so to docker compose), decimal to YAML 1.2: read it as compose does. */
const LEGACY_OCTAL: ScalarTag = {
  tag: "tag:yaml.org,2002:int",
  default: true,
  test: /^0[0-7]+$/,
  resolve: (s: string) => Number.parseInt(s, 8),
};

/** A mapping as parsed from YAML. */
export type Dict = Record<string, unknown>;

/** True for a plain mapping (not an array, not null, not a Tagged). */
export function isDict(v: unknown): v is Dict {
  return typeof v === "object" && v !== null && !Array.isArray(v) && !(v instanceof Tagged);
}

/**
 * Parses one Compose file: YAML 1.2 core schema (as go-yaml v3 reads it: `yes` stays a string), anchors,
 * aliases and `<<` merge keys, with `!reset`/`!override` kept as Tagged values.
 */
export function parseComposeYaml(text: string, file: string): Dict {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, {
    merge: true,
    uniqueKeys: true,
    prettyErrors: false,
    strict: false,
    lineCounter,
    customTags: (tags) => [LEGACY_OCTAL, ...(tags as ScalarTag[])],
  });
  if (doc.errors.length > 0) {
    const e = doc.errors[0];
    const pos = lineCounter.linePos(e.pos[0]);
    throw new LoadError(`yaml: line ${pos.line}, column ${pos.col}: ${e.message.split("\n")[0]}`, { file });
  }
  visit(doc, {
    Node(_key, node) {
      const tag = node.tag;
      if (tag !== "!reset" && tag !== "!override") return undefined;
      node.tag = undefined;
      const inner = node.toJS(doc, { maxAliasCount: 10000 });
      return new Scalar(new Tagged(tag === "!reset" ? "reset" : "override", inner));
    },
  });
  const js = doc.toJS({ maxAliasCount: 10000 }) as unknown;
  if (js === null || js === undefined) throw new LoadError("empty compose file", { file });
  if (!isDict(js)) throw new LoadError("Top-level object must be a mapping", { file });
  return js;
}

/** Replaces Tagged values by what a file alone means: `!reset` values and `!override` values as written. */
export function untag(v: unknown): unknown {
  if (v instanceof Tagged) return untag(v.value);
  if (Array.isArray(v)) return v.map(untag);
  if (isDict(v)) {
    const out: Dict = {};
    for (const [k, x] of Object.entries(v)) out[k] = untag(x);
    return out;
  }
  return v;
}
