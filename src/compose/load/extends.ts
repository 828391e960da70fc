/**
 * `extends`: a service takes another service's definition (same file, or `file:` relative to the file
 * that names it) and merges its own over it with the usual merge rules. Bases may extend further; cycles
 * are an error. Relative paths of a base from another directory are made absolute against that directory,
 * so they keep pointing where their author meant.
 */
import { dirname, isAbsolute, resolve } from "node:path";
import { LoadError } from "./errors.ts";
import { mergeService } from "./merge.ts";
import { type Dict, isDict } from "./yaml.ts";

/** A loaded file: its path and its services in canonical syntax. */
export interface LoadedFile {
  path: string;
  dict: Dict;
}

/** Loads another file (interpolated, validated, canonical) for `extends.file`. */
export type FileLoader = (path: string) => Promise<LoadedFile>;

function isRemote(context: string): boolean {
  return /^(https?:\/\/|git@|git:\/\/|github\.com\/)/.test(context) || context.includes(".git#");
}

/** Makes a service's relative paths absolute against `dir` (build context, env files, bind sources). */
export function rebaseService(svc: Dict, dir: string): Dict {
  const abs = (p: string) => (isAbsolute(p) || p.startsWith("~") ? p : resolve(dir, p));
  const out: Dict = { ...svc };
  if (isDict(out.build)) {
    const b = { ...out.build };
    if (typeof b.context === "string" && !isRemote(b.context)) b.context = abs(b.context);
    else if (b.context === undefined) b.context = dir;
    out.build = b;
  }
  if (Array.isArray(out.env_file)) {
    out.env_file = out.env_file.map((e) =>
      isDict(e) && typeof e.path === "string" ? { ...e, path: abs(e.path) } : e,
    );
  }
  if (Array.isArray(out.label_file)) out.label_file = out.label_file.map((p) => abs(String(p)));
  if (Array.isArray(out.volumes)) {
    out.volumes = out.volumes.map((v) =>
      isDict(v) && v.type === "bind" && typeof v.source === "string" ? { ...v, source: abs(v.source) } : v,
    );
  }
  return out;
}

/** Resolves every `extends` in a file's services; returns the services with `extends` gone. */
export async function resolveExtends(file: LoadedFile, load: FileLoader): Promise<Dict> {
  const services = isDict(file.dict.services) ? file.dict.services : {};
  const out: Dict = {};
  for (const name of Object.keys(services)) {
    out[name] = await resolveService(file, name, load, []);
  }
  return out;
}

async function resolveService(
  file: LoadedFile,
  name: string,
  load: FileLoader,
  stack: string[],
): Promise<Dict> {
  const services = isDict(file.dict.services) ? file.dict.services : {};
  const svc = services[name];
  if (!isDict(svc)) return {};
  const ref = `${file.path}:${name}`;
  if (stack.includes(ref)) {
    const chain = [...stack, ref].map((r) => r.slice(r.lastIndexOf(":") + 1));
    throw new LoadError(`circular reference with extends: ${chain.join(" -> ")}`);
  }
  const ext = svc.extends;
  if (ext === undefined) return svc;
  const { extends: _ext, ...local } = svc;
  if (!isDict(ext) || typeof ext.service !== "string") {
    throw new LoadError(`services.${name}.extends: service is required`, { file: file.path });
  }
  let baseFile = file;
  if (typeof ext.file === "string") {
    baseFile = await load(resolve(dirname(file.path), ext.file));
  }
  const baseServices = isDict(baseFile.dict.services) ? baseFile.dict.services : {};
  if (!isDict(baseServices[ext.service])) {
    throw new LoadError(
      `cannot extend service ${JSON.stringify(name)} in ${file.path}: service ${JSON.stringify(ext.service)} not found in ${baseFile.path}`,
    );
  }
  let base = await resolveService(baseFile, ext.service, load, [...stack, ref]);
  if (dirname(baseFile.path) !== dirname(file.path)) base = rebaseService(base, dirname(baseFile.path));
  return mergeService(base, local);
}
