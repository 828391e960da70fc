import { FuncError, type TemplateFunc } from "./funcs.ts";
import { TemplateError } from "./lexer.ts";
import type { Arg, Command, ControlNode, Node, Pipe, Tree } from "./parser.ts";
import { goString, goTypeName, isMapLike, isPlainObject, isTrue, noteField } from "./values.ts";

/** Marks "no value piped in", distinct from a piped `undefined`. */
const NONE: unique symbol = Symbol("none");
type Final = unknown | typeof NONE;

class BreakSignal {}
class ContinueSignal {}

interface Var {
  name: string;
  value: unknown;
}

/** Runs a parsed template against `data`, writing to a string. */
export function execute(tree: Tree, data: unknown, funcs: Record<string, TemplateFunc>): string {
  const s = new State(tree, funcs, data);
  s.walkList(data, tree.root);
  return s.out.join("");
}

/** The field an action prints, when it is a plain field chain (`{{.Config.Cmd}}` → `Cmd`). */
function lastFieldName(pipe: Pipe): string | undefined {
  const cmd = pipe.cmds.at(-1);
  if (cmd?.args.length !== 1) return undefined;
  const a = cmd.args[0];
  if (a.t === "field" || a.t === "chain" || a.t === "var") return a.names.at(-1);
  return undefined;
}

class State {
  readonly tree: Tree;
  readonly funcs: Record<string, TemplateFunc>;
  readonly vars: Var[];
  readonly out: string[] = [];
  depth = 0;

  constructor(tree: Tree, funcs: Record<string, TemplateFunc>, data: unknown) {
    this.tree = tree;
    this.funcs = funcs;
    this.vars = [{ name: "$", value: data }];
  }

  fail(pos: number, at: string, msg: string): never {
    const before = this.tree.src.slice(0, pos);
    const line = before.split("\n").length;
    const nl = before.lastIndexOf("\n");
    const col = nl < 0 ? pos : pos - nl - 1;
    throw new TemplateError(`template: :${line}:${col}: executing "" at <${at}>: ${msg}`);
  }

  walkList(dot: unknown, list: Node[]): void {
    for (const n of list) this.walk(dot, n);
  }

  walk(dot: unknown, n: Node): void {
    switch (n.t) {
      case "text":
        this.out.push(n.text);
        return;
      case "action": {
        const v = this.evalPipeline(dot, n.pipe);
        if (n.pipe.decl.length === 0) this.out.push(goString(v, true, lastFieldName(n.pipe)));
        return;
      }
      case "range":
        this.walkRange(dot, n);
        return;
      case "if":
      case "with": {
        const mark = this.vars.length;
        const v = this.evalPipeline(dot, n.pipe);
        if (isTrue(v)) this.walkList(n.t === "with" ? v : dot, n.list);
        else if (n.elseList) this.walkList(dot, n.elseList);
        this.vars.length = mark;
        return;
      }
      case "break":
        throw new BreakSignal();
      case "continue":
        throw new ContinueSignal();
      case "template": {
        const body = this.tree.defs.get(n.name);
        if (!body) this.fail(n.pos, `template ${n.name}`, `no such template "${n.name}"`);
        if (++this.depth > 1000)
          this.fail(n.pos, `template ${n.name}`, "exceeded maximum template depth (1000)");
        const newDot = n.pipe ? this.evalPipeline(dot, n.pipe) : undefined;
        const saved = this.vars.splice(0);
        this.vars.push({ name: "$", value: newDot });
        try {
          this.walkList(newDot, body);
        } finally {
          this.vars.splice(0, this.vars.length, ...saved);
          this.depth--;
        }
        return;
      }
    }
  }

  walkRange(dot: unknown, n: ControlNode): void {
    const mark = this.vars.length;
    // The range variables are declared per iteration, not by the pipeline itself.
    const pipe: Pipe = { ...n.pipe, decl: [] };
    const v = this.evalPipeline(dot, pipe);
    let items: [unknown, unknown][] = [];
    if (Array.isArray(v)) items = v.map((x, i) => [i, x]);
    else if (isPlainObject(v)) {
      items = Object.keys(v)
        .sort()
        .map((k) => [k, v[k]]);
    } else if (typeof v === "number" && Number.isInteger(v)) {
      items = Array.from({ length: Math.max(0, v) }, (_, i) => [i, i]);
    } else if (v !== undefined && v !== null) {
      this.fail(n.pipe.pos, n.pipe.cmds[0]?.src ?? "", `range can't iterate over ${goString(v)}`);
    }
    for (const [k, x] of items) {
      const iterMark = this.vars.length;
      if (n.pipe.decl.length === 1) this.setVar(n.pipe.decl[0], x, n.pipe.assign);
      else if (n.pipe.decl.length === 2) {
        this.setVar(n.pipe.decl[0], k, n.pipe.assign);
        this.setVar(n.pipe.decl[1], x, n.pipe.assign);
      }
      try {
        this.walkList(x, n.list);
      } catch (e) {
        if (e instanceof BreakSignal) {
          this.vars.length = iterMark;
          break;
        }
        if (!(e instanceof ContinueSignal)) throw e;
      }
      this.vars.length = iterMark;
    }
    if (items.length === 0 && n.elseList) this.walkList(dot, n.elseList);
    this.vars.length = mark;
  }

  setVar(name: string, value: unknown, assign: boolean): void {
    if (assign) {
      for (let i = this.vars.length - 1; i >= 0; i--) {
        if (this.vars[i].name === name) {
          this.vars[i].value = value;
          return;
        }
      }
    }
    this.vars.push({ name, value });
  }

  lookupVar(name: string, pos: number): unknown {
    for (let i = this.vars.length - 1; i >= 0; i--) if (this.vars[i].name === name) return this.vars[i].value;
    this.fail(pos, name, `undefined variable: ${name}`);
  }

