import type { Readable } from "node:stream";
import { PassThrough } from "node:stream";
import zlib from "node:zlib";
import { InvalidParameterError } from "../errdefs/index.ts";

/** The compressions a layer or rootfs tar may arrive in. */
export type Compression = "none" | "gzip" | "zstd" | "bzip2" | "xz";

/** How many leading bytes `sniffCompression` needs to decide. */
const SNIFF_BYTES = 6;

/** Decides the compression from the first bytes of a stream (magic numbers as Docker's archive.DetectCompression). */
export function detectCompression(head: Uint8Array): Compression {
  const starts = (magic: number[]) => magic.every((b, i) => head[i] === b);
  if (starts([0x1f, 0x8b, 0x08])) return "gzip";
  if (starts([0x28, 0xb5, 0x2f, 0xfd])) return "zstd";
  if (starts([0x42, 0x5a, 0x68])) return "bzip2";
  if (starts([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00])) return "xz";
  return "none";
}

/**
 * Peeks at the first bytes of `src` and returns the compression with a stream that still yields every byte
 * (the peeked ones included).
 */
export async function sniffCompression(
  src: Readable,
): Promise<{ compression: Compression; stream: Readable }> {
  const head: Buffer[] = [];
  let have = 0;
  const it = src[Symbol.asyncIterator]();
  let done = false;
  while (have < SNIFF_BYTES) {
    const r = await it.next();
    if (r.done) {
      done = true;
      break;
    }
    const chunk = Buffer.isBuffer(r.value) ? r.value : Buffer.from(r.value as Uint8Array);
    head.push(chunk);
    have += chunk.byteLength;
  }
  const first = Buffer.concat(head);
  const out = new PassThrough();
  out.write(first);
  if (done) {
    out.end();
  } else {
    // Hand the rest over by hand: the iterator owns the source now, so pipe() would miss data.
    (async () => {
      try {
        for (;;) {
          const r = await it.next();
          if (r.done) break;
          if (!out.write(r.value)) await new Promise<void>((res) => out.once("drain", res));
        }
        out.end();
      } catch (e) {
        out.destroy(e as Error);
      }
    })();
    out.on("close", () => {
      if (!out.writableFinished) void it.return?.();
    });
  }
  return { compression: detectCompression(first), stream: out };
}

/**
 * Output chunk of a decompressor: zlib's default 16 KiB made a 60 MB pull 3,800 file writes and zlib callbacks
 * (a CPU profile's largest main-thread items); 256 KiB makes them 240.
 */
const OUT_CHUNK = 256 << 10;

/** A stream of the uncompressed bytes of `src`; bzip2 and xz are refused (Node has no decoder for them). */
export async function decompressStream(
  src: Readable,
): Promise<{ compression: Compression; stream: Readable }> {
  const { compression, stream } = await sniffCompression(src);
  switch (compression) {
    case "none":
      return { compression, stream };
    case "gzip":
      return {
        compression,
        stream: stream.pipe(forwardErrors(stream, zlib.createGunzip({ chunkSize: OUT_CHUNK }))),
      };
    case "zstd":
      return {
        compression,
        stream: stream.pipe(forwardErrors(stream, zlib.createZstdDecompress({ chunkSize: OUT_CHUNK }))),
      };
    default:
      stream.destroy();
      throw new InvalidParameterError(`unsupported compression format ${compression}`);
  }
}

// pipe() does not forward errors; without this a failing source would leave the decompressor hanging.
function forwardErrors<T extends NodeJS.ReadWriteStream & { destroy(e?: Error): unknown }>(
  from: Readable,
  to: T,
): T {
  from.once("error", (e) => to.destroy(e));
  return to;
}
