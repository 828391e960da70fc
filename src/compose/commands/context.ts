/** What every compose command gets: streams, global options, the project loader and an engine client. */
import type { Readable, Writable } from "node:stream";
import { EngineClient, resolveHost } from "../../client/index.ts";
import { ComposeEngine } from "../engine.ts";
import { LoadError, loadProject } from "../load/index.ts";
import type { Project } from "../types.ts";
import { bool, type Flag, flag, list, type Parsed, str } from "./args.ts";

/** docker compose's global flags. */
export const GLOBAL_FLAGS: Flag[] = [
  flag.list("file", "Compose configuration files", { short: "f" }),
  flag.string("project-name", "Project name", { short: "p" }),
  flag.string("project-directory", "Specify an alternate working directory"),
  flag.list("profile", "Specify a profile to enable"),
  flag.list("env-file", "Specify an alternate environment file"),
  flag.string("ansi", 'Control when to print ANSI control characters ("never"|"always"|"auto")', {
    default: "auto",
  }),
  flag.string("progress", "Set type of progress output (auto, tty, plain, json, quiet)"),
  flag.int("parallel", "Control max parallelism, -1 for unlimited", { default: -1 }),
  flag.bool("compatibility", "Run compose in backward compatibility mode"),
  flag.bool("dry-run", "Execute command in dry run mode"),
  flag.string("host", "Daemon socket to connect to", { short: "H" }),
  flag.bool("help", "Print usage"),
];

/** Streams and environment of one invocation (tests pass their own). */
export interface ComposeIO {
  out: Writable;
  err: Writable;
  in?: Readable;
  env?: Record<string, string | undefined>;
  cwd?: string;
}

/** A command's context. */
export class ComposeContext {
  readonly io: ComposeIO;
  readonly global: Parsed;
  #engine: ComposeEngine | undefined;

  constructor(io: ComposeIO, global: Parsed) {
    this.io = io;
    this.global = global;
  }

  get env(): Record<string, string | undefined> {
    return this.io.env ?? process.env;
  }

  /** True when output may carry colours (`--ansi`, NO_COLOR, a TTY). */
  get color(): boolean {
    const ansi = str(this.global, "ansi") ?? "auto";
    if (ansi === "never") return false;
    if (ansi === "always") return true;
    if (this.env.NO_COLOR) return false;
    return (this.io.out as { isTTY?: boolean }).isTTY === true;
  }

  /** Quiet progress (`--progress quiet`). */
  get quiet(): boolean {
    return str(this.global, "progress") === "quiet";
  }

  /** Loads the project; `services` are those named on the command line (they enable their profiles). */
  project(
    opts: { services?: string[]; noInterpolate?: boolean; noPathResolution?: boolean } = {},
  ): Promise<Project> {
    return loadProject({
      cwd: this.io.cwd,
      env: this.env,
      files: list(this.global, "file"),
      projectName: str(this.global, "project-name"),
      projectDirectory: str(this.global, "project-directory"),
      profiles: list(this.global, "profile"),
      envFiles: list(this.global, "env-file"),
      services: opts.services,
      noInterpolate: opts.noInterpolate,
      noPathResolution: opts.noPathResolution,
      readStdin: () => readAll(this.io.in ?? process.stdin),
      onWarning: (m) => this.warn(m),
    });
  }

  /**
   * The project name alone, for commands that work without a compose file (`down -p x`, `ps -p x`):
   * `-p` or COMPOSE_PROJECT_NAME when given, else the loaded project's name.
   */
  async projectName(): Promise<{ name: string; project?: Project }> {
    const flag = str(this.global, "project-name");
    try {
      const project = await this.project();
      return { name: project.name, project };
    } catch (err) {
      if (flag && err instanceof LoadError && /no configuration file provided/.test(err.message)) {
        return { name: flag };
      }
      throw err;
    }
  }

  /** The engine client (made on first use). */
  engine(): ComposeEngine {
    if (!this.#engine) {
      const host = resolveHost(str(this.global, "host"), this.env as NodeJS.ProcessEnv);
      this.#engine = new ComposeEngine(new EngineClient({ host }));
    }
    return this.#engine;
  }

  /** Closes the client's idle connections. */
  close(): void {
    this.#engine?.client.close();
  }

  /** Writes to stdout. */
  print(s: string): void {
    this.io.out.write(s);
  }

  /** A warning on stderr, as docker compose prints them. */
  warn(message: string): void {
    this.io.err.write(`WARN[0000] ${message}\n`);
  }

  /** One progress line on stderr: ` Container p-web-1  Started`. */
  progress(kind: string, name: string, status: string): void {
    if (this.quiet) return;
    this.io.err.write(` ${kind} ${name}  ${status}\n`);
  }

  /** True when `--dry-run` was given. */
  get dryRun(): boolean {
    return bool(this.global, "dry-run");
  }
}

async function readAll(s: Readable): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of s) chunks.push(typeof c === "string" ? Buffer.from(c) : (c as Buffer));
  return Buffer.concat(chunks).toString("utf8");
}
