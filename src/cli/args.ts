// The CLI's command specs, flag values typed and errors worded as docker's, over util's scanFlags (pflag's
// syntax, which docker uses: `-it`, `-eK=V`, `--name=x`, `--rm=false`, `--`, and for run/create/exec flags
// only before the first positional argument); usage errors and help in docker's layout.
import { type FlagSpec, type FlagValues, flag, scanFlags } from "../util/index.ts";

export type { FlagSpec, FlagType, FlagValues } from "../util/index.ts";
/** Flag declarations by kind (util's, shared with compose). */
export { flag };

/** A command's shape for parsing and help. */
export interface CommandSpec {
  /** Full path as typed, e.g. `run` or `image ls`. */
  name: string;
  /** After `Usage:  wharf `, e.g. `run [OPTIONS] IMAGE [COMMAND] [ARG...]`. */
  usage: string;
  desc: string;
  aliases?: string[];
  flags: FlagSpec[];
  /** False: stop at the first positional argument (the rest belongs to the container). */
  interspersed?: boolean;
  minArgs?: number;
  maxArgs?: number;
}

/** Parse result. */
export interface Parsed {
  flags: FlagValues;
  /** Long names the user actually gave. */
  set: Set<string>;
  args: string[];
}

/** A usage mistake: docker prints it with the command's usage line and exits with `code`. */
export class UsageError extends Error {
  readonly code: number;
  readonly spec: CommandSpec | undefined;
  /** Wording of the trailing hint: flag errors say "Run", arity errors say "See". */
  readonly hint: "Run" | "See";

  constructor(message: string, opts: { code: number; spec?: CommandSpec; hint?: "Run" | "See" }) {
    super(message);
    this.name = "UsageError";
    this.code = opts.code;
    this.spec = opts.spec;
    this.hint = opts.hint ?? "Run";
  }
}

/** Thrown by parse when `-h`/`--help` was given. */
export class HelpRequested extends Error {}

function flagLabel(f: FlagSpec): string {
  return f.short ? `-${f.short}, --${f.name}` : `--${f.name}`;
}

function parseBool(v: string, f: FlagSpec, spec: CommandSpec): boolean {
  if (/^(1|t|T|TRUE|true|True)$/.test(v)) return true;
  if (/^(0|f|F|FALSE|false|False)$/.test(v)) return false;
  throw new UsageError(
    `invalid argument "${v}" for "${flagLabel(f)}" flag: strconv.ParseBool: parsing "${v}": invalid syntax`,
    {
      code: 125,
      spec,
    },
  );
}

function parseIntFlag(v: string, f: FlagSpec, spec: CommandSpec): number {
  if (!/^[+-]?\d+$/.test(v)) {
    throw new UsageError(
      `invalid argument "${v}" for "${flagLabel(f)}" flag: strconv.ParseInt: parsing "${v}": invalid syntax`,
      {
        code: 125,
        spec,
      },
    );
  }
  return Number(v);
}

/** Parses `argv` (after the command name) against a spec. */
export function parseArgs(spec: CommandSpec, argv: string[]): Parsed {
  const flags: FlagValues = {};
  for (const f of spec.flags) flags[f.name] = f.type === "list" ? [] : f.default;
  const set = new Set<string>();
  const put = (f: FlagSpec, raw: string | undefined): void => {
    set.add(f.name);
    if (f.type === "bool") flags[f.name] = raw === undefined ? true : parseBool(raw, f, spec);
    else if (f.type === "int") flags[f.name] = parseIntFlag(raw ?? "", f, spec);
    else if (f.type === "list") (flags[f.name] as string[]).push(raw ?? "");
    else flags[f.name] = raw ?? "";
  };
  const fail = (message: string): never => {
    throw new UsageError(message, { code: 125, spec });
  };
  const help = (): never => {
    throw new HelpRequested();
  };
  const args = scanFlags(argv, spec.flags, { put, fail, help, interspersed: spec.interspersed !== false });
  checkArity(spec, args);
  return { flags, set, args };
}

function plural(n: number): string {
  return n === 1 ? "argument" : "arguments";
}

function checkArity(spec: CommandSpec, args: string[]): void {
  const { minArgs = 0, maxArgs = Number.POSITIVE_INFINITY } = spec;
  const cmd = `'wharf ${spec.name}'`;
  const n = args.length;
  let msg: string | undefined;
  let hint: "Run" | "See" = "Run";
  if (maxArgs === 0) {
    if (n > 0) msg = `${cmd} accepts no arguments`;
  } else if (minArgs === maxArgs) {
    if (n !== minArgs) msg = `${cmd} requires ${minArgs} ${plural(minArgs)}`;
  } else if (maxArgs !== Number.POSITIVE_INFINITY && minArgs > 0) {
    if (n < minArgs || n > maxArgs)
      msg = `${cmd} requires at least ${minArgs} and at most ${maxArgs} ${plural(maxArgs)}`;
  } else if (n < minArgs) {
    msg = `${cmd} requires at least ${minArgs} ${plural(minArgs)}`;
    hint = "See";
  } else if (n > maxArgs) {
    // docker prints a garbled "SRun" here; the plain hint reads better and nothing parses it.
    msg = `${cmd} requires at most ${maxArgs} ${plural(maxArgs)}`;
  }
  if (msg) throw new UsageError(`wharf: ${msg}`, { code: 1, spec, hint });
}

/** The text docker prints after a usage error: message, usage line and a hint. */
export function usageErrorText(err: UsageError): string {
  if (!err.spec) return `${err.message}\n\nRun 'wharf --help' for more information\n`;
  return `${err.message}\n\nUsage:  wharf ${err.spec.usage}\n\n${err.hint} 'wharf ${err.spec.name} --help' for more information\n`;
}

/** Help text in docker's layout. */
export function helpText(spec: CommandSpec): string {
  let s = `\nUsage:  wharf ${spec.usage}\n\n${spec.desc}\n`;
  if (spec.aliases?.length) s += `\nAliases:\n  ${spec.aliases.map((a) => `wharf ${a}`).join(", ")}\n`;
  const visible = spec.flags.filter((f) => !f.hidden);
  if (visible.length) {
    const rows = visible
      .slice()
      .sort((a, b) => a.name.localeCompare(b.name))
      .map((f) => {
        const head = f.short ? `  -${f.short}, --${f.name}` : `      --${f.name}`;
        const tn = f.type === "bool" ? "" : ` ${f.typeName ?? f.type}`;
        let desc = f.desc;
        if (f.default !== undefined && f.default !== "" && f.default !== false) {
          desc += ` (default ${typeof f.default === "string" && f.type === "string" ? JSON.stringify(f.default) : f.default})`;
        }
        return [head + tn, desc];
      });
    const w = Math.max(...rows.map((r) => r[0].length)) + 3;
    s += `\nOptions:\n${rows.map(([h, d]) => h.padEnd(w) + d).join("\n")}\n`;
  }
  return s;
}
