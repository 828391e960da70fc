/**
 * Loading a project the way docker compose does: which files (`-f`, COMPOSE_FILE, else compose.yaml and
 * friends from the working directory upward, plus the override file beside it), which directory, which
 * environment (shell over `--env-file` or `.env`), which name (`-p`, COMPOSE_PROJECT_NAME, `name:`, the
 * directory's name), then per file parse → interpolate → validate → canonical syntax → extends, then merge
 * and normalise.
 */
import { existsSync, statSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { basename, dirname, join, resolve } from "node:path";
import type { Project } from "../types.ts";
import { canonicalFile } from "./canonical.ts";
import { readEnvFile } from "./envfile.ts";
import { LoadError } from "./errors.ts";
import { type LoadedFile, resolveExtends } from "./extends.ts";
import { interpolateTree } from "./interpolate.ts";
import { mergeFiles } from "./merge.ts";
import { normalizeProject } from "./normalize.ts";
import { validateFile } from "./validate.ts";
import { type Dict, isDict, parseComposeYaml, untag } from "./yaml.ts";

/** The file names docker compose looks for, in its order of preference. */
export const DEFAULT_FILES = ["compose.yaml", "compose.yml", "docker-compose.yml", "docker-compose.yaml"];
/** The override files it merges over a default file found in the same directory. */
export const OVERRIDE_FILES = [
  "compose.override.yaml",
  "compose.override.yml",
  "docker-compose.override.yml",
  "docker-compose.override.yaml",
];

/** Options of loadProject, mirroring docker compose's global flags. */
export interface LoadOptions {
  /** Where the command runs (default: process.cwd()). */
  cwd?: string;
  /** `-f` (repeatable; `-` reads stdin). */
  files?: string[];
  /** `-p`. */
  projectName?: string;
  /** `--project-directory`. */
  projectDirectory?: string;
  /** `--profile` (repeatable). */
  profiles?: string[];
  /** `--env-file` (repeatable). */
  envFiles?: string[];
  /** The shell environment (default: process.env). */
  env?: Record<string, string | undefined>;
  /** Services named on the command line (they are enabled whatever their profiles). */
  services?: string[];
  /** Reads `-f -`. */
  readStdin?: () => Promise<string>;
  /** Skip interpolation (`config --no-interpolate`). */
  noInterpolate?: boolean;
  /** Leave relative paths alone (`config --no-path-resolution`). */
  noPathResolution?: boolean;
  onWarning?: (message: string) => void;
}

const PROJECT_NAME_RE = /^[a-z0-9][a-z0-9_-]*$/;

/** Docker compose's normalisation of a directory name: lower case, only `[a-z0-9_-]`, no leading `_`/`-`. */
export function normalizeProjectName(s: string): string {
  return s
    .toLowerCase()
    .replace(/[^a-z0-9_-]/g, "")
    .replace(/^[_-]+/, "");
}

function checkProjectName(name: string): string {
  if (!name) throw new LoadError("project name must not be empty");
  if (!PROJECT_NAME_RE.test(name)) {
    throw new LoadError(
      `invalid project name ${JSON.stringify(name)}: must consist only of lowercase alphanumeric characters, hyphens, and underscores as well as start with a letter or number`,
    );
  }
  return name;
}

/** Finds the default compose file from `dir` upward; also returns the override file beside it. */
export function findDefaultFiles(dir: string, onWarning?: (m: string) => void): string[] | undefined {
  for (let d = resolve(dir); ; d = dirname(d)) {
    const found = DEFAULT_FILES.filter((f) => isFile(join(d, f)));
    if (found.length > 0) {
      if (found.length > 1) {
        onWarning?.(
          `Found multiple config files with supported names: ${found.map((f) => join(d, f)).join(", ")}`,
        );
        onWarning?.(`Using ${join(d, found[0])}`);
      }
      const overrides = OVERRIDE_FILES.filter((f) => isFile(join(d, f)));
      if (overrides.length > 1) {
        onWarning?.(
          `Found multiple override files with supported names: ${overrides.map((f) => join(d, f)).join(", ")}`,
        );
        onWarning?.(`Using ${join(d, overrides[0])}`);
      }
      return [join(d, found[0]), ...overrides.slice(0, 1).map((f) => join(d, f))];
    }
    if (dirname(d) === d) return undefined;
  }
}

function isFile(p: string): boolean {
  try {
    return statSync(p).isFile();
  } catch {
    return false;
  }
}

function cleanEnv(env: Record<string, string | undefined>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(env)) if (v !== undefined) out[k] = v;
  return out;
}

async function dotEnv(
  paths: string[],
  shell: Record<string, string>,
  onWarning?: (m: string) => void,
): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const p of paths) {
    const vars = await readEnvFile(p, { lookup: (k) => shell[k] ?? out[k], onWarning });
    for (const [k, v] of vars) if (v !== undefined) out[k] = v;
  }
  return out;
}

/** Everything decided before files are read: which files, which directory, which environment. */
export interface ProjectSetup {
  files: string[];
  workingDir: string;
  environment: Record<string, string>;
}

