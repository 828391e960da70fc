import { ConflictError, NotFoundError } from "../errdefs/index.ts";
import { ProcessError, type Processes } from "../host/index.ts";
import { OciRuntimeError, parseRuncStderr } from "./errors.ts";

/** The runc command line for one state root (`--root`), so two daemons never see each other's containers. */
export class Runc {
  readonly path: string;
  readonly root: string;
  readonly #processes: Processes;
  constructor(path: string, root: string, o: { processes: Processes }) {
    this.path = path;
    this.root = root;
    this.#processes = o.processes;
  }

  /**
   * Runs `runc --root R <args>` (with `input` on its stdin); a failure becomes NotFound/Conflict/
   * OciRuntimeError with runc's message.
   */
  async run(op: string, args: string[], opts: { input?: string } = {}): Promise<string> {
    try {
      return await this.#processes.run(this.path, ["--root", this.root, ...args], {
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
