/**
 * Picks the one violation docker compose would print and words it as it does: the path
 * (`services.web.ports[0]`, `(root)` for the top) then what is wrong there.
 */
import type { Kind, Path, Violation } from "./check.ts";

/** The path as docker compose shows it: keys joined by dots, list indexes in brackets. */
export function showPath(path: Path): string {
  let out = "";
  for (const seg of path) {
    if (typeof seg === "number") out += `[${seg}]`;
    else out += out ? `.${seg}` : seg;
  }
  return out || "(root)";
}

function samePath(a: Path, b: Path): boolean {
  return a.length === b.length && a.every((s, i) => s === b[i]);
}

/** Of several alternatives the data failed, the one that got furthest in is the one the author meant. */
export function pick(found: readonly Violation[]): Violation | undefined {
  if (found.length === 0) return undefined;
  const deepest = Math.max(...found.map((v) => v.path.length));
  const atDepth = found.filter((v) => v.path.length === deepest);
  // A wrong type is the weakest evidence: another alternative's complaint about the content says more.
  return atDepth.find((v) => v.kind !== "type") ?? atDepth[0];
}

function kindName(k: Kind): string {
  return k === "integer" ? "number" : k;
}

function joinOr(items: readonly string[]): string {
  const u = [...new Set(items)];
  if (u.length <= 1) return u[0] ?? "";
  return `${u.slice(0, -1).join(", ")} or ${u[u.length - 1]}`;
}

/** The message for the violation `pick` chooses, or undefined when there is none. */
export function describe(found: readonly Violation[]): string | undefined {
  const v = pick(found);
  if (!v) return undefined;
  const at = showPath(v.path);
  switch (v.kind) {
    case "type": {
      // Every alternative that wanted another kind here: "must be a number, string or object".
      const kinds = found.flatMap((o) =>
        o.kind === "type" && samePath(o.path, v.path) ? o.want.map(kindName) : [],
      );
      return `${at} must be a ${joinOr(kinds)}`;
    }
    case "additional":
      return `${at} additional properties '${v.key}' not allowed`;
    case "required":
      return `${at} missing property '${v.key}'`;
    case "enum":
      return `${at} must be one of ${v.allowed.map((a) => JSON.stringify(a)).join(", ")}`;
    case "unique":
      return `${at} array items[${v.first},${v.second}] must be unique`;
    case "pattern":
      return `${at} does not match pattern ${JSON.stringify(v.pattern)}`;
    case "range":
      return `${at} must be ${v.bound === "min" ? ">=" : "<="} ${v.limit}`;
  }
}
