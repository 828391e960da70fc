import { sprint, sprintf, sprintln } from "./printf.ts";
import { goString, goTypeName, isPlainObject, isTrue } from "./values.ts";

/** A template function: receives evaluated arguments (the piped value last). */
export type TemplateFunc = (...args: unknown[]) => unknown;

/** Thrown by functions; the executor adds the position (`error calling index: ...`). */
export class FuncError extends Error {}

function str(v: unknown): string {
  if (typeof v !== "string")
    throw new FuncError(`wrong type for value; expected string; got ${goTypeName(v)}`);
  return v;
}

function int(v: unknown): number {
  if (typeof v !== "number" || !Number.isInteger(v)) {
    throw new FuncError(`wrong type for value; expected int; got ${goTypeName(v)}`);
  }
  return v;
}

function arity(name: string, args: unknown[], n: number): void {
  if (args.length !== n)
    throw new FuncError(`wrong number of args for ${name}: want ${n} got ${args.length}`);
}

function basicKind(v: unknown): string {
  if (v === null || v === undefined) return "nil";
  if (typeof v === "number" || typeof v === "bigint") return "number";
  if (typeof v === "string" || typeof v === "boolean") return typeof v;
  return "complex";
}

function eq(a: unknown, b: unknown): boolean {
  const ka = basicKind(a);
  const kb = basicKind(b);
  if (ka === "nil" || kb === "nil") return ka === kb;
  if (ka === "complex" || kb === "complex") throw new FuncError("non-comparable type");
  if (ka !== kb) throw new FuncError("incompatible types for comparison");
  return a === b;
}

function lt(a: unknown, b: unknown): boolean {
  const ka = basicKind(a);
  const kb = basicKind(b);
  if (ka === "nil" || ka === "complex" || ka === "boolean")
    throw new FuncError("invalid type for comparison");
  if (ka !== kb) throw new FuncError("incompatible types for comparison");
  return (a as number | string) < (b as number | string);
}

function indexOne(item: unknown, key: unknown): unknown {
  if (item === null || item === undefined) throw new FuncError("index of untyped nil");
  if (Array.isArray(item) || typeof item === "string") {
    const i = int(key);
    const len = typeof item === "string" ? Buffer.byteLength(item) : item.length;
    if (i < 0 || i >= len) throw new FuncError(`index out of range: ${i}`);
    return typeof item === "string" ? Buffer.from(item)[i] : item[i];
  }
  if (isPlainObject(item)) {
    const k = str(key);
    if (Object.hasOwn(item, k)) return item[k];
    // A missing key gives the map's zero value: "" for Docker's map[string]string labels.
    const vals = Object.values(item);
    return vals.every((x) => typeof x === "string") ? "" : null;
  }
  throw new FuncError(`can't index item of type ${goTypeName(item)}`);
}

function length(v: unknown): number {
  if (typeof v === "string") return Buffer.byteLength(v);
  if (Array.isArray(v)) return v.length;
  if (isPlainObject(v)) return Object.keys(v).length;
  throw new FuncError(`len of type ${goTypeName(v)}`);
}

