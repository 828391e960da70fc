import { execFile, spawn } from "node:child_process";
import { EventEmitter } from "node:events";
import type { Readable, Writable } from "node:stream";
import { SystemError } from "../errdefs/index.ts";
import type { Child, Processes, RunOptions, SpawnOptions } from "./types.ts";

/**
 * A child whose pipes are its `stdio`, shown as node's ChildProcess shows them: `stdin`, `stdout`, `stderr`
 * are the first three (null where not piped). The worker's children and the fake's share it.
 */
export abstract class PipedChild extends EventEmitter {
  abstract readonly stdio: (Readable | Writable | null)[];
  get stdin(): Writable | null {
    return (this.stdio[0] as Writable | null) ?? null;
  }
  get stdout(): Readable | null {
    return (this.stdio[1] as Readable | null) ?? null;
  }
  get stderr(): Readable | null {
    return (this.stdio[2] as Readable | null) ?? null;
  }
}

/** A program that ran and failed: its exit code (undefined when it could not start or was killed) and output. */
export class ProcessError extends SystemError {
  readonly exitCode: number | undefined;
  readonly stdout: string;
  readonly stderr: string;
  constructor(
    message: string,
    o: { exitCode?: number | undefined; stdout?: string; stderr?: string; cause?: unknown },
  ) {
    super(message, { cause: o.cause });
    this.exitCode = o.exitCode;
    this.stdout = o.stdout ?? "";
    this.stderr = o.stderr ?? "";
  }
}

/** Processes through node:child_process. */
export const realProcesses: Processes = {
  run(file: string, args: readonly string[], opts: RunOptions = {}): Promise<string> {
    return new Promise((resolve, reject) => {
      const child = execFile(
        file,
        args,
        {
          encoding: "utf8",
          maxBuffer: opts.maxBuffer ?? 16 * 1024 * 1024,
          ...(opts.env ? { env: opts.env } : {}),
          ...(opts.cwd ? { cwd: opts.cwd } : {}),
        },
        (err, stdout, stderr) => {
          if (!err) return resolve(stdout);
          const code = typeof err.code === "number" ? err.code : undefined;
          reject(new ProcessError(err.message, { exitCode: code, stdout, stderr, cause: err }));
        },
      );
      if (opts.input !== undefined) child.stdin?.end(opts.input);
    });
  },
  spawn(file: string, args: readonly string[], opts: SpawnOptions): Child {
    return spawn(file, args, {
      stdio: [...opts.stdio],
      ...(opts.env ? { env: opts.env } : {}),
      ...(opts.cwd ? { cwd: opts.cwd } : {}),
      ...(opts.detached ? { detached: true } : {}),
    });
  },
  kill(pid: number, signal: number | NodeJS.Signals): void {
    process.kill(pid, signal);
  },
};
