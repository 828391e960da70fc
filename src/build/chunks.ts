/**
 * A readable's chunks as they came. A Readable's own async iterator calls read(), which joins every buffered
 * chunk into a new Buffer: each hop of the build context (request, sniffing, peeking) copied its 50 MB again.
 */
import { Readable } from "node:stream";

/** How many chunks wait unread before the source is paused. */
const HIGH = 16;

/** The chunks of `s`, each as `s` emitted it, with backpressure (pause/resume) and its error or early close. */
export async function* chunksOf(s: Readable): AsyncGenerator<Buffer> {
  const queue: Buffer[] = [];
  let ended = false;
  let failure: Error | undefined;
  let wake: (() => void) | undefined;
  const onData = (c: Buffer | string) => {
    queue.push(typeof c === "string" ? Buffer.from(c) : c);
    if (queue.length >= HIGH) s.pause();
    wake?.();
  };
  const onEnd = () => {
    ended = true;
    wake?.();
  };
  const onError = (e: Error) => {
    failure = e;
    wake?.();
  };
  // A source destroyed before its end (a client gone mid-body) ends the iteration with an error, not a hang.
  const onClose = () => {
    if (!ended) failure ??= new Error("the body was closed before its end");
    wake?.();
  };
  s.on("data", onData);
  s.once("end", onEnd);
  s.once("error", onError);
  s.once("close", onClose);
  try {
    for (;;) {
      const c = queue.shift();
      if (c) {
        if (queue.length < HIGH / 2 && s.isPaused()) s.resume();
        yield c;
        continue;
      }
      if (failure) throw failure;
      if (ended) return;
      s.resume();
      await new Promise<void>((r) => {
        wake = r;
      });
      wake = undefined;
    }
  } finally {
    s.off("data", onData);
    s.off("end", onEnd);
    s.off("error", onError);
    s.off("close", onClose);
    if (!ended) s.destroy();
  }
}

/** The first chunks of `src` up to at least `n` bytes (fewer at its end), and every chunk again from the start. */
export async function headOf(
  src: AsyncGenerator<Buffer>,
  n: number,
): Promise<{ first: Buffer; all: AsyncGenerator<Buffer> }> {
  const parts: Buffer[] = [];
  let have = 0;
  while (have < n) {
    const r = await src.next();
    if (r.done) break;
    parts.push(r.value);
    have += r.value.length;
  }
  async function* all(): AsyncGenerator<Buffer> {
    yield* parts;
    yield* src;
  }
  return { first: parts.length === 1 ? parts[0] : Buffer.concat(parts), all: all() };
}

/** A Readable of chunks (to hand a compressed context to a decompressor). */
export function readableOf(chunks: AsyncIterable<Buffer>): Readable {
  return Readable.from(chunks, { objectMode: false });
}
