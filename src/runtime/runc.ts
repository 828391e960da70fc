import { ConflictError, NotFoundError } from "../errdefs/index.ts";
import { ProcessError, type Processes } from "../host/index.ts";
import { OciRuntimeError, parseRuncStderr } from "./errors.ts";

/** One OCI runtime as the daemon's configuration names it (Docker's `runtimes` entry). */
export interface OciRuntimeConfig {
  /** The binary; absolute, as conmon needs it. */
  path: string;
  /** Global flags given before every subcommand (Docker's `runtimeArgs`, e.g. runsc's `--platform=ptrace`). */
  runtimeArgs?: string[];
}

/**
 * The command line of one OCI runtime (runc, crun, runsc) under its own state root (`--root`), so two
 * daemons, or two runtimes of one daemon, never see each other's containers. Every call, by the daemon or
 * by conmon, carries the same global flags: `--root` and the configured runtimeArgs.
 */
export class Runc {
  /** The name containers ask for (`--runtime`). */
  readonly name: string;
  readonly path: string;
  readonly root: string;
  /** `--root R` and the configured runtimeArgs, in that order. */
  readonly globalArgs: readonly string[];
  readonly #processes: Processes;
  constructor(
    o: { name: string; path: string; root: string; runtimeArgs?: readonly string[] },
    processes: Processes,
  ) {
    this.name = o.name;
    this.path = o.path;
    this.root = o.root;
    this.globalArgs = [`--root=${o.root}`, ...(o.runtimeArgs ?? [])];
    this.#processes = processes;
  }

  /**
   * Runs `<runtime> <global flags> <args>` (with `input` on its stdin; `via` a wrapper that runs the
   * runtime with the same arguments); a failure becomes NotFound/Conflict/OciRuntimeError with its message.
   */
  async run(op: string, args: string[], opts: { input?: string; via?: string } = {}): Promise<string> {
    try {
      return await this.#processes.run(opts.via ?? this.path, [...this.globalArgs, ...args], {
        env: { PATH: process.env.PATH ?? "/usr/sbin:/usr/bin:/sbin:/bin" },
        ...(opts.input !== undefined ? { input: opts.input } : {}),
      });
    } catch (err) {
      const stderr = err instanceof ProcessError ? err.stderr : "";
      throw runcError(op, parseRuncStderr(stderr) || (err as Error).message, err);
    }
  }
}

/** Maps runc's texts onto our error kinds: a missing container is NotFound, a wrong state is Conflict. */
export function runcError(op: string, msg: string, cause?: unknown): Error {
  if (/container does not exist|container not found|does not exist/i.test(msg)) {
    return new NotFoundError(`container not found: ${msg}`, { cause });
  }
  if (
    /not running|not stopped|is not paused|is paused|already running|has stopped|cannot (?:start|kill|delete)/i.test(
      msg,
    )
  ) {
    return new ConflictError(msg, { cause });
  }
  return new OciRuntimeError(op, msg, { cause });
}
