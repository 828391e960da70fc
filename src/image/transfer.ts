import { createHash } from "node:crypto";
import { once } from "node:events";
import { PassThrough, type Readable } from "node:stream";
import { DigestMismatchError } from "../content/index.ts";

/** One JSON line of pull/push progress, as Docker streams them. */
export interface ProgressMessage {
  id?: string;
  status?: string;
  progressDetail?: { current?: number; total?: number };
  progress?: string;
  aux?: Record<string, unknown>;
}

/** Where progress goes (the API writes each as a JSON line). */
export type ProgressSink = (m: ProgressMessage) => void;

/** Reports byte progress of one layer at most every 100 ms (and always at the end). */
export function throttled(
  sink: ProgressSink,
  id: string,
  status: string,
  total: number,
): (current: number, final?: boolean) => void {
  let last = 0;
  return (current, final) => {
    const now = Date.now();
    if (!final && now - last < 100) return;
    last = now;
    sink({ id, status, progressDetail: { current, total: total > 0 ? total : undefined } });
  };
}

/**
 * Passes `src` through to the blob store while hashing and counting it; the output ends only after the digest
 * and size check out, otherwise it fails, so nothing unverified is ever committed.
 */
export function verifiedCopy(
  src: Readable,
  expect: { digest: string; size: number },
  onBytes: (n: number) => void,
): { out: PassThrough; done: Promise<void> } {
  const out = new PassThrough();
  // A consumer that already failed no longer listens; the failure is reported through `done` and its own.
  out.on("error", () => undefined);
  const hash = createHash("sha256");
  const done = (async () => {
    let n = 0;
    try {
      for await (const c of src as AsyncIterable<Buffer>) {
        hash.update(c);
        n += c.length;
        if (expect.size >= 0 && n > expect.size) {
          throw new DigestMismatchError("size", String(expect.size), `more than ${expect.size}`);
        }
        onBytes(n);
        if (!out.write(c)) await drained(out);
      }
      if (expect.size >= 0 && n !== expect.size) {
        throw new DigestMismatchError("size", String(expect.size), String(n));
      }
      const digest = `sha256:${hash.digest("hex")}`;
      if (digest !== expect.digest) throw new DigestMismatchError("digest", expect.digest, digest);
      out.end();
    } catch (e) {
      src.destroy();
      out.destroy(e as Error);
      throw e;
    }
  })();
  // Consumers report their own failure; this keeps an unobserved rejection from crashing the daemon.
  done.catch(() => undefined);
  return { out, done };
}

/** Waits for 'drain', failing if the stream is destroyed first (a consumer that gave up). */
async function drained(s: PassThrough): Promise<void> {
  const ac = new AbortController();
  try {
    await Promise.race([
      once(s, "drain", { signal: ac.signal }),
      once(s, "close", { signal: ac.signal }).then(() => {
        throw new Error("layer consumer stopped reading");
      }),
    ]);
  } finally {
    ac.abort();
  }
}

/** Runs `fn` over items with at most `limit` at once, starting them in order. */
export async function parallel<T>(
  items: T[],
  limit: number,
  fn: (item: T, index: number) => Promise<void>,
  onQueued?: (item: T, index: number) => void,
): Promise<void> {
  let next = 0;
  const errors: unknown[] = [];
  items.forEach((it, i) => {
    if (i >= limit) onQueued?.(it, i);
  });
  const worker = async () => {
    while (next < items.length && !errors.length) {
      const i = next++;
      try {
        await fn(items[i], i);
      } catch (e) {
        errors.push(e);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  if (errors.length) throw errors[0];
}
