/** `compose config`: the resolved model as YAML or JSON, or parts of it. */
import { writeFile } from "node:fs/promises";
import { stringify } from "yaml";
import { configHash } from "../model.ts";
import type { Project, ServiceConfig } from "../types.ts";
import { bool, type Flag, flag, parseFlags, str } from "./args.ts";
import type { ComposeContext } from "./context.ts";

/** Flags of `config`. */
export const CONFIG_FLAGS: Flag[] = [
  flag.bool("services", "Print the service names, one per line"),
  flag.bool("volumes", "Print the volume names, one per line"),
  flag.bool("networks", "Print the network names, one per line"),
  flag.bool("profiles", "Print the profile names, one per line"),
  flag.bool("images", "Print the image names, one per line"),
  flag.string("hash", 'Print the service config hash, one per line ("*" for all)'),
  flag.bool("quiet", "Only validate the configuration, don't print anything", { short: "q" }),
  flag.string("format", "Format the output. Values: [yaml | json]", { default: "yaml" }),
  flag.string("output", "Save to file (default to stdout)", { short: "o" }),
  flag.bool("no-interpolate", "Don't interpolate environment variables"),
  flag.bool("no-path-resolution", "Don't resolve file paths"),
];

const MOUNT_ORDER = [
  "type",
  "source",
  "target",
  "read_only",
  "consistency",
  "bind",
  "volume",
  "tmpfs",
  "image",
];

function ordered(o: Record<string, unknown>, order: string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const k of order) if (o[k] !== undefined) out[k] = o[k];
  for (const [k, v] of Object.entries(o)) if (!(k in out) && v !== undefined) out[k] = v;
  return out;
}

function serviceOut(s: ServiceConfig): Record<string, unknown> {
  const { name: _name, ...rest } = s;
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(rest).sort()) {
    const v = rest[k];
    if (v === undefined) continue;
    if (k === "volumes" && Array.isArray(v))
      out[k] = v.map((m) => ordered(m as Record<string, unknown>, MOUNT_ORDER));
    else out[k] = v;
  }
  return out;
}

/** The model as docker compose prints it: name, services, networks, volumes, secrets, configs, x-*. */
export function projectToDocument(p: Project): Record<string, unknown> {
  const doc: Record<string, unknown> = { name: p.name };
  doc.services = Object.fromEntries(Object.entries(p.services).map(([n, s]) => [n, serviceOut(s)]));
  if (Object.keys(p.networks).length) doc.networks = p.networks;
  if (Object.keys(p.volumes).length) doc.volumes = p.volumes;
  if (Object.keys(p.secrets).length) doc.secrets = p.secrets;
  if (Object.keys(p.configs).length) doc.configs = p.configs;
  Object.assign(doc, p.extensions);
  return doc;
}

/** Runs `config`. */
export async function configCommand(ctx: ComposeContext, argv: string[]): Promise<number> {
  const f = parseFlags(argv, CONFIG_FLAGS);
  const project = await ctx.project({
    services: f.args,
    noInterpolate: bool(f, "no-interpolate"),
    noPathResolution: bool(f, "no-path-resolution"),
  });
  if (f.args.length > 0) {
    for (const n of Object.keys(project.services)) if (!f.args.includes(n)) delete project.services[n];
  }
  const lines = (xs: string[]) => {
    ctx.print(xs.map((x) => `${x}\n`).join(""));
    return 0;
  };
  if (bool(f, "services")) return lines(Object.keys(project.services));
  if (bool(f, "volumes")) return lines(Object.keys(project.volumes));
  if (bool(f, "networks")) return lines(Object.keys(project.networks));
  if (bool(f, "profiles")) {
    const all = new Set<string>();
    for (const s of [...Object.values(project.services), ...Object.values(project.disabledServices)]) {
      for (const p of s.profiles ?? []) all.add(p);
    }
    return lines([...all].sort());
  }
  if (bool(f, "images")) {
    return lines(Object.values(project.services).map((s) => s.image ?? `${project.name}-${s.name}`));
  }
  const hash = str(f, "hash");
  if (hash !== undefined) {
    const wanted = hash === "*" ? Object.keys(project.services) : hash.split(",");
    return lines(
      wanted.filter((n) => project.services[n]).map((n) => `${n} ${configHash(project.services[n])}`),
    );
  }
  if (bool(f, "quiet")) return 0;
  const doc = projectToDocument(project);
  const text =
    str(f, "format") === "json"
      ? `${JSON.stringify(doc, null, 2)}\n`
      : stringify(doc, { lineWidth: 0, indent: 2, indentSeq: true, aliasDuplicateObjects: false });
  const output = str(f, "output");
  if (output) await writeFile(output, text);
  else ctx.print(text);
  return 0;
}
