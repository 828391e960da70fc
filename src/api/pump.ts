import type { Duplex } from "node:stream";
import type { AttachStreams } from "../container/index.ts";
import { InvalidParameterError } from "../errdefs/index.ts";
import { DetachWatcher, parseDetachKeys } from "../util/index.ts";
import { outputWriter, StreamType } from "./stream.ts";

const DEFAULT_DETACH = [16, 17];

/** Parses a request's detach keys (Docker's syntax, `ctrl-p,ctrl-q` when empty) with dockerd's error text. */
export function detachKeys(spec: string | undefined | null): number[] {
  if (!spec) return DEFAULT_DETACH;
  try {
    return parseDetachKeys(spec);
  } catch {
    throw new InvalidParameterError(`Invalid detach keys (${spec}) provided`);
  }
}

/** Docker's content types for hijacked streams. */
export const RAW_STREAM = "application/vnd.docker.raw-stream";
export const MUX_STREAM = "application/vnd.docker.multiplexed-stream";

/** An error as the last frame of a multiplexed stream (Docker's systemErr stream). */
export function muxError(e: unknown): Buffer {
  const msg = Buffer.from(`${e instanceof Error ? e.message : String(e)}\n`);
  const h = Buffer.alloc(8);
  h[0] = StreamType.systemErr;
  h.writeUInt32BE(msg.length, 4);
  return Buffer.concat([h, msg]);
}

/**
 * Bridges a hijacked connection and a process's stdio (attach, exec): output framed raw (TTY) or multiplexed,
 * client bytes to stdin, the client's half-close to stdin's end. The connection ends once both outputs have
 * ended and `done` (e.g. the exec's recorded exit) has settled; `onEnd` runs once when it is over.
 */
export function pumpStdio(
  sock: Duplex,
  stdio: AttachStreams,
  opts: {
    tty: boolean;
    stdin: boolean;
    stdout: boolean;
    stderr: boolean;
    done?: Promise<unknown>;
    onEnd?: () => void;
    /** Bytes that end the session, for a process with a terminal (from `detachKeys()`). */
    detachKeys?: number[];
  },
): void {
  let finished = false;
  const finish = () => {
    if (finished) return;
    finished = true;
    stdio.close();
    opts.onEnd?.();
    sock.end();
  };
  sock.on("close", finish);
  sock.on("error", finish);
  const write = outputWriter(sock, { tty: opts.tty });
  let open = 2;
  const ended = () => {
    if (--open > 0) return;
    if (opts.done) void opts.done.finally(finish);
    else finish();
  };
  const pump = (src: NodeJS.ReadableStream, type: number, wanted: boolean) => {
    src.on("data", (chunk: Buffer) => {
      if (wanted && !finished && !write(type, chunk)) {
        stdio.stdout.pause();
        stdio.stderr.pause();
        sock.once("drain", () => {
          stdio.stdout.resume();
          stdio.stderr.resume();
        });
      }
    });
    src.once("end", ended);
    src.once("error", ended);
  };
  pump(stdio.stdout, StreamType.stdout, opts.stdout);
  pump(stdio.stderr, StreamType.stderr, opts.stderr);
  // With a TTY the client's end of input is not passed on, as containerd does not: closing a terminal's input
  // would hang up the process before it has written anything (`docker exec -it` with stdin at EOF).
  if (opts.stdin && opts.detachKeys) {
    // As dockerd's escape proxy on a terminal's stdin: the detach keys end the session (the process keeps
    // running); a partial match is held back and sent on when the sequence breaks.
    const watcher = new DetachWatcher(opts.detachKeys);
    sock.on("data", (chunk: Buffer) => {
      if (finished) return;
      const r = watcher.feed(chunk);
      if (r.forward.length && !stdio.stdin.write(r.forward)) {
        sock.pause();
        stdio.stdin.once("drain", () => sock.resume());
      }
      if (r.detach) finish();
    });
  } else if (opts.stdin) sock.pipe(stdio.stdin, { end: !opts.tty });
  sock.resume();
}