  evalPipeline(dot: unknown, pipe: Pipe): unknown {
    let v: Final = NONE;
    for (const c of pipe.cmds) v = this.evalCommand(dot, c, v);
    const value = v === NONE ? undefined : v;
    for (const d of pipe.decl) this.setVar(d, value, pipe.assign);
    return value;
  }

  evalCommand(dot: unknown, cmd: Command, final: Final): unknown {
    const first = cmd.args[0];
    const rest = cmd.args.slice(1);
    switch (first.t) {
      case "field":
        return this.evalFieldChain(dot, dot, first, first.names, { args: rest, final });
      case "chain": {
        const recv = this.evalArg(dot, first.node);
        return this.evalFieldChain(dot, recv, first, first.names, { args: rest, final });
      }
      case "var": {
        const v = this.lookupVar(first.name, first.pos);
        if (first.names.length > 0)
          return this.evalFieldChain(dot, v, first, first.names, { args: rest, final });
        this.noArgs(first, rest, final);
        return v;
      }
      case "ident":
        return this.evalFunction(dot, first, { args: rest, final, cmd });
      case "pipe":
        this.noArgs(first, rest, final);
        return this.evalPipeline(dot, first.pipe);
      case "nil":
        this.fail(first.pos, "nil", "nil is not a command");
        break;
      default:
        this.noArgs(first, rest, final);
        return this.evalArg(dot, first);
    }
  }

  noArgs(first: Arg, rest: Arg[], final: Final): void {
    if (rest.length > 0 || final !== NONE)
      this.fail(first.pos, first.src, `can't give argument to non-function ${first.src}`);
  }

  evalArg(dot: unknown, a: Arg): unknown {
    switch (a.t) {
      case "dot":
        return dot;
      case "nil":
        return null;
      case "bool":
      case "number":
      case "string":
        return a.value;
      case "field":
        return this.evalFieldChain(dot, dot, a, a.names, { args: [], final: NONE });
      case "chain":
        return this.evalFieldChain(dot, this.evalArg(dot, a.node), a, a.names, { args: [], final: NONE });
      case "var": {
        const v = this.lookupVar(a.name, a.pos);
        return a.names.length ? this.evalFieldChain(dot, v, a, a.names, { args: [], final: NONE }) : v;
      }
      case "pipe":
        return this.evalPipeline(dot, a.pipe);
      case "ident":
        return this.evalFunction(dot, a, { args: [], final: NONE, cmd: null });
    }
  }

  evalFieldChain(
    dot: unknown,
    recv: unknown,
    node: Arg,
    names: string[],
    call: { args: Arg[]; final: Final },
  ): unknown {
    let v = recv;
    for (let i = 0; i < names.length; i++) {
      const last = i === names.length - 1;
      v = this.evalField(dot, v, names[i], {
        node,
        args: last ? call.args : [],
        final: last ? call.final : NONE,
      });
    }
    return v;
  }

  evalField(dot: unknown, recv: unknown, name: string, c: { node: Arg; args: Arg[]; final: Final }): unknown {
    const hasArgs = c.args.length > 0 || c.final !== NONE;
    if (recv === null || recv === undefined) {
      this.fail(c.node.pos, c.node.src, `nil pointer evaluating interface {}.${name}`);
    }
    if (isPlainObject(recv)) {
      if (hasArgs) this.fail(c.node.pos, c.node.src, `${name} is not a method but has arguments`);
      const v = Object.hasOwn(recv, name) ? recv[name] : isMapLike(recv) ? undefined : undefined;
      noteField(name, v);
      return v;
    }
    if (typeof recv === "object" && !Array.isArray(recv)) {
      const member = (recv as Record<string, unknown>)[name];
      if (typeof member === "function" && name in recv && !(name in Object.prototype)) {
        const args = c.args.map((a) => this.evalArg(dot, a));
        if (c.final !== NONE) args.push(c.final);
        try {
          return (member as TemplateFunc).apply(recv, args);
        } catch (e) {
          if (e instanceof FuncError)
            this.fail(c.node.pos, c.node.src, `error calling ${name}: ${e.message}`);
          throw e;
        }
      }
      if (Object.hasOwn(recv, name)) {
        if (hasArgs) this.fail(c.node.pos, c.node.src, `${name} is not a method but has arguments`);
        return member;
      }
    }
    const tn =
      typeof recv === "object" && !Array.isArray(recv) ? `*${recv.constructor.name}` : goTypeName(recv);
    this.fail(c.node.pos, c.node.src, `can't evaluate field ${name} in type ${tn}`);
  }

  evalFunction(
    dot: unknown,
    id: Extract<Arg, { t: "ident" }>,
    c: { args: Arg[]; final: Final; cmd: Command | null },
  ): unknown {
    const name = id.name;
    const at = c.cmd?.src ?? name;
    if (name === "and" || name === "or") {
      const n = c.args.length + (c.final === NONE ? 0 : 1);
      if (n < 1) this.fail(id.pos, at, `wrong number of args for ${name}: want at least 1 got 0`);
      let v: unknown;
      for (const a of c.args) {
        v = this.evalArg(dot, a);
        if (isTrue(v) === (name === "or")) return v;
      }
      return c.final === NONE ? v : c.final;
    }
    const fn = this.funcs[name];
    if (!fn) this.fail(id.pos, at, `"${name}" is not a defined function`);
    const args = c.args.map((a) => this.evalArg(dot, a));
    if (c.final !== NONE) args.push(c.final);
    try {
      return fn(...args);
    } catch (e) {
      if (e instanceof FuncError) this.fail(id.pos, at, `error calling ${name}: ${e.message}`);
      throw e;
    }
  }
}
