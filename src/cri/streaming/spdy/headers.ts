/**
 * SPDY/3 header blocks: the name/value block format and its compression. Each direction of a connection is
 * one zlib stream primed with the SPDY/3 dictionary and sync-flushed after every block, so a block can only
 * be read in order, with the history of the blocks before it.
 *
 * Both sides here work synchronously on raw deflate with an explicit history: the peer's inflater has seen
 * the dictionary followed by every block decompressed so far, so priming a fresh raw (de)compressor with the
 * last 32 KiB of exactly that history continues the peer's stream bit for bit. That keeps frame handling
 * synchronous (no zlib stream callbacks to order against socket data) and bounds each block's output.
 */
import { constants, deflateRawSync, inflateRawSync } from "node:zlib";
import { spdy3Dictionary } from "./dictionary.ts";
import { SpdyProtocolError } from "./errors.ts";

/** Header names (lower case) to their values; SPDY joins several values of one name with NUL. */
export type SpdyHeaders = Map<string, string[]>;

/** Deflate's window: how far back a match may reach, and so how much history matters. */
const WINDOW = 32 * 1024;

function adler32(buf: Buffer): number {
  let a = 1;
  let b = 0;
  for (let i = 0; i < buf.length; i++) {
    a = (a + buf[i]) % 65521;
    b = (b + a) % 65521;
  }
  return ((b << 16) | a) >>> 0;
}

const dictionaryId = adler32(spdy3Dictionary);

/** The last WINDOW bytes of history + next. */
function slide(history: Buffer, next: Buffer): Buffer {
  const all = Buffer.concat([history, next]);
  return all.length > WINDOW ? all.subarray(all.length - WINDOW) : all;
}

/** Serializes a header block before compression: count, then length-prefixed names and values. */
export function encodeHeaderBlock(headers: SpdyHeaders): Buffer {
  const parts: Buffer[] = [];
  const u32 = (n: number) => {
    const b = Buffer.alloc(4);
    b.writeUInt32BE(n);
    return b;
  };
  parts.push(u32(headers.size));
  for (const [name, values] of headers) {
    const n = Buffer.from(name.toLowerCase(), "utf8");
    const v = Buffer.from(values.join("\0"), "utf8");
    parts.push(u32(n.length), n, u32(v.length), v);
  }
  return Buffer.concat(parts);
}

/** Parses a decompressed header block; throws SpdyProtocolError when it is truncated or inconsistent. */
export function decodeHeaderBlock(block: Buffer): SpdyHeaders {
  const headers: SpdyHeaders = new Map();
  let off = 0;
  const u32 = () => {
    if (off + 4 > block.length) throw new SpdyProtocolError("truncated header block");
    const n = block.readUInt32BE(off);
    off += 4;
    return n;
  };
  const bytes = (n: number) => {
    if (n > block.length - off) throw new SpdyProtocolError("header block length past its end");
    const s = block.subarray(off, off + n).toString("utf8");
    off += n;
    return s;
  };
  const count = u32();
  // Each pair takes at least 8 bytes: a count past that is a lie, refused before looping on it.
  if (count > (block.length - 4) / 8) throw new SpdyProtocolError("header block count past its end");
  for (let i = 0; i < count; i++) {
    const nameLen = u32();
    if (nameLen === 0) throw new SpdyProtocolError("empty header name");
    // Go's spdystream lower-cases what a sloppy peer sends rather than failing: so do we.
    const name = bytes(nameLen).toLowerCase();
    const value = bytes(u32());
    const values = headers.get(name) ?? [];
    values.push(...value.split("\0"));
    headers.set(name, values);
  }
  if (off !== block.length) throw new SpdyProtocolError("trailing bytes after header block");
  return headers;
}

/** The compressing side of one direction: every block it returns continues the same zlib stream. */
export class HeaderCompressor {
  #history: Buffer = spdy3Dictionary;
  #started = false;

  /** Compresses `headers` into the bytes that go in a SYN_STREAM, SYN_REPLY or HEADERS frame. */
  compress(headers: SpdyHeaders): Buffer {
    const block = encodeHeaderBlock(headers);
    const body = deflateRawSync(block, {
      dictionary: this.#history,
      level: 9,
      finishFlush: constants.Z_SYNC_FLUSH,
    });
    this.#history = slide(this.#history, block);
    if (this.#started) return body;
    this.#started = true;
    // zlib header: deflate with a 32 KiB window, FDICT set, check bits making it a multiple of 31.
    const head = Buffer.alloc(6);
    head[0] = 0x78;
    head[1] = 0x20 | 0xc0;
    head[1] += (31 - ((head[0] * 256 + head[1]) % 31)) % 31;
    head.writeUInt32BE(dictionaryId, 2);
    return Buffer.concat([head, body]);
  }
}

/** The decompressing side of one direction. Once it throws, the stream is lost: the connection must end. */
export class HeaderDecompressor {
  #history: Buffer = spdy3Dictionary;
  #started = false;
  readonly #maxBytes: number;

  /** `maxBytes` bounds one decompressed block (a compression bomb is refused, not inflated). */
  constructor(maxBytes: number) {
    this.#maxBytes = maxBytes;
  }

  /** Decompresses and parses one frame's header block. */
  decompress(data: Buffer): SpdyHeaders {
    let body = data;
    if (!this.#started) {
      if (data.length < 2) throw new SpdyProtocolError("header block too short for a zlib header");
      const cmf = data[0];
      const flg = data[1];
      if ((cmf & 0x0f) !== 8 || (cmf * 256 + flg) % 31 !== 0) throw new SpdyProtocolError("bad zlib header");
      let skip = 2;
      if (flg & 0x20) {
        if (data.length < 6) throw new SpdyProtocolError("header block too short for a dictionary id");
        if (data.readUInt32BE(2) !== dictionaryId)
          throw new SpdyProtocolError("header block uses another dictionary");
        skip = 6;
      }
      body = data.subarray(skip);
      this.#started = true;
    }
    let block: Buffer;
    try {
      block = inflateRawSync(body, {
        dictionary: this.#history,
        finishFlush: constants.Z_SYNC_FLUSH,
        maxOutputLength: this.#maxBytes,
      });
    } catch (e) {
      const tooBig = (e as { code?: string }).code === "ERR_BUFFER_TOO_LARGE";
      throw new SpdyProtocolError(tooBig ? "header block too large" : `bad compressed header block: ${e}`);
    }
    this.#history = slide(this.#history, block);
    return decodeHeaderBlock(block);
  }
}
