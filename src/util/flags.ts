/**
 * The command-line syntax of Go's pflag, which docker and docker compose use: `-it`, `-eK=V`, `-e=K=V`,
 * `--name=x`, `--name x`, repeated flags, `--rm=false`, `--` to end the flags, and optionally flags only
 * before the first positional argument. The CLI and compose each turn values into their types and word
 * their own errors; this reads the words.
 */

/** What the scanner needs to know of a flag. */
export interface FlagShape {
  name: string;
  short?: string;
  /** Other long names accepted for it. */
  aliases?: string[];
  /** A bool takes no value unless one is joined to it (`--rm=false`, `-d=false`). */
  type: "bool" | string;
}

/** Kinds of flag values: a bool, one string, an integer, or a list of every value given. */
export type FlagType = "bool" | "string" | "int" | "list";

/** One flag of a command, as the CLI and compose declare it. */
export interface FlagSpec extends FlagShape {
  type: FlagType;
  /** The value-type word the CLI's help shows (`string`, `list`, `int`, `filter`, `bytes`, `duration`...). */
  typeName?: string;
  default?: string | number | boolean;
  desc: string;
  hidden?: boolean;
}

/** What a flag may say besides its name, kind and description. */
export type FlagOptions = Omit<FlagSpec, "name" | "type" | "desc">;

function declare(type: FlagType) {
  return (name: string, desc: string, opts: FlagOptions = {}): FlagSpec => ({ name, type, desc, ...opts });
}

/**
 * Flag declarations by kind, as pflag's BoolVar/StringVar/IntVar/StringArrayVar: `flag.bool("rm", "...")`,
 * `flag.list("env", "...", { short: "e" })`. The CLI's and compose's flag tables are written with them.
 */
export const flag = {
  bool: declare("bool"),
  string: declare("string"),
  int: declare("int"),
  list: declare("list"),
};

/** Parsed flag values by long name; lists are arrays; unset flags take their default. */
export type FlagValues = Record<string, string | number | boolean | string[] | undefined>;

/** How one caller of scanFlags takes what it finds. */
export interface ScanHooks<F extends FlagShape> {
  /** One flag given, with its value as typed (undefined for a bool without a joined value). */
  put(flag: F, raw: string | undefined): void;
  /** A usage mistake, in pflag's words (`unknown flag: --x`); it throws the caller's error. */
  fail(message: string): never;
  /** Called for `--help`, and `-h` where no flag has that shorthand; without it they are unknown flags. */
  help?(): never;
  /** False: the first positional argument ends the flags (the rest belongs to the container). */
  interspersed?: boolean;
}

/** Reads `argv` against `flags`, handing each flag to `hooks.put`; returns the positional arguments. */
export function scanFlags<F extends FlagShape>(argv: string[], flags: F[], hooks: ScanHooks<F>): string[] {
  const byLong = new Map<string, F>();
  const byShort = new Map<string, F>();
  for (const f of flags) {
    byLong.set(f.name, f);
    for (const a of f.aliases ?? []) byLong.set(a, f);
    if (f.short) byShort.set(f.short, f);
  }
  const args: string[] = [];
  let i = 0;
  for (; i < argv.length; i++) {
    const a = argv[i];
    if (a === "--") {
      i++;
      break;
    }
    if (a.startsWith("--")) {
      const eq = a.indexOf("=");
      const name = eq < 0 ? a.slice(2) : a.slice(2, eq);
      if (name === "help" && hooks.help) hooks.help();
      const f = byLong.get(name);
      if (!f) hooks.fail(`unknown flag: --${name}`);
      if (eq >= 0) hooks.put(f, a.slice(eq + 1));
      else if (f.type === "bool") hooks.put(f, undefined);
      else if (i + 1 < argv.length) hooks.put(f, argv[++i]);
      else hooks.fail(`flag needs an argument: --${name}`);
      continue;
    }
    if (a.startsWith("-") && a.length > 1) {
      // A cluster of shorthand flags: -it, -p8080:80, -e=K=V.
      for (let j = 1; j < a.length; j++) {
        const c = a[j];
        if (c === "h" && hooks.help && !byShort.has("h")) hooks.help();
        const f = byShort.get(c);
        if (!f) hooks.fail(`unknown shorthand flag: '${c}' in ${a}`);
        const rest = a.slice(j + 1);
        if (f.type === "bool") {
          if (rest.startsWith("=")) {
            hooks.put(f, rest.slice(1));
            break;
          }
          hooks.put(f, undefined);
          continue;
        }
        if (rest.length > 0) hooks.put(f, rest.startsWith("=") ? rest.slice(1) : rest);
        else if (i + 1 < argv.length) hooks.put(f, argv[++i]);
        else hooks.fail(`flag needs an argument: '${c}' in ${a}`);
        break;
      }
      continue;
    }
    args.push(a);
    if (hooks.interspersed === false) {
      i++;
      break;
    }
  }
  args.push(...argv.slice(i));
  return args;
}

/** Reads a boolean flag. */
export function flagBool(p: { flags: FlagValues }, name: string): boolean {
  return p.flags[name] === true;
}

/** Reads a list flag. */
export function flagList(p: { flags: FlagValues }, name: string): string[] {
  const v = p.flags[name];
  return Array.isArray(v) ? v : [];
}

/** Reads an int flag, or undefined when unset. */
export function flagInt(p: { flags: FlagValues }, name: string): number | undefined {
  const v = p.flags[name];
  return typeof v === "number" ? v : undefined;
}
