/**
 * A small typed validator for Engine API request bodies. A shape declares the Go type dockerd decodes a
 * field into (so a wrong JSON type fails with the message Go's encoding/json gives, which clients see from
 * dockerd) plus the range and value rules Docker checks before doing any work. Object shapes are keyed by the
 * fields of the TypeScript request type the route declares, so tsc refuses a shape naming a field the wire
 * type does not have. Failures are InvalidParameterErrors (400).
 */
import { InvalidParameterError } from "../errdefs/index.ts";

/** Where a value sits: the innermost Go struct's name and the JSON field path, as Go reports them. */
interface At {
  struct: string;
  path: string[];
}

/** A validator for one JSON value. */
export interface Shape {
  /** The Go type named in type errors (`bool`, `int64`, `[]string`, ...). */
  readonly goType: string;
  check(v: unknown, at: At): void;
}

/** An object shape's fields: only names of `T`, each with its shape. */
export type Fields<T> = { [K in keyof T]-?: Shape };

/** How encoding/json names a JSON value it could not store ("string", "number 1.5", "object", ...). */
function jsonKind(v: unknown, goType: string): string {
  if (typeof v === "string") return "string";
  if (typeof v === "boolean") return "bool";
  if (typeof v === "number") return /int|uint/.test(goType) ? `number ${v}` : "number";
  if (Array.isArray(v)) return "array";
  return "object";
}

function typeError(v: unknown, goType: string, at: At): never {
  const field = at.path.length ? ` into Go struct field ${at.struct}.${at.path.join(".")}` : " into Go value";
  throw new InvalidParameterError(`json: cannot unmarshal ${jsonKind(v, goType)}${field} of type ${goType}`);
}

/** A rule beyond the type: returns Docker's message when the value is refused. */
type Rule<V> = (v: V) => string | undefined;

function withRule<V>(
  goType: string,
  is: (v: unknown) => v is V,
  rule?: Rule<V>,
  kind?: (v: V) => boolean,
): Shape {
  return {
    goType,
    check(v, at) {
      if (v === null || v === undefined) return;
      if (!is(v) || (kind && !kind(v))) typeError(v, goType, at);
      const msg = rule?.(v);
      if (msg) throw new InvalidParameterError(msg);
    },
  };
}

const isBool = (v: unknown): v is boolean => typeof v === "boolean";
const isString = (v: unknown): v is string => typeof v === "string";
const isNumber = (v: unknown): v is number => typeof v === "number";

const INT_RANGES: Record<string, [number, number]> = {
  int: [Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER],
  uint: [0, Number.MAX_SAFE_INTEGER],
  int64: [Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER],
  int32: [-(2 ** 31), 2 ** 31 - 1],
  uint16: [0, 65535],
  uint32: [0, 2 ** 32 - 1],
  uint64: [0, Number.MAX_SAFE_INTEGER],
  uint8: [0, 255],
};

/** A JSON boolean (Go `bool`). */
export function bool(): Shape {
  return withRule("bool", isBool);
}

/** A JSON string (Go `string`), with an optional rule. */
export function str(rule?: Rule<string>): Shape {
  return withRule("string", isString, rule);
}

/** A whole number that fits the Go integer type, with an optional rule. */
export function int(goType: keyof typeof INT_RANGES, rule?: Rule<number>): Shape {
  const [lo, hi] = INT_RANGES[goType] ?? [0, 0];
  return withRule(goType, isNumber, rule, (n) => Number.isInteger(n) && n >= lo && n <= hi);
}

/** A JSON array of one element shape (Go `[]T`). */
export function array(of: Shape): Shape {
  const goType = `[]${of.goType}`;
  return {
    goType,
    check(v, at) {
      if (v === null || v === undefined) return;
      if (!Array.isArray(v)) typeError(v, goType, at);
      for (const e of v) of.check(e, at);
    },
  };
}

/**
 * Docker's strslice.StrSlice (`Cmd`, `Entrypoint`, `Shell`): a JSON array of strings or one string. A value
 * that is neither fails as Go's fallback decoding into `string` does.
 */
export function strSlice(): Shape {
  return {
    goType: "strslice.StrSlice",
    check(v, at) {
      if (v === null || v === undefined || typeof v === "string") return;
      if (Array.isArray(v) && v.every((e) => typeof e === "string" || e === null)) return;
      typeError(v, "string", at);
    },
  };
}

/** A fixed-length array (Go `[N]T`). */
export function tuple(n: number, of: Shape): Shape {
  const inner = array(of);
  return { goType: `[${n}]${of.goType}`, check: (v, at) => inner.check(v, at) };
}

/** A JSON object with arbitrary keys (Go `map[string]T`), keys optionally checked. */
export function map(of: Shape, keyRule?: Rule<string>): Shape {
  const goType = `map[string]${of.goType}`;
  return {
    goType,
    check(v, at) {
      if (v === null || v === undefined) return;
      if (typeof v !== "object" || Array.isArray(v)) typeError(v, goType, at);
      for (const [k, e] of Object.entries(v as Record<string, unknown>)) {
        const msg = keyRule?.(k);
        if (msg) throw new InvalidParameterError(msg);
        of.check(e, at);
      }
    },
  };
}

/** Any JSON value: fields whose content the service checks itself. */
export function any(goType = "interface {}"): Shape {
  return { goType, check: () => undefined };
}

/**
 * A Go struct named `name` with the given fields. As encoding/json does, keys match case-insensitively and
 * unknown keys are ignored; `rule` runs on the whole object once its fields passed.
 */
export function struct<T>(name: string, fields: Partial<Fields<T>>, rule?: Rule<Partial<T>>): Shape {
  const byLower = new Map<string, [string, Shape]>();
  for (const [k, s] of Object.entries(fields) as [string, Shape][]) byLower.set(k.toLowerCase(), [k, s]);
  const goType = name.includes(".") ? name : `container.${name}`;
  return {
    goType,
    check(v, at) {
      if (v === null || v === undefined) return;
      if (typeof v !== "object" || Array.isArray(v)) typeError(v, goType, at);
      const obj = v as Record<string, unknown>;
      for (const [k, e] of Object.entries(obj)) {
        const f = byLower.get(k.toLowerCase());
        if (!f) continue;
        f[1].check(e, { struct: name.split(".").pop() ?? name, path: [...at.path, f[0]] });
        // Go's encoding/json fills a field from a key in any case (docker-py sends CPURealtimePeriod): the
        // body takes the field's own spelling so the code reading it finds the value.
        if (k !== f[0] && !Object.hasOwn(obj, f[0])) {
          obj[f[0]] = e;
          delete obj[k];
        }
      }
      const msg = rule?.(v as Partial<T>);
      if (msg) throw new InvalidParameterError(msg);
    },
  };
}

/** Checks a decoded request body against the shape of its top-level struct; throws 400 with Docker's text. */
export function validateBody(shape: Shape, body: unknown, rootStruct: string): void {
  shape.check(body, { struct: rootStruct, path: [] });
}
