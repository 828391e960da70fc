/**
 * Reader for conmon's k8s-file logs: one entry a line, `<RFC3339Nano> stdout|stderr F|P <text>`, where P
 * marks a piece of a longer line (or output without a final newline) and F the end of a line.
 */
import { type FSWatcher, watch } from "node:fs";
import { type FileHandle, open } from "node:fs/promises";
import { isErrno } from "../errdefs/index.ts";
import { parseRfc3339Ns, rfc3339Nano } from "../util/index.ts";

/** One line of container output. */
export interface LogLine {
  stream: "stdout" | "stderr";
  /** RFC 3339 with nanoseconds, UTC, of the line's first piece. */
  time: string;
  timeNs: bigint;
  /** The text without its newline. */
  line: Buffer;
  /** True when no newline ended the text (the process wrote no more, or the reader was stopped). */
  partial: boolean;
}

/** Options of readLog. */
export interface ReadLogOptions {
  /** Only lines at or after this time (ns since the epoch). */
  since?: bigint;
  /** Only lines at or before this time; reading stops at the first later line. */
  until?: bigint;
  /** Only the last N lines present when reading starts; all when absent or negative. */
  tail?: number;
  /** Keep reading as the file grows until this promise settles (e.g. the container's exit), then drain. */
  follow?: Promise<unknown>;
  /** Stops reading at once (client went away). */
  signal?: AbortSignal;
}

interface RawEntry {
  stream: "stdout" | "stderr";
  timeNs: bigint;
  partial: boolean;
  text: Buffer;
}

const CHUNK = 64 * 1024;
const NL = 0x0a;

/** Parses one k8s-file line (without its newline); undefined for a malformed line. */
export function parseLogLine(buf: Buffer): RawEntry | undefined {
  const s1 = buf.indexOf(0x20);
  const s2 = s1 < 0 ? -1 : buf.indexOf(0x20, s1 + 1);
  const s3 = s2 < 0 ? -1 : buf.indexOf(0x20, s2 + 1);
  if (s3 < 0 && s2 < 0) return undefined;
  const stream = buf.toString("latin1", s1 + 1, s2);
  if (stream !== "stdout" && stream !== "stderr") return undefined;
  const tag = buf.toString("latin1", s2 + 1, s3 < 0 ? buf.length : s3);
  let timeNs: bigint;
  try {
    timeNs = parseRfc3339Ns(buf.toString("latin1", 0, s1));
  } catch {
    return undefined;
  }
  // Tags may carry more flags after a colon in later CRI versions; the first letter decides.
  const partial = tag.startsWith("P");
  return { stream, timeNs, partial, text: s3 < 0 ? Buffer.alloc(0) : buf.subarray(s3 + 1) };
}

/** Yields the lines of a k8s-file log, joining P pieces with the rest of their line as Docker does. */
export async function* readLog(path: string, opts: ReadLogOptions = {}): AsyncGenerator<LogLine> {
  let fh: FileHandle;
  try {
    fh = await open(path, "r");
  } catch (e) {
    if (isErrno(e, "ENOENT")) return;
    throw e;
  }
  let watcher: FSWatcher | undefined;
  try {
    if (opts.tail === 0 && !opts.follow) return;
    let offset = 0;
    let skip = 0;
    if (opts.tail !== undefined && opts.tail >= 0) ({ offset, skip } = await tailOffset(fh, opts.tail));
    const joiner = new Joiner();
    let stopped = false;
    let wake: (() => void) | undefined;
    const nudge = (): void => {
      const w = wake;
      wake = undefined;
      w?.();
    };
    if (opts.follow) {
      // Watch before the first read so growth between the read and the wait is not missed.
      watcher = watch(path, { persistent: false }, nudge);
      watcher.on("error", nudge);
      opts.follow.then(
        () => {
          stopped = true;
          nudge();
        },
        () => {
          stopped = true;
          nudge();
        },
      );
    }
    opts.signal?.addEventListener("abort", nudge, { once: true });
    let rest: Buffer = Buffer.alloc(0);
    const buf = Buffer.allocUnsafe(CHUNK);
    for (;;) {
      if (opts.signal?.aborted) return;
      const finalPass = !opts.follow || stopped;
      const { bytesRead } = await fh.read(buf, 0, CHUNK, offset);
      if (bytesRead > 0) {
        offset += bytesRead;
        rest = rest.length
          ? Buffer.concat([rest, buf.subarray(0, bytesRead)])
          : Buffer.from(buf.subarray(0, bytesRead));
        let start = 0;
        for (let nl = rest.indexOf(NL); nl >= 0; nl = rest.indexOf(NL, start)) {
          const entry = parseLogLine(rest.subarray(start, nl));
          start = nl + 1;
          if (!entry) continue;
          for (const line of joiner.push(entry)) {
            if (skip > 0) {
              skip--;
              continue;
            }
            const verdict = filter(line, opts);
            if (verdict === "stop") return;
            if (verdict === "keep") yield line;
          }
        }
        rest = rest.subarray(start);
        continue;
      }
      if (finalPass) break;
      const size = (await fh.stat()).size;
      if (size < offset) {
        // Truncated (log rotation by size): start over.
        offset = 0;
        rest = Buffer.alloc(0);
        continue;
      }
      if (size > offset) continue;
      await new Promise<void>((resolve) => {
        wake = resolve;
        if (stopped || opts.signal?.aborted) nudge();
      });
    }
    for (const line of joiner.flush()) {
      const verdict = filter(line, opts);
      if (verdict === "stop") return;
      if (verdict === "keep") yield line;
    }
  } finally {
    watcher?.close();
    await fh.close();
  }
}

