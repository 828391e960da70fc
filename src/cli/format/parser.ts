import { lex, lineOf, TemplateError, type Token } from "./lexer.ts";

/** An operand or command head inside an action. */
export type Arg =
  | { t: "field"; names: string[]; pos: number; src: string }
  | { t: "var"; name: string; names: string[]; pos: number; src: string }
  | { t: "dot"; pos: number; src: string }
  | { t: "nil"; pos: number; src: string }
  | { t: "bool"; value: boolean; pos: number; src: string }
  | { t: "number"; value: number; isInt: boolean; pos: number; src: string }
  | { t: "string"; value: string; pos: number; src: string }
  | { t: "ident"; name: string; pos: number; src: string }
  | { t: "chain"; node: Arg; names: string[]; pos: number; src: string }
  | { t: "pipe"; pipe: Pipe; pos: number; src: string };

/** A command: a head followed by arguments. */
export interface Command {
  args: Arg[];
  pos: number;
  src: string;
}

/** A pipeline, optionally declaring (`:=`) or assigning (`=`) variables. */
export interface Pipe {
  decl: string[];
  assign: boolean;
  cmds: Command[];
  pos: number;
}

/** An `if`, `with` or `range` block. */
export interface ControlNode {
  t: "if" | "with" | "range";
  pipe: Pipe;
  list: Node[];
  elseList: Node[] | null;
}

/** A node of the parsed template tree. */
export type Node =
  | { t: "text"; text: string }
  | { t: "action"; pipe: Pipe }
  | ControlNode
  | { t: "template"; name: string; pipe: Pipe | null; pos: number }
  | { t: "break" | "continue"; pos: number };

/** A parsed template: the main tree plus `define`d ones. */
export interface Tree {
  root: Node[];
  defs: Map<string, Node[]>;
  src: string;
}

const BUILTIN_KEYWORDS = new Set([
  "if",
  "else",
  "end",
  "range",
  "with",
  "define",
  "template",
  "block",
  "break",
  "continue",
]);

/** Parses a Go template; `funcs` names the functions that may be called. */
export function parse(src: string, funcs: ReadonlySet<string>): Tree {
  const p = new Parser(src, lex(src), funcs);
  const root = p.parseList(new Set());
  return { root, defs: p.defs, src };
}

class Parser {
  readonly src: string;
  readonly toks: Token[];
  readonly funcs: ReadonlySet<string>;
  readonly defs = new Map<string, Node[]>();
  i = 0;
  rangeDepth = 0;
  vars: string[] = ["$"];

  constructor(src: string, toks: Token[], funcs: ReadonlySet<string>) {
    this.src = src;
    this.toks = toks;
    this.funcs = funcs;
  }

  fail(pos: number, msg: string): never {
    throw new TemplateError(`template: :${lineOf(this.src, pos)}: ${msg}`);
  }

  peek(): Token {
    return this.toks[this.i];
  }

  next(): Token {
    return this.toks[this.i++];
  }

  /** Next token that is not a space. */
  nextNonSpace(): Token {
    let t = this.next();
    while (t.kind === "space") t = this.next();
    return t;
  }

  peekNonSpace(): Token {
    const save = this.i;
    const t = this.nextNonSpace();
    this.i = save;
    return t;
  }

  /** Parses nodes until one of `stops` (`end`, `else`) or EOF; leaves the stop keyword unconsumed. */
  parseList(stops: Set<string>): Node[] {
    const out: Node[] = [];
    for (;;) {
      const t = this.next();
      if (t.kind === "eof") {
        if (stops.size > 0) this.fail(t.pos, "unexpected EOF");
        return out;
      }
      if (t.kind === "text") {
        out.push({ t: "text", text: t.val });
        continue;
      }
      // t is "left"
      const kw = this.peekNonSpace();
      if (kw.kind === "ident" && BUILTIN_KEYWORDS.has(kw.val)) {
        if (kw.val === "end" || kw.val === "else") {
          if (!stops.has(kw.val)) this.fail(kw.pos, `unexpected {{${kw.val}}}`);
          this.nextNonSpace();
          return Object.assign(out, { stop: kw.val });
        }
        this.nextNonSpace();
        const n = this.keyword(kw);
        if (n) out.push(n);
        continue;
      }
      const pipe = this.pipeline("command", true);
      out.push({ t: "action", pipe });
    }
  }

