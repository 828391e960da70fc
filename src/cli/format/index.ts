import { execute } from "./exec.ts";
import { builtinFuncs, dockerFuncs, goJson, headerFuncs, type TemplateFunc } from "./funcs.ts";
import { TemplateError } from "./lexer.ts";
import { parse, type Tree } from "./parser.ts";
import { tabwrite } from "./tabwriter.ts";

export { contextJSON } from "./context.ts";
export { goJson, type TemplateFunc } from "./funcs.ts";
export { TemplateError } from "./lexer.ts";
export { sprintf } from "./printf.ts";
export { tabwrite } from "./tabwriter.ts";
export { goString, isTrue } from "./values.ts";

const FUNC_NAMES = new Set([...Object.keys(builtinFuncs), ...Object.keys(dockerFuncs), "and", "or"]);

/** A compiled Go text/template with Docker's extra functions. */
export class Template {
  readonly #tree: Tree;

  constructor(tree: Tree) {
    this.#tree = tree;
  }

  /** Renders the template with `data` as dot. */
  execute(data: unknown, opts: { funcs?: Record<string, TemplateFunc> } = {}): string {
    return execute(this.#tree, data, { ...builtinFuncs, ...dockerFuncs, ...opts.funcs });
  }
}

/** Parses `src` as a Go template; throws TemplateError with Go's wording on bad syntax. */
export function compileTemplate(src: string): Template {
  return new Template(parse(src, FUNC_NAMES));
}

/** Renders `src` once with `data` (parse + execute). */
export function renderTemplate(src: string, data: unknown): string {
  return compileTemplate(src).execute(data);
}

/** A `--format` value split the way Docker reads it. */
export interface ParsedFormat {
  table: boolean;
  /** Template text with `\t`/`\n` escapes turned into real tabs/newlines. */
  template: string;
}

/**
 * Reads a `--format` value: "table" (alone: the command's default table), "table <tmpl>", "json"
 * (one JSON object per line), or a plain template. Empty means the default table.
 */
export function parseFormat(format: string | undefined, defaultTable: string): ParsedFormat {
  let f = format ?? "";
  if (f === "" || f === "table") f = `table ${defaultTable}`;
  if (f === "json") f = "{{json .}}";
  let table = false;
  if (f.startsWith("table")) {
    table = true;
    f = f.slice("table".length);
  }
  f = f.replace(/^ +| +$/g, "");
  f = f.replace(/\\t/g, "\t").replace(/\\n/g, "\n");
  return { table, template: f };
}

/** Options of renderList. */
export interface RenderListOptions {
  /** Header text per field name, for `table` formats (`ID` → `CONTAINER ID`). */
  headers: Record<string, string>;
}

/**
 * Renders items like Docker's formatter: each item through the template plus a newline; for tables,
 * a header row first (the template run over the header names) and everything aligned by tabwriter.
 */
export function renderList(fmt: ParsedFormat, items: unknown[], opts: RenderListOptions): string {
  let tmpl: Template;
  try {
    tmpl = compileTemplate(fmt.template);
  } catch (e) {
    if (e instanceof TemplateError) throw new TemplateError(`template parsing error: ${e.message}`);
    throw e;
  }
  let body = "";
  for (const item of items) body += `${tmpl.execute(item)}\n`;
  if (!fmt.table) return body;
  let header = "";
  try {
    header = tmpl.execute(headerContext(opts.headers), { funcs: headerFuncs });
  } catch {
    // Docker prints no header when the template cannot run over the header names.
  }
  return tabwrite(`${header}\n${body}`);
}

/** An object whose every field (also called as a method, e.g. `.Label "k"`) yields its header text. */
function headerContext(headers: Record<string, string>): object {
  const ctx: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(headers)) ctx[k] = () => v;
  return Object.setPrototypeOf(ctx, HeaderContext.prototype);
}

class HeaderContext {}

/** Indents JSON with 4 spaces like Docker's `inspect`, keeping `<`, `>`, `&` unescaped. */
export function indentJson(v: unknown): string {
  return JSON.stringify(v, null, 4) ?? goJson(v);
}