function filter(line: LogLine, opts: ReadLogOptions): "keep" | "skip" | "stop" {
  if (opts.until !== undefined && line.timeNs > opts.until) return "stop";
  if (opts.since !== undefined && line.timeNs < opts.since) return "skip";
  return "keep";
}

/** Holds P pieces per stream until their F piece arrives. */
class Joiner {
  readonly #pending = new Map<string, { timeNs: bigint; parts: Buffer[] }>();

  *push(e: RawEntry): Generator<LogLine> {
    const p = this.#pending.get(e.stream);
    if (e.partial) {
      if (p) p.parts.push(Buffer.from(e.text));
      else this.#pending.set(e.stream, { timeNs: e.timeNs, parts: [Buffer.from(e.text)] });
      return;
    }
    if (p) {
      this.#pending.delete(e.stream);
      p.parts.push(e.text);
      yield line(e.stream, p.timeNs, Buffer.concat(p.parts), false);
    } else {
      yield line(e.stream, e.timeNs, Buffer.from(e.text), false);
    }
  }

  *flush(): Generator<LogLine> {
    const all = [...this.#pending.entries()].sort((a, b) => (a[1].timeNs < b[1].timeNs ? -1 : 1));
    this.#pending.clear();
    for (const [stream, p] of all)
      yield line(stream as LogLine["stream"], p.timeNs, Buffer.concat(p.parts), true);
  }
}

function line(stream: LogLine["stream"], timeNs: bigint, text: Buffer, partial: boolean): LogLine {
  return { stream, time: rfc3339Nano(timeNs), timeNs, line: text, partial };
}

/** The file's entries from the last to the first, with their offsets. */
async function* backwards(fh: FileHandle): AsyncGenerator<{ entry: RawEntry; start: number }> {
  let pos = (await fh.stat()).size;
  let carry: Buffer = Buffer.alloc(0);
  const buf = Buffer.allocUnsafe(CHUNK);
  while (pos > 0) {
    const len = Math.min(CHUNK, pos);
    pos -= len;
    await fh.read(buf, 0, len, pos);
    // `data` covers the file from `pos`; its first line may be cut and is then carried to the next round.
    const data = carry.length
      ? Buffer.concat([buf.subarray(0, len), carry])
      : Buffer.from(buf.subarray(0, len));
    let lineEnd = data.length;
    for (;;) {
      // (Buffer#lastIndexOf counts a negative start from the end, hence the guard.)
      const i = lineEnd > 0 ? data.lastIndexOf(NL, lineEnd - 1) : -1;
      if (i < 0 && pos > 0) break;
      const entry = parseLogLine(data.subarray(i + 1, lineEnd));
      if (entry) yield { entry, start: pos + i + 1 };
      lineEnd = i;
      if (i < 0) break;
    }
    carry = Buffer.from(data.subarray(0, Math.max(lineEnd, 0)));
  }
}

// How far past the n-th line to look for earlier pieces of the counted lines (interleaved streams).
const TAIL_LOOKBEHIND = 1000;

/**
 * Where to start reading for the last `n` lines, and how many whole lines to skip from there. Going
 * backwards, an F piece opens a line of its stream, P pieces of an open stream belong to that line, and a
 * P piece of a stream not open is a trailing partial line. Pieces of a counted line can sit before lines of
 * the other stream; starting before them means skipping those lines.
 */
async function tailOffset(fh: FileHandle, n: number): Promise<{ offset: number; skip: number }> {
  let count = 0;
  let offset = (await fh.stat()).size;
  if (n === 0) return { offset, skip: 0 };
  const open = new Set<string>();
  let needs: Set<string> | undefined;
  let skip = 0;
  let passed = 0;
  let looked = 0;
  for await (const { entry: e, start } of backwards(fh)) {
    if (!needs) {
      if (!e.partial || !open.has(e.stream)) {
        if (count === n) {
          needs = new Set(open);
        } else {
          count++;
          open.add(e.stream);
          offset = start;
          continue;
        }
      } else {
        offset = start;
        continue;
      }
    }
    if (needs.size === 0 || ++looked > TAIL_LOOKBEHIND) break;
    if (e.partial && needs.has(e.stream)) {
      offset = start;
      skip = passed;
    } else if (!e.partial) {
      needs.delete(e.stream);
      passed++;
    }
  }
  return { offset, skip };
}
