// The foreground flow shared by `run` and `start -a`: attach (hijacked) and register the wait before
// starting, so no output and no exit is missed; then stream, proxy signals, and return the exit code.
import type { Duplex, Readable } from "node:stream";
import type { WaitCondition } from "../api/types.ts";
import { copyOutput } from "../client/index.ts";
import type { Cli } from "./common.ts";

/** What to attach and how. */
export interface ForegroundOptions {
  id: string;
  tty: boolean;
  stdin: boolean;
  stdout: boolean;
  stderr: boolean;
  /** Wait for removal rather than exit (`--rm`). */
  autoRemove: boolean;
  /** Forward signals to the container (docker's --sig-proxy; only without a TTY). */
  sigProxy: boolean;
  detachKeys?: string;
}

/** Raised when starting failed after attaching; carries the daemon's error. */
export class StartFailed extends Error {
  constructor(cause: unknown) {
    super(cause instanceof Error ? cause.message : String(cause), { cause });
    this.name = "StartFailed";
  }
}

const PROXIED: NodeJS.Signals[] = ["SIGINT", "SIGTERM", "SIGHUP", "SIGQUIT", "SIGUSR1", "SIGUSR2"];

/** Attaches, registers the wait, starts, streams until exit; resolves to the container's exit code. */
export async function runForeground(cli: Cli, opts: ForegroundOptions): Promise<number> {
  const client = cli.client();
  const attachAny = opts.stdin || opts.stdout || opts.stderr;
  let stream: Duplex | Readable | undefined;
  if (attachAny) {
    stream = await client.containerAttach(opts.id, {
      stream: true,
      stdin: opts.stdin,
      stdout: opts.stdout,
      stderr: opts.stderr,
      detachKeys: opts.detachKeys,
    });
  }
  const condition: WaitCondition = opts.autoRemove ? "removed" : "next-exit";
  const wait = await client.containerWait(opts.id, { condition });

  const stdinIn = process.stdin;
  const raw = opts.tty && opts.stdin && stdinIn.isTTY;
  if (raw) stdinIn.setRawMode(true);
  const cleanups: (() => void)[] = [];
  const cleanup = (): void => {
    for (const c of cleanups.splice(0)) c();
    if (raw) stdinIn.setRawMode(false);
  };

  try {
    await client.containerStart(opts.id, { detachKeys: opts.detachKeys });
  } catch (err) {
    cleanup();
    stream?.destroy();
    if (opts.autoRemove) await wait.result.catch(() => undefined);
    throw new StartFailed(err);
  }

  if (opts.tty && process.stdout.isTTY) {
    const resize = (): void => {
      const h = process.stdout.rows;
      const w = process.stdout.columns;
      if (h && w) client.containerResize(opts.id, { h, w }).catch(() => undefined);
    };
    resize();
    process.on("SIGWINCH", resize);
    cleanups.push(() => process.off("SIGWINCH", resize));
  }

  if (opts.sigProxy && !opts.tty) {
    for (const sig of PROXIED) {
      const h = (): void => {
        client.containerKill(opts.id, { signal: sig }).catch(() => undefined);
      };
      process.on(sig, h);
      cleanups.push(() => process.off(sig, h));
    }
  }

  let output: Promise<void> = Promise.resolve();
  if (stream) {
    const s = stream;
    if (opts.stdin && "write" in s) {
      const onData = (chunk: Buffer): void => {
        if (!s.write(chunk)) {
          stdinIn.pause();
          s.once("drain", () => stdinIn.resume());
        }
      };
      // EOF on our stdin half-closes the container's stdin; its output keeps coming.
      const onEnd = (): void => {
        s.end();
      };
      stdinIn.on("data", onData);
      stdinIn.once("end", onEnd);
      stdinIn.resume();
      cleanups.push(() => {
        stdinIn.off("data", onData);
        stdinIn.off("end", onEnd);
        stdinIn.pause();
        // Let the process exit even though stdin is still open.
        (stdinIn as NodeJS.ReadStream & { unref?: () => void }).unref?.();
      });
    }
    output = copyOutput(
      s,
      { stdout: opts.stdout ? cli.out : undefined, stderr: opts.stderr ? cli.err : undefined },
      { tty: opts.tty },
    ).catch((err: unknown) => {
      // The attach connection dropping (daemon restart) is not the container failing.
      if ((err as NodeJS.ErrnoException).code !== "ECONNRESET") throw err;
    });
  }

  try {
    await output;
    const status = await wait.result;
    if (status.Error?.Message) {
      await new Promise<void>((r) => cli.err.write(`${status.Error?.Message}\n`, () => r()));
      return 125;
    }
    return status.StatusCode;
  } finally {
    cleanup();
    stream?.destroy();
  }
}

/** Docker's exit code for a failed start: 127 for a missing command, 126 for one that cannot run, else 125. */
export function startErrorCode(message: string): number {
  if (
    /executable file not found|no such file or directory|system cannot find the file specified/.test(message)
  )
    return 127;
  if (/permission denied|is a directory/.test(message)) return 126;
  return 125;
}
