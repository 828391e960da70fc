/**
 * Validation of one Compose file against the Compose Specification's JSON schema (compose-spec.json, copied
 * from compose-spec/compose-spec), with one error in docker compose's words: the file, then the path
 * (`services.web.ports[0]`) and what is wrong there.
 */
import { Ajv, type ErrorObject, type ValidateFunction } from "ajv";
import schemaJson from "./compose-spec.json" with { type: "json" };
import { LoadError } from "./errors.ts";
import { type Dict, isDict } from "./yaml.ts";

let compiled: ValidateFunction | undefined;

function validator(): ValidateFunction {
  if (compiled) return compiled;
  const { $schema: _drop, ...schema } = schemaJson as Record<string, unknown>;
  const ajv = new Ajv({ allErrors: true, strict: false, allowUnionTypes: true });
  compiled = ajv.compile(schema);
  return compiled;
}

/** Turns a JSON pointer into docker compose's display path, using the data to tell indexes from keys. */
function displayPath(pointer: string, data: unknown): string {
  if (!pointer) return "";
  let out = "";
  let cur: unknown = data;
  for (const raw of pointer.slice(1).split("/")) {
    const seg = raw.replace(/~1/g, "/").replace(/~0/g, "~");
    if (Array.isArray(cur)) {
      out += `[${seg}]`;
      cur = cur[Number(seg)];
    } else {
      out += out ? `.${seg}` : seg;
      cur = isDict(cur) ? cur[seg] : undefined;
    }
  }
  return out;
}

function depth(e: ErrorObject): number {
  return e.instancePath ? e.instancePath.split("/").length : 0;
}

function typeName(t: string): string {
  return t === "integer" ? "number" : t;
}

function joinOr(items: string[]): string {
  const u = [...new Set(items)];
  if (u.length <= 1) return u[0] ?? "";
  return `${u.slice(0, -1).join(", ")} or ${u[u.length - 1]}`;
}

/** The one error to report: the deepest path (the branch the data meant), a non-type error before a type one. */
export function describeErrors(errors: ErrorObject[], data: unknown): string {
  const useful = errors.filter((e) => e.keyword !== "oneOf" && e.keyword !== "anyOf" && e.keyword !== "if");
  const list = useful.length > 0 ? useful : errors;
  const deepest = Math.max(...list.map(depth));
  const atDepth = list.filter((e) => depth(e) === deepest);
  const pick = atDepth.find((e) => e.keyword !== "type") ?? atDepth[0];
  const path = displayPath(pick.instancePath, data) || "(root)";
  const p = pick.params as Record<string, unknown>;
  switch (pick.keyword) {
    case "additionalProperties":
      return `${path} additional properties '${String(p.additionalProperty)}' not allowed`;
    case "type": {
      const types = atDepth
        .filter((e) => e.keyword === "type" && e.instancePath === pick.instancePath)
        .flatMap((e) => {
          const t = (e.params as { type: string | string[] }).type;
          return Array.isArray(t) ? t : [t];
        })
        .map(typeName);
      return `${path} must be a ${joinOr(types)}`;
    }
    case "required":
      return `${path} missing property '${String(p.missingProperty)}'`;
    case "enum":
      return `${path} must be one of ${(p.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(", ")}`;
    case "uniqueItems":
      return `${path} array items[${String(p.j)},${String(p.i)}] must be unique`;
    case "pattern":
      return `${path} does not match pattern ${JSON.stringify(p.pattern)}`;
    case "minimum":
    case "maximum":
      return `${path} must be ${pick.keyword === "minimum" ? ">=" : "<="} ${String(p.limit)}`;
    default:
      return `${path} ${pick.message ?? "is invalid"}`;
  }
}

/** Throws `validating <file>: <path> <problem>` when the file does not follow the schema. */
export function validateFile(data: Dict, file: string): void {
  const validate = validator();
  if (validate(data)) return;
  throw new LoadError(`validating ${file}: ${describeErrors(validate.errors ?? [], data)}`);
}
