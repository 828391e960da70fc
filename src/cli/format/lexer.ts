/** Token kinds of Go's text/template lexer that the parser needs. */
export type TokKind =
  | "text"
  | "left" // {{
  | "right" // }}
  | "field" // .Name
  | "dot" // .
  | "var" // $x or $
  | "ident" // function name or keyword
  | "string" // already unquoted
  | "number"
  | "bool"
  | "nil"
  | "pipe"
  | "lparen"
  | "rparen"
  | "declare" // :=
  | "assign" // =
  | "comma"
  | "space"
  | "comment"
  | "eof";

/** One lexed token with its byte offset in the template. */
export interface Token {
  kind: TokKind;
  val: string;
  pos: number;
}

/** A template syntax error, worded like Go's (`template: :1: unexpected EOF`). */
export class TemplateError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "TemplateError";
  }
}

/** Line number (1-based) of a byte offset, for Go-style messages. */
export function lineOf(src: string, pos: number): number {
  let n = 1;
  for (let i = 0; i < pos && i < src.length; i++) if (src.charCodeAt(i) === 10) n++;
  return n;
}

const ESCAPES: Record<string, string> = {
  n: "\n",
  t: "\t",
  r: "\r",
  "\\": "\\",
  '"': '"',
  "'": "'",
  a: "\x07",
  b: "\b",
  f: "\f",
  v: "\v",
  "0": "\0",
};

function unquote(body: string, fail: () => never): string {
  let out = "";
  for (let i = 0; i < body.length; i++) {
    const c = body[i];
    if (c !== "\\") {
      out += c;
      continue;
    }
    const e = body[++i];
    if (e === "x" || e === "u" || e === "U") {
      const n = e === "x" ? 2 : e === "u" ? 4 : 8;
      const hex = body.slice(i + 1, i + 1 + n);
      if (!/^[0-9a-fA-F]+$/.test(hex) || hex.length !== n) fail();
      out += String.fromCodePoint(Number.parseInt(hex, 16));
      i += n;
    } else if (e !== undefined && e in ESCAPES) {
      out += ESCAPES[e];
    } else {
      fail();
    }
  }
  return out;
}

/** Go's %#U of a character: `U+007D '}'`. */
function goCharDesc(c: string): string {
  const cp = c.codePointAt(0) ?? 0;
  return `U+${cp.toString(16).toUpperCase().padStart(4, "0")} '${c}'`;
}

