import { constants } from "node:fs";
import { open } from "node:fs/promises";
import { join } from "node:path";
import { ConflictError, isErrno } from "../errdefs/index.ts";

// conmon's CTLBUFSZ (200) less the terminating NUL.
const CTL_MSG_SIZE = 199;

interface Pending {
  next: { h: number; w: number } | undefined;
  done: Promise<void>;
}

/**
 * TTY resizes through conmon's `ctl` fifo in a container's or exec session's bundle dir. Resizes to one
 * dir are coalesced: while one is being written only the latest size waits.
 */
export class CtlWriter {
  readonly #pending = new Map<string, Pending>();

  /** Sends a window-size message to the conmon owning `dir`; Conflict when that conmon is gone. */
  resize(dir: string, size: { height: number; width: number }): Promise<void> {
    const next = { h: Math.max(0, Math.floor(size.height)), w: Math.max(0, Math.floor(size.width)) };
    const queued = this.#pending.get(dir);
    if (queued) {
      queued.next = next;
      return queued.done;
    }
    const entry: Pending = { next, done: Promise.resolve() };
    entry.done = (async () => {
      try {
        while (entry.next) {
          const m = entry.next;
          entry.next = undefined;
          await writeCtl(dir, m.h, m.w);
          // conmon relays each resize through a second fifo and, given two lines in one read, applies the
          // first twice; spacing the writes keeps them in separate reads.
          if (entry.next) await new Promise((r) => setTimeout(r, 15));
        }
      } finally {
        this.#pending.delete(dir);
      }
    })();
    this.#pending.set(dir, entry);
    return entry.done;
  }
}

/** Asks the conmon owning `dir` to reopen its log file (after the file was renamed away for rotation). */
export function reopenLogCtl(dir: string): Promise<void> {
  return writeCtl(dir, 0, 0, { type: 2 });
}

async function writeCtl(dir: string, h: number, w: number, opts: { type?: number } = {}): Promise<void> {
  let fh: Awaited<ReturnType<typeof open>>;
  try {
    // Non-blocking: with conmon gone nobody reads the fifo and a blocking open would hang (ENXIO instead).
    fh = await open(join(dir, "ctl"), constants.O_WRONLY | constants.O_NONBLOCK);
  } catch (e) {
    if (isErrno(e, "ENXIO") || isErrno(e, "ENOENT")) throw new ConflictError("the process is not running");
    throw e;
  }
  try {
    // conmon's ctl protocol is "<type> <height> <width>\n", type 1 = window resize. conmon reads at most
    // 199 bytes at a time and mishandles several lines in one read, so each message is padded to exactly
    // that size: one read, one message.
    // Type 2 = reopen the log file.
    const line = `${opts.type ?? 1} ${h} ${w}`;
    await fh.write(`${line.padEnd(CTL_MSG_SIZE - 1, " ")}\n`);
  } finally {
    await fh.close();
  }
}
