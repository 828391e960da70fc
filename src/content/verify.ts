import { createHash } from "node:crypto";
import { once } from "node:events";
import { PassThrough, type Readable } from "node:stream";
import { DigestMismatchError } from "./digest.ts";

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
