import type { Readable, Writable } from "node:stream";
import type { StdStreamType } from "../apitypes/index.ts";

/** One frame of a multiplexed stream: which stream (0 stdin, 1 stdout, 2 stderr) and its bytes. */
export interface StreamFrame {
  stream: StdStreamType;
  data: Buffer;
}

const HEADER = 8;
// Docker's stdcopy uses stream 3 to carry a daemon-side error message inside the stream.
const SYSTEM_ERR = 3;

/**
 * Splits Docker's multiplexed stream (8-byte headers: stream byte, 3 zero bytes, uint32 BE length)
 * into frames, whatever the chunking of the input.
 */
export async function* demuxFrames(input: AsyncIterable<Buffer | string>): AsyncGenerator<StreamFrame> {
  let buf: Buffer = Buffer.alloc(0);
  for await (const chunk of input) {
    const c = typeof chunk === "string" ? Buffer.from(chunk) : chunk;
    buf = buf.length === 0 ? c : Buffer.concat([buf, c]);
    let off = 0;
    while (buf.length - off >= HEADER) {
      const kind = buf[off];
      const size = buf.readUInt32BE(off + 4);
      if (buf.length - off < HEADER + size) break;
      const data = buf.subarray(off + HEADER, off + HEADER + size);
      off += HEADER + size;
      if (kind === SYSTEM_ERR) throw new Error(data.toString("utf8"));
      if (kind !== 0 && kind !== 1 && kind !== 2) throw new Error(`unrecognized input header: ${kind}`);
      yield { stream: kind, data };
    }
    buf = off === buf.length ? Buffer.alloc(0) : buf.subarray(off);
  }
  if (buf.length > 0) throw new Error("unexpected EOF in multiplexed stream");
}

/** Where demultiplexed output goes. */
export interface OutputSinks {
  stdout?: Writable;
  stderr?: Writable;
}

/** Copies a stream to stdout/stderr: demultiplexed unless `tty` (then raw, all to stdout). Waits for drain. */
export async function copyOutput(
  input: Readable,
  sinks: OutputSinks,
  opts: { tty?: boolean } = {},
): Promise<void> {
  if (opts.tty) {
    for await (const chunk of input) await write(sinks.stdout, chunk as Buffer);
    return;
  }
  for await (const f of demuxFrames(input)) {
    await write(f.stream === 2 ? sinks.stderr : sinks.stdout, f.data);
  }
}

function write(w: Writable | undefined, data: Buffer): Promise<void> | undefined {
  if (!w || data.length === 0) return;
  if (w.write(data)) return;
  return new Promise((resolve) => w.once("drain", resolve));
}

/** Encodes one frame in Docker's multiplexed format (for tests and fakes). */
export function encodeFrame(stream: StdStreamType, data: Buffer | string): Buffer {
  const body = typeof data === "string" ? Buffer.from(data) : data;
  const h = Buffer.alloc(HEADER);
  h[0] = stream;
  h.writeUInt32BE(body.length, 4);
  return Buffer.concat([h, body]);
}

/**
 * Parses a JSON-lines stream (pull/import/events progress) into objects, one per line; `parse` replaces
 * JSON.parse for callers that need more from the line's text.
 */
export async function* jsonLines<T>(
  input: AsyncIterable<Buffer | string>,
  opts: { parse?: (line: string) => T } = {},
): AsyncGenerator<T> {
  const parse = opts.parse ?? ((line: string) => JSON.parse(line) as T);
  let rest = "";
  const decoder = new TextDecoder();
  for await (const chunk of input) {
    rest += typeof chunk === "string" ? chunk : decoder.decode(chunk, { stream: true });
    let nl = rest.indexOf("\n");
    while (nl >= 0) {
      const line = rest.slice(0, nl).trim();
      rest = rest.slice(nl + 1);
      if (line) yield parse(line);
      nl = rest.indexOf("\n");
    }
  }
  rest += decoder.decode();
  if (rest.trim()) yield parse(rest.trim());
}