function title(s: string): string {
  return s.replace(/(^|[^\p{L}\p{N}_'])(\p{L})/gu, (_m, pre: string, c: string) => pre + c.toUpperCase());
}

function escapeHtml(s: string): string {
  return s.replace(/[<>&'"\0]/g, (c) =>
    c === "<"
      ? "&lt;"
      : c === ">"
        ? "&gt;"
        : c === "&"
          ? "&amp;"
          : c === "'"
            ? "&#39;"
            : c === '"'
              ? "&#34;"
              : "\uFFFD",
  );
}

/** Encodes like Go's json.Encoder with SetEscapeHTML(false), as Docker's `json` function does. */
export function goJson(v: unknown): string {
  const s = JSON.stringify(v === undefined ? null : v) ?? "null";
  // Formatter contexts marshal themselves with json.Marshal, which does escape HTML characters.
  const selfMarshalled =
    v !== null && typeof v === "object" && !isPlainObject(v) && !Array.isArray(v) && "toJSON" in v;
  return selfMarshalled ? escapeHtmlJson(s) : s;
}

/** Go's json HTML escaping of `<`, `>`, `&`, U+2028 and U+2029. */
export function escapeHtmlJson(s: string): string {
  return s.replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
}

/** Go's builtin template functions (and/or are handled lazily by the executor). */
export const builtinFuncs: Record<string, TemplateFunc> = {
  not: (...a) => {
    arity("not", a, 1);
    return !isTrue(a[0]);
  },
  len: (...a) => {
    arity("len", a, 1);
    return length(a[0]);
  },
  index: (item, ...keys) => keys.reduce((acc, k) => indexOne(acc, k), item),
  slice: (item, ...idx) => {
    if (typeof item !== "string" && !Array.isArray(item))
      throw new FuncError(`can't slice item of type ${goTypeName(item)}`);
    const len = item.length;
    const i = idx[0] === undefined ? 0 : int(idx[0]);
    const j = idx[1] === undefined ? len : int(idx[1]);
    if (i < 0 || j < i || j > len) throw new FuncError(`index out of range: ${j > len ? j : i}`);
    return item.slice(i, j);
  },
  print: (...a) => sprint(a),
  printf: (f, ...a) => sprintf(str(f), a),
  println: (...a) => sprintln(a),
  eq: (a, ...bs) => {
    if (bs.length === 0) throw new FuncError("missing argument for comparison");
    return bs.some((b) => eq(a, b));
  },
  ne: (...a) => {
    arity("ne", a, 2);
    return !eq(a[0], a[1]);
  },
  lt: (...a) => {
    arity("lt", a, 2);
    return lt(a[0], a[1]);
  },
  le: (...a) => {
    arity("le", a, 2);
    return lt(a[0], a[1]) || eq(a[0], a[1]);
  },
  gt: (...a) => {
    arity("gt", a, 2);
    return !lt(a[0], a[1]) && !eq(a[0], a[1]);
  },
  ge: (...a) => {
    arity("ge", a, 2);
    return !lt(a[0], a[1]);
  },
  html: (...a) => escapeHtml(sprint(a)),
  js: (...a) =>
    sprint(a).replace(
      /[\\'"<>&=\n\r\t]/g,
      (c) => `\\u${c.charCodeAt(0).toString(16).toUpperCase().padStart(4, "0")}`,
    ),
  urlquery: (...a) => encodeURIComponent(sprint(a)).replace(/%20/g, "+"),
  call: (fn, ...a) => {
    if (typeof fn !== "function") throw new FuncError(`non-function of type ${goTypeName(fn)}`);
    return (fn as TemplateFunc)(...a);
  },
};

/** Docker's template functions (cli/templates): json, split, join, title, lower, upper, pad, truncate. */
export const dockerFuncs: Record<string, TemplateFunc> = {
  json: (...a) => {
    arity("json", a, 1);
    return goJson(a[0]);
  },
  split: (...a) => {
    arity("split", a, 2);
    const s = str(a[0]);
    const sep = str(a[1]);
    return sep === "" ? [...s] : s.split(sep);
  },
  join: (...a) => {
    arity("join", a, 2);
    if (!Array.isArray(a[0]))
      throw new FuncError(`wrong type for value; expected []string; got ${goTypeName(a[0])}`);
    return a[0].map((x) => goString(x)).join(str(a[1]));
  },
  title: (...a) => {
    arity("title", a, 1);
    return title(str(a[0]));
  },
  lower: (...a) => {
    arity("lower", a, 1);
    return str(a[0]).toLowerCase();
  },
  upper: (...a) => {
    arity("upper", a, 1);
    return str(a[0]).toUpperCase();
  },
  pad: (...a) => {
    arity("pad", a, 3);
    const s = str(a[0]);
    return s === "" ? s : " ".repeat(int(a[1])) + s + " ".repeat(int(a[2]));
  },
  truncate: (...a) => {
    arity("truncate", a, 2);
    const s = str(a[0]);
    const n = int(a[1]);
    return Buffer.byteLength(s) < n ? s : Buffer.from(s).subarray(0, n).toString("utf8");
  },
};

/** Docker's functions for rendering table headers: each passes the header text through. */
export const headerFuncs: Record<string, TemplateFunc> = Object.fromEntries(
  Object.keys(dockerFuncs).map((k) => [k, (v: unknown) => v]),
);
