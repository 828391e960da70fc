/**
 * The Dockerfile's word lexer: quote removal, escapes and `$VAR` / `${VAR...}` expansion, as Docker applies them
 * to the instructions it expands (FROM, ENV, LABEL, COPY, ADD, WORKDIR, USER, EXPOSE, VOLUME, STOPSIGNAL, ARG).
 */
import { InvalidParameterError } from "../errdefs/index.ts";

/** Looks a variable up; undefined when it is not set. */
export type VarLookup = (name: string) => string | undefined;

const NAME_CHAR = /[A-Za-z0-9_]/;
const WS = /[ \t\r\n\v\f]/;

/**
 * Splits raw text into words at unquoted, unescaped whitespace, keeping quotes and escapes in the words
 * (they are removed later, by `expandWord`).
 */
export function splitWords(text: string, esc = "\\"): string[] {
  const out: string[] = [];
  let cur = "";
  let inWord = false;
  let quote: string | undefined;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (!quote && WS.test(c)) {
      if (inWord) out.push(cur);
      cur = "";
      inWord = false;
      continue;
    }
    inWord = true;
    cur += c;
    if (c === esc && quote !== "'" && i + 1 < text.length) {
      cur += text[++i];
      continue;
    }
    if (quote && c === quote) quote = undefined;
    else if (!quote && (c === '"' || c === "'")) quote = c;
  }
  if (inWord) out.push(cur);
  return out;
}

/** Expands one word: quotes removed, escapes resolved, variables substituted. */
export function expandWord(word: string, lookup: VarLookup, esc = "\\"): string {
  return new Lexer(word, lookup, esc).word();
}

/** Expands text and splits it into words (quoted spaces stay inside their word). */
export function expandWords(text: string, lookup: VarLookup, esc = "\\"): string[] {
  return splitWords(text, esc).map((w) => expandWord(w, lookup, esc));
}

/** Which variables a text refers to (`$A`, `${B:-x}`), for deciding which build args a step uses. */
export function referencedVars(text: string): string[] {
  const names = new Set<string>();
  for (const m of text.matchAll(/\$\{?([A-Za-z_][A-Za-z0-9_]*)/g)) names.add(m[1]);
  return [...names];
}

class Lexer {
  readonly src: string;
  readonly lookup: VarLookup;
  readonly esc: string;
  pos = 0;

  constructor(src: string, lookup: VarLookup, esc: string) {
    this.src = src;
    this.lookup = lookup;
    this.esc = esc;
  }

  /** The whole input as one word (or up to an unquoted `stop`, for the words inside `${...}`). */
  word(stop?: string): string {
    let out = "";
    while (this.pos < this.src.length) {
      const c = this.src[this.pos];
      if (stop && c === stop) return out;
      if (c === "'") out += this.single();
      else if (c === '"') out += this.double();
      else if (c === "$") out += this.dollar();
      else if (c === this.esc) {
        this.pos++;
        if (this.pos >= this.src.length) return out + c;
        out += this.src[this.pos++];
      } else {
        out += c;
        this.pos++;
      }
    }
    if (stop) throw new InvalidParameterError(`missing '${stop}' in '${this.src}'`);
    return out;
  }

  private single(): string {
    const end = this.src.indexOf("'", this.pos + 1);
    if (end < 0)
      throw new InvalidParameterError("unexpected end of statement while looking for matching single-quote");
    const s = this.src.slice(this.pos + 1, end);
    this.pos = end + 1;
    return s;
  }

  private double(): string {
    this.pos++;
    let out = "";
    while (this.pos < this.src.length) {
      const c = this.src[this.pos];
      if (c === '"') {
        this.pos++;
        return out;
      }
      if (c === "$") {
        out += this.dollar();
        continue;
      }
      if (c === this.esc && this.pos + 1 < this.src.length) {
        const n = this.src[this.pos + 1];
        // Inside double quotes only `\"`, `\$` and the esc itself are escapes; elsewhere the esc stays.
        if (n === '"' || n === "$" || n === this.esc) {
          out += n;
          this.pos += 2;
          continue;
        }
      }
      out += c;
      this.pos++;
    }
    throw new InvalidParameterError("unexpected end of statement while looking for matching double-quote");
  }

  private dollar(): string {
    this.pos++;
    const c = this.src[this.pos];
    if (c === "{") {
      this.pos++;
      return this.braced();
    }
    const name = this.name();
    if (!name) return "$";
    return this.lookup(name) ?? "";
  }

  private name(): string {
    let n = "";
    while (this.pos < this.src.length && NAME_CHAR.test(this.src[this.pos])) n += this.src[this.pos++];
    return n;
  }

  private braced(): string {
    const name = this.name();
    if (!name) throw new InvalidParameterError(`bad substitution: '${this.src}'`);
    const c = this.src[this.pos];
    const value = this.lookup(name);
    if (c === "}") {
      this.pos++;
      return value ?? "";
    }
    let op = c;
    this.pos++;
    if (c === ":") {
      op = `:${this.src[this.pos]}`;
      this.pos++;
    } else if ((c === "#" || c === "%") && this.src[this.pos] === c) {
      op = c + c;
      this.pos++;
    }
    const word = this.word("}");
    this.pos++; // the closing brace
    const empty = value === undefined || value === "";
    switch (op) {
      case ":-":
        return empty ? word : value;
      case "-":
        return value === undefined ? word : value;
      case ":+":
        return empty ? "" : word;
      case "+":
        return value === undefined ? "" : word;
      case ":?":
      case "?":
        if (op === ":?" ? empty : value === undefined)
          throw new InvalidParameterError(`${name}: ${word || "is not allowed to be unset"}`);
        return value ?? "";
      case "#":
      case "##":
        return trimPrefix(value ?? "", word, op === "##");
      case "%":
      case "%%":
        return trimSuffix(value ?? "", word, op === "%%");
      default:
        throw new InvalidParameterError(`unsupported modifier (${op}) in substitution: '${this.src}'`);
    }
  }
}

function globRe(pattern: string): string {
  let re = "";
  for (const ch of pattern) {
    if (ch === "*") re += ".*";
    else if (ch === "?") re += ".";
    else re += ch.replace(/[.+^${}()|[\]\\/]/g, "\\$&");
  }
  return re;
}

function trimPrefix(v: string, pattern: string, longest: boolean): string {
  const whole = new RegExp(`^${globRe(pattern)}$`);
  const lengths = [...Array(v.length + 1).keys()];
  if (longest) lengths.reverse();
  for (const n of lengths) if (whole.test(v.slice(0, n))) return v.slice(n);
  return v;
}

function trimSuffix(v: string, pattern: string, longest: boolean): string {
  const whole = new RegExp(`^${globRe(pattern)}$`);
  const starts = [...Array(v.length + 1).keys()].reverse();
  if (longest) starts.reverse();
  for (const s of starts) if (whole.test(v.slice(s))) return v.slice(0, s);
  return v;
}