  keyword(kw: Token): Node | null {
    switch (kw.val) {
      case "if":
      case "with":
      case "range":
        return this.control(kw.val, kw);
      case "break":
      case "continue": {
        if (this.rangeDepth === 0) this.fail(kw.pos, `{{${kw.val}}} outside {{range}}`);
        this.expectRight(kw.val);
        return { t: kw.val, pos: kw.pos };
      }
      case "template":
      case "block": {
        const nameTok = this.nextNonSpace();
        if (nameTok.kind !== "string")
          this.fail(nameTok.pos, `unexpected "${nameTok.val}" in ${kw.val} clause`);
        let pipe: Pipe | null = null;
        if (this.peekNonSpace().kind !== "right") pipe = this.pipeline(kw.val, false);
        else this.nextNonSpace();
        if (kw.val === "block") {
          const body = this.parseList(new Set(["end"]));
          this.expectRight("end");
          this.defs.set(nameTok.val, body);
        }
        return { t: "template", name: nameTok.val, pipe, pos: kw.pos };
      }
      case "define": {
        const nameTok = this.nextNonSpace();
        if (nameTok.kind !== "string") this.fail(nameTok.pos, "name of define clause must be a string");
        this.expectRight("define");
        const saved = this.vars;
        this.vars = ["$"];
        const body = this.parseList(new Set(["end"]));
        this.vars = saved;
        this.expectRight("end");
        this.defs.set(nameTok.val, body);
        return null;
      }
      default:
        this.fail(kw.pos, `unexpected ${kw.val}`);
    }
  }

  expectRight(ctx: string): void {
    const t = this.nextNonSpace();
    if (t.kind !== "right") this.fail(t.pos, `unexpected "${t.val}" in ${ctx}`);
  }

  control(kind: "if" | "with" | "range", kw: Token): ControlNode {
    const savedVars = this.vars.length;
    const pipe = this.pipeline(kind, true);
    if (kind === "range") this.rangeDepth++;
    const list = this.parseList(new Set(["end", "else"])) as Node[] & { stop?: string };
    if (kind === "range") this.rangeDepth--;
    let elseList: Node[] | null = null;
    if (list.stop === "else") {
      const nxt = this.peekNonSpace();
      // `{{else if ...}}` / `{{else with ...}}` nest a new control in the else branch, sharing one {{end}}.
      if (kind !== "range" && nxt.kind === "ident" && nxt.val === kind) {
        this.nextNonSpace();
        elseList = [this.control(kind, nxt)];
        this.vars.length = savedVars;
        return { t: kind, pipe, list, elseList };
      }
      this.expectRight("else");
      const el = this.parseList(new Set(["end"]));
      elseList = el;
    }
    this.expectRight("end");
    this.vars.length = savedVars;
    if (kw.val !== kind) this.fail(kw.pos, "internal error");
    return { t: kind, pipe, list, elseList };
  }

  /** Parses a pipeline up to `}}` (when `toRight`) or `)`. */
  pipeline(ctx: string, toRight: boolean, endKind: "right" | "rparen" = "right"): Pipe {
    const start = this.peekNonSpace().pos;
    const decl: string[] = [];
    let assign = false;
    // Variable declarations: `$x :=`, `$x =`, `$i, $e :=`.
    const save = this.i;
    const v1 = this.nextNonSpace();
    if (v1.kind === "var") {
      const t2 = this.nextNonSpace();
      if (t2.kind === "declare" || t2.kind === "assign") {
        decl.push(v1.val);
        assign = t2.kind === "assign";
      } else if (t2.kind === "comma" && ctx === "range") {
        const v2 = this.nextNonSpace();
        const t3 = this.nextNonSpace();
        if (v2.kind !== "var" || (t3.kind !== "declare" && t3.kind !== "assign")) {
          this.fail(v2.pos, "range can only initialize variables");
        }
        decl.push(v1.val, v2.val);
        assign = t3.kind === "assign";
      } else {
        this.i = save;
      }
    } else {
      this.i = save;
    }
    if (assign) {
      for (const d of decl) if (!this.vars.includes(d)) this.fail(v1.pos, `undefined variable "${d}"`);
    } else {
      this.vars.push(...decl);
    }
    const cmds: Command[] = [];
    for (;;) {
      const t = this.peekNonSpace();
      if (t.kind === endKind) {
        this.nextNonSpace();
        if (cmds.length === 0) {
          if (ctx === "command" && decl.length === 0) this.fail(t.pos, "missing value for command");
          this.fail(t.pos, `missing value for ${ctx}`);
        }
        break;
      }
      if (t.kind === "eof") this.fail(t.pos, toRight ? "unclosed action" : "unclosed left paren");
      if (t.kind === "right" || t.kind === "rparen") this.fail(t.pos, `unexpected "${t.val}" in operand`);
      cmds.push(this.command(endKind));
    }
    return { decl, assign, cmds, pos: start };
  }

