import { open } from "node:fs/promises";

/**
 * Writes every chunk of `body` into the file at `path`, opened with the caller's `flags` (which decide whether
 * an existing file or a link there is refused), and closes it even when the body fails. Short writes are
 * continued, as fs's write may take only part of a chunk.
 */
export async function writeChunks(
  path: string,
  body: AsyncIterable<Buffer>,
  o: { flags: number; mode: number },
): Promise<void> {
  const fh = await open(path, o.flags, o.mode);
  try {
    for await (const chunk of body) {
      let off = 0;
      while (off < chunk.byteLength) off += (await fh.write(chunk, off)).bytesWritten;
    }
  } finally {
    await fh.close();
  }
}
