// The foreground flow shared by `run` and `start -a`: attach (hijacked) and register the wait before
// starting, so no output and no exit is missed; then stream, proxy signals, and return the exit code.
import type { Duplex, Readable } from "node:stream";
import type { WaitCondition } from "../apitypes/index.ts";
import { copyOutput } from "../client/index.ts";
import { DetachWatcher, parseDetachKeys } from "../util/index.ts";
import type { Cli } from "./common.ts";

export { DetachWatcher, parseDetachKeys };

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

/** How a hijacked stream is wired to our terminal. */
export interface PumpOptions {
  tty: boolean;
  stdin: boolean;
  stdout: boolean;
  stderr: boolean;
  detachKeys?: string;
}

/** A running pump: `done` settles when output ends; `detached` tells whether the user detached. */
export interface Pump {
  done: Promise<void>;
  detached(): boolean;
  /** Stops reading our stdin and restores the terminal. */
  stop(): void;
}

/**
 * Wires a hijacked stream to our stdio: stdin (raw mode on a TTY, detach keys watched) to the stream,
 * output demultiplexed (or raw with a TTY) to stdout/stderr. EOF on stdin half-closes the stream.
 */
export function pumpStreams(cli: Cli, s: Duplex | Readable, opts: PumpOptions): Pump {
  // process.stdin is a stream Node makes on first use (for a file, with node:fs/promises and readline):
  // touched only when stdin is attached.
  const stdinIn = opts.stdin ? process.stdin : undefined;
  const raw = opts.tty && stdinIn?.isTTY;
  if (raw) stdinIn?.setRawMode(true);
  let detached = false;
  const cleanups: (() => void)[] = [];
  if (stdinIn && "write" in s) {
    const watcher = opts.tty
      ? new DetachWatcher(parseDetachKeys(opts.detachKeys || "ctrl-p,ctrl-q"))
      : undefined;
    const onData = (input: Buffer): void => {
      let chunk = input;
      if (watcher) {
        const r = watcher.feed(input);
        chunk = r.forward;
        if (r.detach) {
          detached = true;
          if (chunk.length) s.write(chunk);
          s.destroy();
          return;
        }
      }
      if (chunk.length && !s.write(chunk)) {
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
  const done = copyOutput(
    s,
    // Getters: stdout and stderr are made when the first frame for them comes, not for a silent command.
    {
      get stdout() {
        return opts.stdout ? cli.out : undefined;
      },
      get stderr() {
        return opts.stderr ? cli.err : undefined;
      },
    },
    { tty: opts.tty },
  )
    .catch((err: unknown) => {
      // The connection dropping (daemon restart) or our own detach is not the process failing.
      if ((err as NodeJS.ErrnoException).code !== "ECONNRESET" && !detached) throw err;
    })
    .then(() => {
      // Docker stops forwarding stdin once output ended.
    });
  return {
    done,
    detached: () => detached,
    stop: () => {
      for (const c of cleanups.splice(0)) c();
      if (raw) stdinIn?.setRawMode(false);
    },
  };
}

/** Keeps the remote TTY's size in step with ours (now and on SIGWINCH); returns the undo. */
export function monitorTtySize(resize: (size: { h: number; w: number }) => Promise<void>): () => void {
  if (!process.stdout.isTTY) return () => {};
  const onResize = (): void => {
    const h = process.stdout.rows;
    const w = process.stdout.columns;
    if (h && w) resize({ h, w }).catch(() => undefined);
  };
  onResize();
  process.on("SIGWINCH", onResize);
  return () => process.off("SIGWINCH", onResize);
}

/** Forwards our signals to the container (docker's --sig-proxy); returns the undo. */
export function proxySignals(kill: (signal: string) => Promise<void>): () => void {
  const handlers = PROXIED.map((sig) => {
    const h = (): void => {
      kill(sig).catch(() => undefined);
    };
    process.on(sig, h);
    return [sig, h] as const;
  });
  return () => {
    for (const [sig, h] of handlers) process.off(sig, h);
  };
}

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
  const waitAbort = new AbortController();
  const wait = await client.containerWait(opts.id, { condition, signal: waitAbort.signal });

  try {
    await client.containerStart(opts.id, { detachKeys: opts.detachKeys });
  } catch (err) {
    stream?.destroy();
    // A failed start is no exit: the daemon answers a next-exit wait only at a later run's end.
    if (opts.autoRemove) await wait.result.catch(() => undefined);
    else waitAbort.abort();
    throw new StartFailed(err);
  }
  const cleanups: (() => void)[] = [];
  if (opts.tty) cleanups.push(monitorTtySize((size) => client.containerResize(opts.id, size)));
  if (opts.sigProxy && !opts.tty)
    cleanups.push(proxySignals((signal) => client.containerKill(opts.id, { signal })));
  const pump = stream ? pumpStreams(cli, stream, opts) : undefined;
  if (pump) cleanups.push(pump.stop);
  try {
    await pump?.done;
    // Detaching leaves the container running; like docker, exit 0 without waiting.
    if (pump?.detached()) return 0;
    const status = await wait.result;
    if (status.Error?.Message) {
      await new Promise<void>((r) => cli.err.write(`${status.Error?.Message}\n`, () => r()));
      return 125;
    }
    return status.StatusCode;
  } finally {
    for (const c of cleanups.splice(0)) c();
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
