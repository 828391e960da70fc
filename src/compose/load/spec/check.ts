/**
 * Small typed checks the Compose file shapes are built from. A check never throws: it appends every
 * violation it sees, so that a union of shapes can report what each alternative found and the reporter
 * can pick the one the author most likely meant (see report.ts).
 */

/** The JSON kinds a YAML value can have once parsed. */
export type Kind = "string" | "number" | "integer" | "boolean" | "null" | "object" | "array";

/** Where a violation is: mapping keys as strings, list indexes as numbers. */
export type Path = readonly (string | number)[];

/** One thing wrong with the data, at one place. */
export type Violation =
  | { kind: "type"; path: Path; want: readonly Kind[] }
  | { kind: "additional"; path: Path; key: string }
  | { kind: "required"; path: Path; key: string }
  | { kind: "enum"; path: Path; allowed: readonly string[] }
  | { kind: "unique"; path: Path; first: number; second: number }
  | { kind: "pattern"; path: Path; pattern: string }
  | { kind: "range"; path: Path; bound: "min" | "max"; limit: number };

/** Checks one value found at `path`, appending what is wrong with it to `out`. */
export type Check = (value: unknown, path: Path, out: Violation[]) => void;

type Plain = Record<string, unknown>;

function isPlain(v: unknown): v is Plain {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** True when `v` has the kind; `integer` is a number without a fraction, as YAML `1.0` is. */
export function hasKind(v: unknown, k: Kind): boolean {
  switch (k) {
    case "null":
      return v === null;
    case "array":
      return Array.isArray(v);
    case "object":
      return isPlain(v);
    case "integer":
      return Number.isInteger(v);
    default:
      return typeof v === k;
  }
}

/** A value of one of the kinds, with nothing more said about its content. */
export function scalar(...want: Kind[]): Check {
  return (v, path, out) => {
    if (!want.some((k) => hasKind(v, k))) out.push({ kind: "type", path, want });
  };
}

/** A string. */
export const text = scalar("string");
/** A boolean, or a string that interpolation will turn into one (`"${DEBUG:-false}"`). */
export const flag = scalar("boolean", "string");
/** A whole number, or a string holding one (or a unit: `"2g"`). */
export const whole = scalar("integer", "string");
/** Any number, or a string holding one. */
export const numeric = scalar("number", "string");

/** A string that is one of `allowed`. */
export function oneOfText(allowed: readonly string[]): Check {
  return (v, path, out) => {
    if (typeof v !== "string") out.push({ kind: "type", path, want: ["string"] });
    else if (!allowed.includes(v)) out.push({ kind: "enum", path, allowed });
  };
}

/** A string in which `pattern` occurs somewhere (the pattern is not anchored). */
export function textMatching(pattern: string): Check {
  const re = new RegExp(pattern, "u");
  return (v, path, out) => {
    if (typeof v !== "string") out.push({ kind: "type", path, want: ["string"] });
    else if (!re.test(v)) out.push({ kind: "pattern", path, pattern });
  };
}

/** A whole number within [min, max] (either bound may be left open). */
export function wholeWithin(min: number | undefined, max: number | undefined): Check {
  return (v, path, out) => {
    if (!Number.isInteger(v)) return void out.push({ kind: "type", path, want: ["integer"] });
    const n = v as number;
    if (min !== undefined && n < min) out.push({ kind: "range", path, bound: "min", limit: min });
    if (max !== undefined && n > max) out.push({ kind: "range", path, bound: "max", limit: max });
  };
}

/** The first value that matches: fine when one alternative finds nothing wrong, else all they found. */
export function either(...alternatives: Check[]): Check {
  return (v, path, out) => {
    const found: Violation[] = [];
    for (const alt of alternatives) {
      const mine: Violation[] = [];
      alt(v, path, mine);
      if (mine.length === 0) return;
      found.push(...mine);
    }
    out.push(...found);
  };
}

/** Deep equality of two parsed YAML values. */
export function sameValue(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a)) {
    return Array.isArray(b) && a.length === b.length && a.every((x, i) => sameValue(x, b[i]));
  }
  if (isPlain(a) && isPlain(b)) {
    const ka = Object.keys(a);
    return ka.length === Object.keys(b).length && ka.every((k) => k in b && sameValue(a[k], b[k]));
  }
  return Number.isNaN(a) && Number.isNaN(b);
}

/** A list whose items all pass `item`; with `unique`, no item may appear twice. */
export function listOf(item: Check, opts: { unique?: boolean } = {}): Check {
  return (v, path, out) => {
    if (!Array.isArray(v)) return void out.push({ kind: "type", path, want: ["array"] });
    for (const [i, x] of v.entries()) item(x, [...path, i], out);
    if (!opts.unique) return;
    for (let second = 1; second < v.length; second++) {
      const first = v.findIndex((x, i) => i < second && sameValue(x, v[second]));
      if (first >= 0) return void out.push({ kind: "unique", path, first, second });
    }
  };
}

/** A list of strings, each once: what Compose calls a list of strings almost everywhere. */
export const strings = listOf(text, { unique: true });

/** Options of a mapping with a fixed set of fields. */
export interface FieldsOptions {
  /** Fields that must be present. */
  required?: readonly string[];
  /** Whether `x-*` extension keys may sit beside the fields (default true). */
  extensions?: boolean;
  /** Whether keys other than the fields are let through unchecked (default false). */
  open?: boolean;
  /** Whether the whole mapping may be left empty as `key:` (a YAML null). */
  nullable?: boolean;
}

/** A mapping of known fields, each checked by its own check; other keys are violations unless opened. */
export function fields(known: Record<string, Check>, opts: FieldsOptions = {}): Check {
  const extensions = opts.extensions ?? true;
  return (v, path, out) => {
    if (v === null && opts.nullable) return;
    if (!isPlain(v)) {
      return void out.push({ kind: "type", path, want: opts.nullable ? ["object", "null"] : ["object"] });
    }
    for (const key of opts.required ?? []) if (!(key in v)) out.push({ kind: "required", path, key });
    for (const [key, value] of Object.entries(v)) {
      const check = Object.hasOwn(known, key) ? known[key] : undefined;
      if (check) check(value, [...path, key], out);
      else if (!opts.open && !(extensions && key.startsWith("x-")))
        out.push({ kind: "additional", path, key });
    }
  };
}

/** Options of a mapping whose keys are names chosen by the author. */
export interface EntriesOptions {
  /** Which keys are entries (default: any non-empty key). */
  keys?: RegExp;
  /** Whether a key that is not an entry is a violation (default false: such keys go unchecked). */
  closed?: boolean;
}

/** Service, network, volume... names: letters, digits, `.`, `_` and `-`. */
export const NAME = /^[a-zA-Z0-9._-]+$/;

/** A mapping from names the author picks to values that each pass `value`. */
export function entries(value: Check, opts: EntriesOptions = {}): Check {
  const keys = opts.keys ?? /./;
  return (v, path, out) => {
    if (!isPlain(v)) return void out.push({ kind: "type", path, want: ["object"] });
    for (const [key, x] of Object.entries(v)) {
      if (keys.test(key)) value(x, [...path, key], out);
      else if (opts.closed) out.push({ kind: "additional", path, key });
    }
  };
}

/** Runs a check on a value and returns what it found. */
export function violationsOf(check: Check, value: unknown): Violation[] {
  const out: Violation[] = [];
  check(value, [], out);
  return out;
}