/** Splits a template into tokens, applying `{{- ` / ` -}}` trimming to the neighbouring text. */
export function lex(src: string): Token[] {
  const toks: Token[] = [];
  const err = (pos: number, msg: string): never => {
    throw new TemplateError(`template: :${lineOf(src, pos)}: ${msg}`);
  };
  // After a name, Go requires a space, `.`, `,`, `|`, `:`, `)`, `(` or the closing delimiter.
  const checkTerminator = (q: number): void => {
    const ch = src[q];
    if (ch === undefined || /[\s.,|:()=]/.test(ch) || src.startsWith("}}", q)) return;
    err(q, `bad character ${goCharDesc(ch)}`);
  };
  let i = 0;
  let trimNext = false;
  while (i <= src.length) {
    let open = src.indexOf("{{", i);
    if (open < 0) open = src.length;
    let text = src.slice(i, open);
    if (trimNext) text = text.replace(/^\s+/, "");
    trimNext = false;
    const trimLeft =
      open < src.length && src.startsWith("{{-", open) && /[ \t\r\n]/.test(src[open + 3] ?? "");
    if (trimLeft) text = text.replace(/\s+$/, "");
    if (text) toks.push({ kind: "text", val: text, pos: i });
    if (open >= src.length) break;
    let p = open + 2 + (trimLeft ? 1 : 0);
    toks.push({ kind: "left", val: "{{", pos: open });
    // Comments: {{/* ... */}} with optional trim markers.
    if (src.startsWith("/*", trimLeft ? p + 1 : p)) {
      if (trimLeft) p++;
      const end = src.indexOf("*/", p + 2);
      if (end < 0) err(open, "unclosed comment");
      let q = end + 2;
      if (src.startsWith(" -}}", q)) {
        trimNext = true;
        q += 4;
      } else if (src.startsWith("}}", q)) {
        q += 2;
      } else {
        err(open, "comment ends before closing delimiter");
      }
      toks.pop();
      i = q;
      continue;
    }
    for (;;) {
      if (p >= src.length) err(open, "unclosed action");
      const c = src[p];
      if (/\s/.test(c) && src.startsWith("-}}", p + 1)) {
        toks.push({ kind: "right", val: "}}", pos: p });
        trimNext = true;
        p += 4;
        break;
      }
      if (src.startsWith("}}", p)) {
        toks.push({ kind: "right", val: "}}", pos: p });
        p += 2;
        break;
      }
      if (c === "\n" || c === "\r" || c === " " || c === "\t") {
        let q = p;
        while (
          q < src.length &&
          /[ \t\r\n]/.test(src[q]) &&
          !(/\s/.test(src[q]) && src.startsWith("-}}", q + 1))
        )
          q++;
        if (q === p) q = p + 1;
        toks.push({ kind: "space", val: src.slice(p, q), pos: p });
        p = q;
        continue;
      }
      if (c === "|") {
        toks.push({ kind: "pipe", val: c, pos: p++ });
        continue;
      }
      if (c === "(") {
        toks.push({ kind: "lparen", val: c, pos: p++ });
        continue;
      }
      if (c === ")") {
        toks.push({ kind: "rparen", val: c, pos: p++ });
        continue;
      }
      if (c === ",") {
        toks.push({ kind: "comma", val: c, pos: p++ });
        continue;
      }
      if (c === ":") {
        if (src[p + 1] !== "=") err(p, "expected :=");
        toks.push({ kind: "declare", val: ":=", pos: p });
        p += 2;
        continue;
      }
      if (c === "=") {
        toks.push({ kind: "assign", val: "=", pos: p++ });
        continue;
      }
      if (c === '"') {
        let q = p + 1;
        while (q < src.length && src[q] !== '"') {
          if (src[q] === "\\") q++;
          if (src[q] === "\n") err(p, "unterminated quoted string");
          q++;
        }
        if (q >= src.length) err(p, "unterminated quoted string");
        const val = unquote(src.slice(p + 1, q), () => err(p, `invalid syntax`));
        toks.push({ kind: "string", val, pos: p });
        p = q + 1;
        continue;
      }
      if (c === "`") {
        const q = src.indexOf("`", p + 1);
        if (q < 0) err(p, "unterminated raw quoted string");
        toks.push({ kind: "string", val: src.slice(p + 1, q), pos: p });
        p = q + 1;
        continue;
      }
      if (c === "'") {
        const m = /^'(\\.[^']*|[^\\'])'/u.exec(src.slice(p));
        if (!m) err(p, "unterminated character constant");
        const ch = unquote(m![1], () => err(p, "invalid syntax"));
        toks.push({ kind: "number", val: String(ch.codePointAt(0)), pos: p });
        p += m![0].length;
        continue;
      }
      if (c === "$") {
        const m = /^\$[\p{L}_0-9]*/u.exec(src.slice(p))!;
        toks.push({ kind: "var", val: m[0], pos: p });
        p += m[0].length;
        checkTerminator(p);
        continue;
      }
      if (c === ".") {
        const m = /^\.[\p{L}_][\p{L}_0-9]*/u.exec(src.slice(p));
        if (m) {
          toks.push({ kind: "field", val: m[0].slice(1), pos: p });
          p += m[0].length;
          checkTerminator(p);
          continue;
        }
        if (!/[0-9]/.test(src[p + 1] ?? "")) {
          toks.push({ kind: "dot", val: ".", pos: p++ });
          continue;
        }
      }
      const num =
        /^[+-]?(0[xX][0-9a-fA-F_]+|0[bB][01_]+|0[oO]?[0-7_]+|(\d[\d_]*)?\.?\d*([eE][+-]?\d+)?)/.exec(
          src.slice(p),
        );
      if (num?.[0] && /[0-9]/.test(num[0]) && (c === "." || c === "-" || c === "+" || /[0-9]/.test(c))) {
        toks.push({ kind: "number", val: num[0], pos: p });
        p += num[0].length;
        continue;
      }
      const id = /^[\p{L}_][\p{L}_0-9]*/u.exec(src.slice(p));
      if (id) {
        const w = id[0];
        const kind: TokKind = w === "true" || w === "false" ? "bool" : w === "nil" ? "nil" : "ident";
        toks.push({ kind, val: w, pos: p });
        p += w.length;
        checkTerminator(p);
        continue;
      }
      err(p, `unrecognized character in action: ${goCharDesc(c)}`);
    }
    i = p;
  }
  toks.push({ kind: "eof", val: "", pos: src.length });
  return toks;
}