  command(endKind: "right" | "rparen"): Command {
    const start = this.peekNonSpace().pos;
    const args: Arg[] = [];
    for (;;) {
      const t = this.peek();
      if (t.kind === "space") {
        this.next();
        continue;
      }
      if (t.kind === endKind || t.kind === "right" || t.kind === "rparen" || t.kind === "eof") break;
      if (t.kind === "pipe") {
        this.next();
        const n = this.peekNonSpace();
        if (n.kind === endKind || n.kind === "pipe") this.fail(n.pos, "missing command after pipe");
        break;
      }
      args.push(this.operand());
      const after = this.peek();
      if (
        after.kind !== "space" &&
        after.kind !== "pipe" &&
        after.kind !== endKind &&
        after.kind !== "right" &&
        after.kind !== "rparen"
      ) {
        this.fail(after.pos, `unexpected "${after.val}" in operand`);
      }
    }
    if (args.length === 0) this.fail(start, "empty command");
    const last = this.toks[this.i - 1];
    return { args, pos: start, src: this.src.slice(start, last.pos + Math.max(last.val.length, 1)).trim() };
  }

  operand(): Arg {
    const t = this.next();
    let node: Arg;
    const srcOf = (from: number): string => this.src.slice(from, this.peek().pos);
    switch (t.kind) {
      case "field": {
        const names = [t.val];
        while (this.peek().kind === "field") names.push(this.next().val);
        return { t: "field", names, pos: t.pos, src: srcOf(t.pos) };
      }
      case "var": {
        if (!this.vars.includes(t.val)) this.fail(t.pos, `undefined variable "${t.val}"`);
        const names: string[] = [];
        while (this.peek().kind === "field") names.push(this.next().val);
        return { t: "var", name: t.val, names, pos: t.pos, src: srcOf(t.pos) };
      }
      case "dot":
        node = { t: "dot", pos: t.pos, src: "." };
        break;
      case "nil":
        node = { t: "nil", pos: t.pos, src: "nil" };
        break;
      case "bool":
        node = { t: "bool", value: t.val === "true", pos: t.pos, src: t.val };
        break;
      case "string":
        node = { t: "string", value: t.val, pos: t.pos, src: this.src.slice(t.pos, this.peek().pos) };
        break;
      case "number": {
        const clean = t.val.replace(/_/g, "");
        let value: number;
        let isInt = true;
        if (/^[+-]?0[xX]/.test(clean))
          value = Number.parseInt(clean.replace(/0[xX]/, ""), 16) * (clean[0] === "-" ? -1 : 1);
        else if (/^[+-]?0[bB]/.test(clean))
          value = Number.parseInt(clean.replace(/0[bB]/, ""), 2) * (clean[0] === "-" ? -1 : 1);
        else if (/^[+-]?0[oO]?[0-7]+$/.test(clean))
          value = Number.parseInt(clean.replace(/0[oO]?/, ""), 8) * (clean[0] === "-" ? -1 : 1);
        else {
          value = Number(clean);
          isInt = /^[+-]?\d+$/.test(clean);
        }
        if (Number.isNaN(value)) this.fail(t.pos, `bad number syntax: "${t.val}"`);
        node = { t: "number", value, isInt, pos: t.pos, src: t.val };
        break;
      }
      case "ident":
        if (BUILTIN_KEYWORDS.has(t.val)) this.fail(t.pos, `unexpected <${t.val}> in command`);
        if (!this.funcs.has(t.val)) this.fail(t.pos, `function "${t.val}" not defined`);
        node = { t: "ident", name: t.val, pos: t.pos, src: t.val };
        break;
      case "lparen": {
        const pipe = this.pipeline("parenthesized pipeline", false, "rparen");
        node = { t: "pipe", pipe, pos: t.pos, src: this.src.slice(t.pos, this.peek().pos) };
        break;
      }
      default:
        this.fail(t.pos, `unexpected "${t.val}" in operand`);
    }
    if (this.peek().kind === "field") {
      const names: string[] = [];
      while (this.peek().kind === "field") names.push(this.next().val);
      if (node.t === "bool" || node.t === "string" || node.t === "number" || node.t === "nil") {
        this.fail(t.pos, `unexpected . after term "${node.src}"`);
      }
      return { t: "chain", node, names, pos: t.pos, src: srcOf(t.pos) };
    }
    return node;
  }
}
