import { LoadError } from "./errors.ts";
import { isDict, Tagged } from "./yaml.ts";

/** Looks a variable up; undefined when it is unset (an empty string is set). */
export type Lookup = (name: string) => string | undefined;

/** Options of interpolation. */
export interface InterpolateOptions {
  lookup: Lookup;
  /** Told about each unset variable used without a default (docker compose warns and uses ""). */
  onWarning?: (message: string) => void;
}

/** A `${...}` or `$` that cannot be read, or a `${VAR?err}` whose variable is missing. */
export class InterpolationError extends Error {
  /** True for a required variable that is missing, false for a malformed template. */
  readonly missing: boolean;

  constructor(message: string, missing: boolean) {
    super(message);
    this.name = "InterpolationError";
    this.missing = missing;
  }
}

const NAME_START = /[A-Za-z_]/;
const NAME_CHAR = /[A-Za-z0-9_]/;

/** Index of the `}` closing a `${` whose body starts at `from`, honouring nested `${...}` and `$$`; -1 if none. */
function closingBrace(s: string, from: number): number {
  let depth = 0;
  for (let j = from; j < s.length; j++) {
    const c = s[j];
    if (c === "$" && (s[j + 1] === "$" || s[j + 1] === "{")) {
      if (s[j + 1] === "{") depth++;
      j++;
    } else if (c === "}") {
      if (depth === 0) return j;
      depth--;
    }
  }
  return -1;
}

/**
 * Substitutes variables in one string as the Compose Specification says: `$VAR`, `${VAR}`, `${VAR:-d}`,
 * `${VAR-d}`, `${VAR:?err}`, `${VAR?err}`, `${VAR:+alt}`, `${VAR+alt}`, nested in defaults, `$$` for `$`.
 */
export function substitute(template: string, opts: InterpolateOptions): string {
  const invalid = () =>
    new InterpolationError(`invalid interpolation format: ${JSON.stringify(template)}`, false);
  const value = (name: string): string => {
    const v = opts.lookup(name);
    if (v === undefined) {
      opts.onWarning?.(`The "${name}" variable is not set. Defaulting to a blank string.`);
      return "";
    }
    return v;
  };
  const braced = (body: string): string => {
    let n = 0;
    if (!NAME_START.test(body[0] ?? "")) throw invalid();
    while (n < body.length && NAME_CHAR.test(body[n])) n++;
    const name = body.slice(0, n);
    const rest = body.slice(n);
    if (rest === "") return value(name);
    const colon = rest[0] === ":";
    const op = colon ? rest[1] : rest[0];
    const arg = rest.slice(colon ? 2 : 1);
    if (op !== "-" && op !== "?" && op !== "+") throw invalid();
    const v = opts.lookup(name);
    // With a colon an empty value counts as unset, as in the shell.
    const set = colon ? v !== undefined && v !== "" : v !== undefined;
    if (op === "-") return set ? (v as string) : substitute(arg, opts);
    if (op === "+") return set ? substitute(arg, opts) : "";
    if (set) return v as string;
    const why = substitute(arg, opts);
    throw new InterpolationError(
      `required variable ${name} is missing a value${why ? `: ${why}` : ""}`,
      true,
    );
  };
  let out = "";
  let i = 0;
  while (i < template.length) {
    const c = template[i];
    if (c !== "$") {
      const next = template.indexOf("$", i);
      const end = next < 0 ? template.length : next;
      out += template.slice(i, end);
      i = end;
      continue;
    }
    const n = template[i + 1];
    if (n === "$") {
      out += "$";
      i += 2;
    } else if (n === "{") {
      const end = closingBrace(template, i + 2);
      if (end < 0) throw invalid();
      out += braced(template.slice(i + 2, end));
      i = end + 1;
    } else if (n !== undefined && NAME_START.test(n)) {
      let j = i + 1;
      while (j < template.length && NAME_CHAR.test(template[j])) j++;
      out += value(template.slice(i + 1, j));
      i = j;
    } else {
      throw invalid();
    }
  }
  return out;
}

/** Appends a key or index to a display path: `services.web`, `services.web.ports[0]`. */
export function childPath(path: string, key: string | number): string {
  if (typeof key === "number") return `${path}[${key}]`;
  return path ? `${path}.${key}` : key;
}

/**
 * Interpolates every string value of a parsed file (keys are left alone, as the spec says). Errors name
 * the path, as docker compose's do.
 */
export function interpolateTree(value: unknown, opts: InterpolateOptions, path = ""): unknown {
  if (typeof value === "string") {
    try {
      return substitute(value, opts);
    } catch (err) {
      if (!(err instanceof InterpolationError)) throw err;
      if (err.missing) throw new LoadError(`error while interpolating ${path}: ${err.message}`);
      throw new LoadError(
        `invalid interpolation format for ${path}: ${JSON.stringify(value)}; you may need to escape any $ with another $`,
      );
    }
  }
  if (value instanceof Tagged) return new Tagged(value.tag, interpolateTree(value.value, opts, path));
  if (Array.isArray(value)) return value.map((v, i) => interpolateTree(v, opts, childPath(path, i)));
  if (isDict(value)) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = interpolateTree(v, opts, childPath(path, k));
    return out;
  }
  return value;
}
