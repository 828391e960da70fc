import { execFile } from "node:child_process";
import { ConflictError, NotFoundError } from "../errdefs/index.ts";
import { OciRuntimeError, parseRuncStderr } from "./errors.ts";

/** The runc command line for one state root (`--root`), so two daemons never see each other's containers. */
export class Runc {
  readonly path: string;
  readonly root: string;
  constructor(path: string, root: string) {
    this.path = path;
    this.root = root;
  }

  /**
   * Runs `runc --root R <args>` (with `input` on its stdin); a failure becomes NotFound/Conflict/
   * OciRuntimeError with runc's message.
   */
  run(op: string, args: string[], opts: { input?: string } = {}): Promise<string> {
    return new Promise((resolve, reject) => {
      const child = execFile(
        this.path,
        ["--root", this.root, ...args],
        {
          encoding: "utf8",
          maxBuffer: 16 * 1024 * 1024,
          env: { PATH: process.env.PATH ?? "/usr/sbin:/usr/bin:/sbin:/bin" },
        },
        (err, stdout, stderr) => {
          if (!err) return resolve(stdout);
          reject(runcError(op, parseRuncStderr(stderr) || err.message, err));
        },
      );
      if (opts.input !== undefined) child.stdin?.end(opts.input);
    });
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
