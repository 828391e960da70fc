// `inspect`, `container inspect`, `image inspect`: JSON arrays indented like docker's, or a template per object.
import { isApiError } from "../client/index.ts";
import { type CommandSpec, type FlagSpec, flag, type Parsed } from "./args.ts";
import { bool, type Cli, type CommandDef, errorText, StatusError, str, write } from "./common.ts";
import { compileTemplate, indentJson, type Template, TemplateError } from "./format/index.ts";

type Kind = "container" | "image" | "network" | "volume";

const formatFlag: FlagSpec = flag.string(
  "format",
  "Format output using a custom template: 'json' or 'TEMPLATE' (Go template)",
  { short: "f" },
);
const sizeFlag: FlagSpec = flag.bool("size", "Display total file sizes if the type is container", {
  short: "s",
});

async function fetchOne(cli: Cli, kind: Kind, ref: string, p: Parsed): Promise<unknown> {
  const c = cli.client();
  switch (kind) {
    case "container":
      return c.containerInspect(ref, { size: bool(p, "size") });
    case "image":
      return c.imageInspect(ref);
    case "network":
      return c.networkInspect(ref, { verbose: bool(p, "verbose") });
    case "volume":
      return c.volumeInspect(ref);
  }
}

function sortKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortKeys);
  if (v && typeof v === "object") {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(v).sort()) out[k] = sortKeys((v as Record<string, unknown>)[k]);
    return out;
  }
  return v;
}

function compile(format: string): Template | undefined {
  if (!format) return undefined;
  const src = format === "json" ? "{{json .}}" : format.replace(/\\t/g, "\t").replace(/\\n/g, "\n");
  try {
    return compileTemplate(src);
  } catch (err) {
    if (err instanceof TemplateError) throw new StatusError(64, `template parsing error: ${err.message}`);
    throw err;
  }
}

/** Inspects each ref (trying `kinds` in order) and prints as docker does; exit 1 when any is missing. */
async function inspectRefs(cli: Cli, p: Parsed, kinds: Kind[]): Promise<number> {
  const tmpl = compile(str(p, "format"));
  const found: unknown[] = [];
  const errors: string[] = [];
  let out = "";
  for (const ref of p.args) {
    let obj: unknown;
    let lastErr: unknown;
    for (const k of kinds) {
      try {
        obj = await fetchOne(cli, k, ref, p);
        break;
      } catch (err) {
        lastErr = err;
        if (!isApiError(err, 404)) break;
      }
    }
    if (obj === undefined) {
      if (kinds.length > 1 && isApiError(lastErr, 404)) errors.push(`Error: No such object: ${ref}`);
      else errors.push(errorText(lastErr));
      continue;
    }
    if (tmpl) {
      try {
        out += `${tmpl.execute(obj)}\n`;
      } catch (err) {
        if (err instanceof TemplateError) {
          await write(cli.out, out);
          throw new StatusError(1, err.message);
        }
        throw err;
      }
    } else {
      // Docker prints volumes from its Go struct, whose fields (and maps) come out in sorted order.
      found.push(kinds.length === 1 && kinds[0] === "volume" ? sortKeys(obj) : obj);
    }
  }
  if (tmpl) await write(cli.out, out);
  else await write(cli.out, `${found.length ? indentJson(found) : "[]"}\n`);
  if (errors.length) {
    await write(cli.err, `${errors.join("\n")}\n`);
    return 1;
  }
  return 0;
}

const inspectSpec: CommandSpec = {
  name: "inspect",
  usage: "inspect [OPTIONS] NAME|ID [NAME|ID...]",
  desc: "Return low-level information on Docker objects",
  minArgs: 1,
  flags: [formatFlag, sizeFlag, flag.string("type", "Only inspect objects of the given type")],
};

const inspect: CommandDef = {
  spec: inspectSpec,
  run(cli, p) {
    const type = str(p, "type");
    const all: Kind[] = ["container", "image", "network", "volume"];
    if (type && !all.includes(type as Kind)) {
      throw new StatusError(1, `"${type}" is not a valid value for --type`);
    }
    return inspectRefs(cli, p, type ? [type as Kind] : all);
  },
};

function typed(kind: Kind): CommandDef {
  const what = `${kind.toUpperCase()} [${kind.toUpperCase()}...]`;
  return {
    spec: {
      name: `${kind} inspect`,
      usage: `${kind} inspect [OPTIONS] ${what}`,
      desc: `Display detailed information on one or more ${kind}s`,
      minArgs: 1,
      flags:
        kind === "container"
          ? [formatFlag, sizeFlag]
          : kind === "network"
            ? [formatFlag, flag.bool("verbose", "Verbose output for diagnostics", { short: "v" })]
            : [formatFlag],
    },
    run: (cli, p) => inspectRefs(cli, p, [kind]),
  };
}

/** The inspect commands, by key. */
export const commands: Record<string, CommandDef> = {
  inspect,
  "container inspect": typed("container"),
  "image inspect": typed("image"),
  "volume inspect": typed("volume"),
  "network inspect": typed("network"),
};
