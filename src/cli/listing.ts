// Scaffolding shared by the list and prune commands of every object type (containers, images, networks,
// volumes), so their flags, `-q`/`--format` handling and confirmations stay alike.
import { type FlagSpec, flag, type Parsed } from "./args.ts";
import {
  bool,
  type Cli,
  type CommandDef,
  confirm,
  filterFlag,
  filtersFrom,
  list,
  str,
  write,
} from "./common.ts";
import { type ParsedFormat, parseFormat } from "./format/index.ts";

/** The output format of a listing: `--format`, else only `quiet` (e.g. `{{.ID}}`) with `-q`, else `table`. */
export function listFormat(p: Parsed, opts: { quiet: string; table: string }): ParsedFormat {
  const format = str(p, "format") || (bool(p, "quiet") ? opts.quiet : "");
  return parseFormat(format || undefined, opts.table);
}

/** What differs between prune commands. */
export interface PruneOptions {
  name: string;
  desc: string;
  /** The example in `--filter`'s help, e.g. `until=<timestamp>`. */
  filterExample: string;
  /** Flags before `--filter` and `--force` (e.g. `--all`). */
  flags?: FlagSpec[];
  /** The confirmation asked unless `--force`. */
  warning: (p: Parsed) => string;
  /** Prunes with the parsed `--filter` values and returns the report to print. */
  prune: (cli: Cli, p: Parsed, filters: Record<string, string[]> | undefined) => Promise<string>;
}

/** A `TYPE prune` command: asks (unless `-f`), prunes, prints the report. */
export function pruneCommand(o: PruneOptions): CommandDef {
  return {
    spec: {
      name: o.name,
      usage: `${o.name} [OPTIONS]`,
      desc: o.desc,
      maxArgs: 0,
      flags: [
        ...(o.flags ?? []),
        filterFlag(`Provide filter values (e.g. "${o.filterExample}")`),
        flag.bool("force", "Do not prompt for confirmation", { short: "f" }),
      ],
    },
    async run(cli, p) {
      // A malformed filter fails before the question, as docker checks flags first.
      const filters = filtersFrom(list(p, "filter"));
      if (!bool(p, "force") && !(await confirm(cli, o.warning(p)))) return 0;
      await write(cli.out, await o.prune(cli, p, filters));
      return 0;
    },
  };
}