/** Resolves files, project directory and environment from options, env and `.env`. */
export async function setupProject(opts: LoadOptions): Promise<ProjectSetup> {
  const cwd = resolve(opts.cwd ?? process.cwd());
  const shell = cleanEnv(opts.env ?? process.env);
  const projectDir = opts.projectDirectory ? resolve(cwd, opts.projectDirectory) : undefined;
  const warn = opts.onWarning;
  // `.env` can set COMPOSE_FILE and friends, so read it from where it would be before choosing files.
  const envFileArgs = (opts.envFiles ?? []).map((f) => resolve(cwd, f));
  const early = envFileArgs.length > 0 ? envFileArgs : [join(projectDir ?? cwd, ".env")].filter(isFile);
  let fileEnv = await dotEnv(early, shell, warn);
  const pick = (k: string) => shell[k] ?? fileEnv[k];
  let files: string[];
  if (opts.files && opts.files.length > 0) {
    files = opts.files.map((f) => (f === "-" ? "-" : resolve(cwd, f)));
  } else if (pick("COMPOSE_FILE")) {
    const sep = pick("COMPOSE_PATH_SEPARATOR") ?? ":";
    files = (pick("COMPOSE_FILE") ?? "")
      .split(sep)
      .filter(Boolean)
      .map((f) => resolve(projectDir ?? cwd, f));
  } else {
    const found = findDefaultFiles(projectDir ?? cwd, warn);
    if (!found) throw new LoadError("no configuration file provided: not found");
    files = found;
  }
  for (const f of files) {
    if (f !== "-" && !existsSync(f)) {
      throw new LoadError(`open ${f}: no such file or directory`);
    }
  }
  const first = files.find((f) => f !== "-");
  const workingDir = projectDir ?? (first ? dirname(first) : cwd);
  if (envFileArgs.length === 0 && workingDir !== (projectDir ?? cwd)) {
    // The project directory turned out elsewhere (a file found upward, or -f into another dir).
    fileEnv = await dotEnv([join(workingDir, ".env")].filter(isFile), shell, warn);
  }
  return { files, workingDir, environment: { ...fileEnv, ...shell } };
}

/** Reads, interpolates, validates and canonicalises one file. */
async function loadOne(
  path: string,
  env: Record<string, string>,
  opts: LoadOptions,
  cache: Map<string, LoadedFile>,
): Promise<LoadedFile> {
  const hit = cache.get(path);
  if (hit) return hit;
  let text: string;
  if (path === "-") {
    if (!opts.readStdin) throw new LoadError("reading the compose file from stdin is not supported here");
    text = await opts.readStdin();
  } else {
    try {
      text = await readFile(path, "utf8");
    } catch (err) {
      throw new LoadError(
        `open ${path}: ${(err as NodeJS.ErrnoException).code === "ENOENT" ? "no such file or directory" : (err as Error).message}`,
      );
    }
  }
  let dict = parseComposeYaml(text, path);
  if (!opts.noInterpolate) {
    const seen = new Set<string>();
    const onWarning = (m: string) => {
      if (seen.has(m)) return;
      seen.add(m);
      opts.onWarning?.(m);
    };
    dict = interpolateTree(dict, { lookup: (k) => env[k], onWarning }) as Dict;
  }
  const shown = path === "-" ? "stdin" : path;
  validateFile(untag(dict) as Dict, shown);
  let canonical: Dict;
  try {
    canonical = canonicalFile(dict);
  } catch (err) {
    // Values the schema lets through but that do not parse (`target: abc`) name the file too.
    if (err instanceof LoadError && !err.file) throw new LoadError(`validating ${shown}: ${err.message}`);
    throw err;
  }
  const loaded: LoadedFile = {
    path: path === "-" ? join(opts.cwd ?? process.cwd(), "stdin") : path,
    dict: canonical,
  };
  cache.set(path, loaded);
  return loaded;
}

/** Loads the project the options describe. */
export async function loadProject(opts: LoadOptions = {}): Promise<Project> {
  const setup = await setupProject(opts);
  const env = setup.environment;
  const cache = new Map<string, LoadedFile>();
  let merged: Dict = {};
  for (const f of setup.files) {
    const file = await loadOne(f, env, opts, cache);
    const services = await resolveExtends(file, (p) => loadOne(p, env, opts, cache));
    const dict: Dict = { ...file.dict };
    if (isDict(file.dict.services)) dict.services = services;
    merged = mergeFiles(merged, dict);
  }
  const name = projectNameFor(opts, env, merged, setup.workingDir);
  const profiles = [
    ...(opts.profiles && opts.profiles.length > 0
      ? opts.profiles
      : (env.COMPOSE_PROFILES ?? "").split(",").map((s) => s.trim())),
  ].filter(Boolean);
  return normalizeProject(merged, {
    projectName: name,
    workingDir: setup.workingDir,
    configFiles: setup.files,
    environment: env,
    profiles,
    services: opts.services,
    onWarning: opts.onWarning,
    noPathResolution: opts.noPathResolution,
  });
}

function projectNameFor(
  opts: LoadOptions,
  env: Record<string, string>,
  merged: Dict,
  workingDir: string,
): string {
  if (opts.projectName !== undefined) return checkProjectName(opts.projectName);
  if (env.COMPOSE_PROJECT_NAME) return checkProjectName(env.COMPOSE_PROJECT_NAME);
  if (typeof merged.name === "string" && merged.name !== "") return checkProjectName(merged.name);
  const fromDir = normalizeProjectName(basename(workingDir));
  if (!fromDir)
    throw new LoadError(`project name must not be empty (directory ${JSON.stringify(basename(workingDir))})`);
  return fromDir;
}
