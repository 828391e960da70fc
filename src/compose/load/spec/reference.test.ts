/**
 * Our validators against the Compose Specification's own JSON schema, read at test time from the shared
 * reference folder beside the checkout (skipped where there is none): over the corpus and over variants of
 * its valid files with one value changed, both must give the same verdict and the same path of the error.
 */
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { it, describe as suite } from "node:test";
import { fileURLToPath } from "node:url";
import { Ajv, type ErrorObject } from "ajv";
import { parseComposeYaml, untag } from "../yaml.ts";
import { corpus } from "./corpus.ts";
import { composeFile, pick, showPath, violationsOf } from "./index.ts";

const repo = join(dirname(fileURLToPath(import.meta.url)), "../../../..");
// ../shared beside the checkout; a worktree under <dir>/wt/<name> finds the one beside <dir>.
const reference = [join(repo, "../shared"), join(repo, "../../shared")]
  .map((d) => join(d, "reference/compose-spec.json"))
  .find((f) => existsSync(f));

type Judge = (data: unknown) => string | undefined;

/** The reference's verdict: undefined when valid, else the path of the error docker compose would pick. */
function referenceJudge(file: string): Judge {
  const { $schema: _draft, ...schema } = JSON.parse(readFileSync(file, "utf8")) as Record<string, unknown>;
  const validate = new Ajv({ allErrors: true, strict: false, allowUnionTypes: true }).compile(schema);
  return (data) => {
    if (validate(data)) return undefined;
    const errors = (validate.errors ?? []).filter((e) => !["oneOf", "anyOf", "if"].includes(e.keyword));
    const depth = (e: ErrorObject) => (e.instancePath ? e.instancePath.split("/").length : 0);
    const deepest = Math.max(...errors.map(depth));
    const atDepth = errors.filter((e) => depth(e) === deepest);
    const chosen = atDepth.find((e) => e.keyword !== "type") ?? atDepth[0];
    return showPath(pointerPath(chosen.instancePath, data));
  };
}

/** A JSON pointer as path segments, indexes where the data holds a list. */
function pointerPath(pointer: string, data: unknown): (string | number)[] {
  const out: (string | number)[] = [];
  let cur = data;
  for (const raw of pointer ? pointer.slice(1).split("/") : []) {
    const key = raw.replace(/~1/g, "/").replace(/~0/g, "~");
    const index = Array.isArray(cur) ? Number(key) : undefined;
    out.push(index ?? key);
    cur = index !== undefined ? (cur as unknown[])[index] : (cur as Record<string, unknown>)[key];
  }
  return out;
}

const ours: Judge = (data) => {
  const v = pick(violationsOf(composeFile, data));
  return v ? showPath(v.path) : undefined;
};

/** Values of every kind, to put in place of one value of a valid file. */
const REPLACEMENTS: unknown[] = [
  null,
  true,
  0,
  -1,
  1.5,
  101,
  "",
  "text",
  [],
  ["a", "a"],
  [1],
  [{}],
  {},
  { bogus: 1 },
  { "x-extra": 1 },
];

/** Every file that differs from `data` in one place: a value replaced, a key added, an item repeated. */
function* variants(data: unknown): Generator<unknown> {
  if (Array.isArray(data)) {
    if (data.length > 0) yield [...data, data[0]];
    for (const [i, item] of data.entries()) {
      for (const v of variants(item)) yield data.map((x, j) => (j === i ? v : x));
    }
  } else if (typeof data === "object" && data !== null) {
    const obj = data as Record<string, unknown>;
    yield { ...obj, bogus: 1 };
    yield { ...obj, "x-extra": 1 };
    for (const key of Object.keys(obj)) {
      const { [key]: _drop, ...without } = obj;
      yield without;
      for (const v of variants(obj[key])) yield { ...obj, [key]: v };
    }
  }
  yield* REPLACEMENTS;
}

suite("compose file validators agree with the Compose Specification schema", { skip: !reference }, () => {
  const theirs = reference ? referenceJudge(reference) : ours;
  const load = (yaml: string) => untag(parseComposeYaml(yaml, "compose.yaml"));

  it("on every file of the corpus", () => {
    const disagree: string[] = [];
    for (const c of corpus) {
      const data = load(c.yaml);
      const [a, b] = [ours(data), theirs(data)];
      if (a !== b) disagree.push(`${c.name}: ours ${a ?? "valid"}, the schema's ${b ?? "valid"}`);
    }
    assert.deepEqual(disagree, []);
  });

  it("on each valid file with one value changed, one key added or removed", () => {
    const disagree: string[] = [];
    let compared = 0;
    for (const c of corpus.filter((x) => !x.error)) {
      for (const data of variants(load(c.yaml))) {
        compared++;
        const [a, b] = [ours(data), theirs(data)];
        if (a !== b)
          disagree.push(
            `${c.name} as ${JSON.stringify(data)}: ours ${a ?? "valid"}, the schema's ${b ?? "valid"}`,
          );
      }
    }
    assert.ok(compared > 5000, `compared ${compared} files`);
    assert.deepEqual(disagree.slice(0, 20), []);
  });
});
