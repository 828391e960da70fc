/** Compose's flags: pflag's syntax (util's scanFlags), values typed and errors worded as compose's. */
import {
  type FlagSpec,
  type FlagValues,
  flag,
  flagBool,
  flagInt,
  flagList,
  scanFlags,
} from "../../util/index.ts";

export type { FlagType } from "../../util/index.ts";

/** One flag: the CLI's declaration (util's), of which compose's help reads the name, kind and description. */
export type Flag = FlagSpec;
/** Flag declarations by kind (util's, shared with the CLI). */
export { flag };

/** Parsed flags by long name, and positional arguments. */
export interface Parsed {
  flags: FlagValues;
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
  const values: FlagValues = {};
  for (const f of flags) values[f.name] = f.type === "list" ? [] : f.default;
  const put = (f: Flag, v: string | undefined): void => {
    if (f.type === "bool") values[f.name] = v === undefined ? true : !["false", "0"].includes(v);
    else if (f.type === "int") {
      if (!/^-?\d+$/.test(v ?? ""))
        throw new UsageError(`invalid argument "${v}" for "--${f.name}" flag: not an integer`);
      values[f.name] = Number(v);
    } else if (f.type === "list") (values[f.name] as string[]).push(v ?? "");
    else values[f.name] = v ?? "";
  };
  const fail = (message: string): never => {
    throw new UsageError(message);
  };
  const args = scanFlags(argv, flags, { put, fail, interspersed: !opts.stopAtPositional });
  return { flags: values, args };
}

/** Reads a string flag. */
export function str(p: Parsed, name: string): string | undefined {
  const v = p.flags[name];
  return typeof v === "string" ? v : undefined;
}

/** Reads a boolean flag. */
export const bool = flagBool;
/** Reads a list flag. */
export const list = flagList;
/** Reads an int flag. */
export const int = flagInt;

/** Help text for a command: usage, description and flags. */
export function helpText(usage: string, desc: string, flags: Flag[]): string {
  const rows = flags.map((f) => {
    const left = `${f.short ? `-${f.short}, ` : "    "}--${f.name}${f.type === "bool" ? "" : ` ${f.type === "list" ? "stringArray" : f.type}`}`;
    return `  ${left.padEnd(32)} ${f.desc}`;
  });
  return `Usage:  ${usage}\n\n${desc}\n${rows.length ? `\nOptions:\n${rows.join("\n")}\n` : ""}`;
}
