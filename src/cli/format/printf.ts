import { formatFloat, goString, goTypeName } from "./values.ts";

function pad(s: string, width: number | undefined, flags: string): string {
  if (width === undefined || [...s].length >= width) return s;
  const n = width - [...s].length;
  if (flags.includes("-")) return s + " ".repeat(n);
  if (flags.includes("0") && /^[+-]?[0-9a-fA-Fx.]+$/.test(s)) {
    const sign = /^[+-]/.test(s) ? s[0] : "";
    return sign + "0".repeat(n) + s.slice(sign.length);
  }
  return " ".repeat(n) + s;
}

function quote(s: string): string {
  // strconv.Quote and JSON agree for printable ASCII, which is what templates print.
  return JSON.stringify(s).replace(/\\u007f/g, "\\x7f");
}

function bad(verb: string, v: unknown): string {
  return `%!${verb}(${goTypeName(v)}=${goString(v)})`;
}

function signed(s: string, n: number, flags: string): string {
  if (n >= 0 && flags.includes("+")) return `+${s}`;
  if (n >= 0 && flags.includes(" ")) return ` ${s}`;
  return s;
}

function formatOne(verb: string, v: unknown, flags: string, prec: number | undefined): string {
  switch (verb) {
    case "v":
      if (flags.includes("#") && typeof v === "string") return quote(v);
      return goString(v, false);
    case "s":
      if (typeof v === "number" || typeof v === "boolean") return bad(verb, v);
      return prec === undefined ? goString(v) : [...goString(v)].slice(0, prec).join("");
    case "q":
      if (typeof v === "string") return quote(v);
      if (typeof v === "number" && Number.isInteger(v)) return `'${String.fromCodePoint(v)}'`;
      return bad(verb, v);
    case "d":
      if (typeof v === "number" && Number.isInteger(v)) return signed(BigInt(v).toString(), v, flags);
      if (Array.isArray(v)) return `[${v.map((x) => formatOne(verb, x, flags, prec)).join(" ")}]`;
      return bad(verb, v);
    case "t":
      return typeof v === "boolean" ? String(v) : bad(verb, v);
    case "x":
    case "X": {
      let s: string;
      if (typeof v === "number" && Number.isInteger(v)) s = (v < 0 ? "-" : "") + Math.abs(v).toString(16);
      else if (typeof v === "string") s = Buffer.from(v).toString("hex");
      else return bad(verb, v);
      if (flags.includes("#")) s = `0x${s}`;
      return verb === "X" ? s.toUpperCase() : s;
    }
    case "o":
      return typeof v === "number" && Number.isInteger(v) ? v.toString(8) : bad(verb, v);
    case "b":
      return typeof v === "number" && Number.isInteger(v) ? v.toString(2) : bad(verb, v);
    case "c":
      return typeof v === "number" ? String.fromCodePoint(v) : bad(verb, v);
    case "f":
    case "F":
      return typeof v === "number" ? signed(v.toFixed(prec ?? 6), v, flags) : bad(verb, v);
    case "e":
    case "E": {
      if (typeof v !== "number") return bad(verb, v);
      const s = v.toExponential(prec ?? 6).replace(/e([+-])(\d)$/, "e$10$2");
      return signed(verb === "E" ? s.toUpperCase() : s, v, flags);
    }
    case "g":
    case "G": {
      if (typeof v !== "number") return bad(verb, v);
      const s = prec === undefined ? formatFloat(v) : Number(v.toPrecision(prec)).toString();
      return signed(verb === "G" ? s.toUpperCase() : s, v, flags);
    }
    default:
      return `%!${verb}(${goTypeName(v)}=${goString(v)})`;
  }
}

/** Go's fmt.Sprintf for the verbs templates use: v s q d t x X o b c f e g, flags `-+# 0`, width, precision. */
export function sprintf(format: string, args: unknown[]): string {
  let out = "";
  let ai = 0;
  const re = /%([-+# 0]*)(\*|\d+)?(?:\.(\*|\d*))?([a-zA-Z%])/g;
  let last = 0;
  for (let m = re.exec(format); m; m = re.exec(format)) {
    out += format.slice(last, m.index);
    last = re.lastIndex;
    const [, flags, w, p, verb] = m;
    if (verb === "%") {
      out += "%";
      continue;
    }
    let width: number | undefined;
    if (w === "*") width = Number(args[ai++]);
    else if (w) width = Number(w);
    let prec: number | undefined;
    if (p === "*") prec = Number(args[ai++]);
    else if (p !== undefined) prec = p === "" ? 0 : Number(p);
    if (ai >= args.length) {
      out += `%!${verb}(MISSING)`;
      continue;
    }
    const v = args[ai++];
    out += pad(formatOne(verb, v, flags, prec), width, flags);
  }
  out += format.slice(last);
  if (ai < args.length) {
    out += `%!(EXTRA ${args
      .slice(ai)
      .map((a) => `${goTypeName(a)}=${goString(a)}`)
      .join(", ")})`;
  }
  return out;
}

/** Go's fmt.Sprint: spaces between operands when neither side is a string. */
export function sprint(args: unknown[]): string {
  let out = "";
  for (let i = 0; i < args.length; i++) {
    if (i > 0 && typeof args[i] !== "string" && typeof args[i - 1] !== "string") out += " ";
    out += goString(args[i]);
  }
  return out;
}

/** Go's fmt.Sprintln: spaces between all operands and a newline. */
export function sprintln(args: unknown[]): string {
  return `${args.map((a) => goString(a)).join(" ")}\n`;
}
