/** A small pflag-style parser for compose's flags: `-d`, `-dt`, `-f a -f b`, `--scale=web=2`, `--`. */

/** Kinds of flag values. */
export type FlagKind = "bool" | "string" | "int" | "list";

/** One flag. */
export interface Flag {
  name: string;
  short?: string;
  kind: FlagKind;
  desc: string;
  default?: string | number | boolean;
}

/** Parsed flags by long name, and positional arguments. */
export interface Parsed {
  flags: Record<string, string | number | boolean | string[] | undefined>;
  args: string[];
}

/** A usage mistake (exit code 1, like docker compose's flag errors). */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}

/**
 * Parses `argv` against `flags`. With `stopAtPositional` the first positional argument ends flag parsing
 * (for `exec`/`run`, whose trailing words belong to the container).
 */
export function parseFlags(argv: string[], flags: Flag[], opts: { stopAtPositional?: boolean } = {}): Parsed {
  const out: Parsed = { flags: {}, args: [] };
  for (const f of flags) {
    out.flags[f.name] = f.kind === "list" ? [] : f.default;
  }
  const byLong = new Map(flags.map((f) => [f.name, f]));
  const byShort = new Map(flags.filter((f) => f.short).map((f) => [f.short as string, f]));
  const set = (f: Flag, value: string | undefined, next: () => string) => {
    if (f.kind === "bool") {
      out.flags[f.name] = value === undefined ? true : !["false", "0"].includes(value);
      return;
    }
    const v = value ?? next();
    if (f.kind === "int") {
      if (!/^-?\d+$/.test(v))
        throw new UsageError(`invalid argument "${v}" for "--${f.name}" flag: not an integer`);
      out.flags[f.name] = Number(v);
    } else if (f.kind === "list") (out.flags[f.name] as string[]).push(v);
    else out.flags[f.name] = v;
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const next = () => {
      if (i + 1 >= argv.length) throw new UsageError(`flag needs an argument: ${a}`);
      return argv[++i];
    };
    if (a === "--") {
      out.args.push(...argv.slice(i + 1));
      break;
    }
    if (a.startsWith("--")) {
      const eq = a.indexOf("=");
      const name = eq >= 0 ? a.slice(2, eq) : a.slice(2);
      const f = byLong.get(name);
      if (!f) throw new UsageError(`unknown flag: --${name}`);
      set(f, eq >= 0 ? a.slice(eq + 1) : undefined, next);
    } else if (a.startsWith("-") && a.length > 1) {
      for (let j = 1; j < a.length; j++) {
        const f = byShort.get(a[j]);
        if (!f) throw new UsageError(`unknown shorthand flag: '${a[j]}' in ${a}`);
        if (f.kind === "bool") {
          set(f, undefined, next);
          continue;
        }
        const rest = a.slice(j + 1).replace(/^=/, "");
        set(f, rest === "" ? undefined : rest, next);
        break;
      }
    } else {
      out.args.push(a);
      if (opts.stopAtPositional) {
        out.args.push(...argv.slice(i + 1));
        break;
      }
    }
  }
  return out;
}

/** Reads a string flag. */
export function str(p: Parsed, name: string): string | undefined {
  const v = p.flags[name];
  return typeof v === "string" ? v : undefined;
}

/** Reads a boolean flag. */
export function bool(p: Parsed, name: string): boolean {
  return p.flags[name] === true;
}

/** Reads a list flag. */
export function list(p: Parsed, name: string): string[] {
  const v = p.flags[name];
  return Array.isArray(v) ? v : [];
}

/** Reads an int flag. */
export function int(p: Parsed, name: string): number | undefined {
  const v = p.flags[name];
  return typeof v === "number" ? v : undefined;
}

/** Help text for a command: usage, description and flags. */
export function helpText(usage: string, desc: string, flags: Flag[]): string {
  const rows = flags.map((f) => {
    const left = `${f.short ? `-${f.short}, ` : "    "}--${f.name}${f.kind === "bool" ? "" : ` ${f.kind === "list" ? "stringArray" : f.kind}`}`;
    return `  ${left.padEnd(32)} ${f.desc}`;
  });
  return `Usage:  ${usage}\n\n${desc}\n${rows.length ? `\nOptions:\n${rows.join("\n")}\n` : ""}`;
}
