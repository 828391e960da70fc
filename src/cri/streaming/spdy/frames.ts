/**
 * SPDY/3.1 frames: their layout on the wire, an encoder and an incremental parser. Control frames start with
 * the control bit, version 3 and a type; data frames with a 31-bit stream id. Both then carry 8 bits of flags
 * and a 24-bit length.
 */
import { SpdyProtocolError } from "./errors.ts";
import { HeaderCompressor, HeaderDecompressor, type SpdyHeaders } from "./headers.ts";

/** The protocol version this speaks (Kubernetes' "SPDY/3.1" upgrade). */
export const SPDY_VERSION = 3;

/** Control frame types. */
export const FrameType = {
  SynStream: 1,
  SynReply: 2,
  RstStream: 3,
  Settings: 4,
  Ping: 6,
  GoAway: 7,
  Headers: 8,
  WindowUpdate: 9,
} as const;

/** FLAG_FIN on SYN_STREAM, SYN_REPLY, HEADERS and DATA: the sender's half of the stream ends here. */
export const FLAG_FIN = 0x01;
/** FLAG_UNIDIRECTIONAL on SYN_STREAM: the receiver must not send on the stream. */
export const FLAG_UNIDIRECTIONAL = 0x02;

/** RST_STREAM status codes. */
export const RstStatus = {
  ProtocolError: 1,
  InvalidStream: 2,
  RefusedStream: 3,
  UnsupportedVersion: 4,
  Cancel: 5,
  InternalError: 6,
  FlowControlError: 7,
  StreamInUse: 8,
  StreamAlreadyClosed: 9,
  FrameTooLarge: 11,
} as const;

/** GOAWAY status codes. */
export const GoAwayStatus = { Ok: 0, ProtocolError: 1, InternalError: 2 } as const;

/** The largest length the 24-bit field holds. */
export const MAX_FRAME_LENGTH = 0xffffff;

/** A parsed or to-be-written frame. */
export type Frame =
  | { type: "data"; streamId: number; fin: boolean; data: Buffer }
  | {
      type: "syn_stream";
      streamId: number;
      associatedTo: number;
      priority: number;
      fin: boolean;
      unidirectional: boolean;
      headers: SpdyHeaders;
    }
  | { type: "syn_reply"; streamId: number; fin: boolean; headers: SpdyHeaders }
  | { type: "headers"; streamId: number; fin: boolean; headers: SpdyHeaders }
  | { type: "rst_stream"; streamId: number; status: number }
  | { type: "settings"; entries: { flags: number; id: number; value: number }[] }
  | { type: "ping"; id: number }
  | { type: "goaway"; lastGoodStreamId: number; status: number }
  | { type: "window_update"; streamId: number; delta: number };

function controlHeader(type: number, flags: number, length: number): Buffer {
  const b = Buffer.alloc(8);
  b.writeUInt16BE(0x8000 | SPDY_VERSION, 0);
  b.writeUInt16BE(type, 2);
  b.writeUInt32BE(((flags & 0xff) << 24) | length, 4);
  return b;
}

function control(type: number, flags: number, payload: Buffer): Buffer {
  if (payload.length > MAX_FRAME_LENGTH) throw new RangeError("control frame too large");
  return Buffer.concat([controlHeader(type, flags, payload.length), payload]);
}

function u32s(...values: number[]): Buffer {
  const b = Buffer.alloc(values.length * 4);
  values.forEach((v, i) => {
    b.writeUInt32BE(v >>> 0, i * 4);
  });
  return b;
}

/** Encodes frames of one direction of a connection (it owns that direction's header compressor). */
export class FrameWriter {
  readonly #compressor = new HeaderCompressor();

  /** The bytes of `frame`. Header frames must be encoded in the order they are sent. */
  encode(frame: Frame): Buffer {
    switch (frame.type) {
      case "data": {
        if (frame.data.length > MAX_FRAME_LENGTH) throw new RangeError("data frame too large");
        const h = Buffer.alloc(8);
        h.writeUInt32BE(frame.streamId & 0x7fffffff, 0);
        h.writeUInt32BE(((frame.fin ? FLAG_FIN : 0) << 24) | frame.data.length, 4);
        return Buffer.concat([h, frame.data]);
      }
      case "syn_stream": {
        const fixed = Buffer.alloc(10);
        fixed.writeUInt32BE(frame.streamId & 0x7fffffff, 0);
        fixed.writeUInt32BE(frame.associatedTo & 0x7fffffff, 4);
        fixed[8] = (frame.priority & 0x7) << 5;
        const flags = (frame.fin ? FLAG_FIN : 0) | (frame.unidirectional ? FLAG_UNIDIRECTIONAL : 0);
        const block = this.#compressor.compress(frame.headers);
        return control(FrameType.SynStream, flags, Buffer.concat([fixed, block]));
      }
      case "syn_reply":
      case "headers": {
        const type = frame.type === "syn_reply" ? FrameType.SynReply : FrameType.Headers;
        const block = this.#compressor.compress(frame.headers);
        return control(
          type,
          frame.fin ? FLAG_FIN : 0,
          Buffer.concat([u32s(frame.streamId & 0x7fffffff), block]),
        );
      }
      case "rst_stream":
        return control(FrameType.RstStream, 0, u32s(frame.streamId & 0x7fffffff, frame.status));
      case "settings": {
        const body = [u32s(frame.entries.length)];
        for (const e of frame.entries) body.push(u32s(((e.flags & 0xff) << 24) | (e.id & 0xffffff), e.value));
        return control(FrameType.Settings, 0, Buffer.concat(body));
      }
      case "ping":
        return control(FrameType.Ping, 0, u32s(frame.id));
      case "goaway":
        return control(FrameType.GoAway, 0, u32s(frame.lastGoodStreamId & 0x7fffffff, frame.status));
      case "window_update":
        return control(
          FrameType.WindowUpdate,
          0,
          u32s(frame.streamId & 0x7fffffff, frame.delta & 0x7fffffff),
        );
    }
  }
}

/** Limits that keep a hostile peer from making the parser buffer or inflate without bound. */
export interface ParserLimits {
  /** Largest control frame payload accepted (header blocks are the only big ones). */
  maxControlLength: number;
  /** Largest data frame payload accepted. */
  maxDataLength: number;
  /** Largest decompressed header block. */
  maxHeaderBytes: number;
}

/** Default limits: header blocks far above what Kubernetes clients send, data frames as the format allows. */
export const defaultLimits: ParserLimits = {
  maxControlLength: 64 * 1024,
  maxDataLength: MAX_FRAME_LENGTH,
  maxHeaderBytes: 64 * 1024,
};

/**
 * Incremental parser of one direction. A SpdyProtocolError it throws ends the connection: after a bad frame
 * the header decompressor cannot resync, so nothing after it can be trusted.
 */
export class FrameParser {
  /** Bytes received and not yet parsed, kept as chunks: a big frame is joined once, when it is complete. */
  #chunks: Buffer[] = [];
  #length = 0;
  readonly #limits: ParserLimits;
  readonly #decompressor: HeaderDecompressor;

  constructor(limits: Partial<ParserLimits> = {}) {
    this.#limits = { ...defaultLimits, ...limits };
    this.#decompressor = new HeaderDecompressor(this.#limits.maxHeaderBytes);
  }

  /** Parses as many whole frames as `chunk` completes, handing each to `onFrame` in order. */
  push(chunk: Buffer, onFrame: (f: Frame) => void): void {
    if (chunk.length > 0) {
      this.#chunks.push(chunk);
      this.#length += chunk.length;
    }
    while (this.#length >= 8) {
      const head = this.#peek(8);
      const first = head.readUInt32BE(0);
      const word2 = head.readUInt32BE(4);
      const flags = word2 >>> 24;
      const length = word2 & 0xffffff;
      const isControl = (first & 0x80000000) !== 0;
      const limit = isControl ? this.#limits.maxControlLength : this.#limits.maxDataLength;
      if (length > limit) {
        // The length is known before the payload arrives: refuse it now rather than buffer it.
        throw new SpdyProtocolError(
          `${isControl ? "control" : "data"} frame of ${length} bytes over the limit`,
        );
      }
      if (this.#length < 8 + length) return;
      const payload = this.#take(8 + length).subarray(8);
      if (!isControl) {
        const streamId = first & 0x7fffffff;
        if (streamId === 0) throw new SpdyProtocolError("data frame on stream 0");
        onFrame({ type: "data", streamId, fin: (flags & FLAG_FIN) !== 0, data: Buffer.from(payload) });
        continue;
      }
      const version = (first >>> 16) & 0x7fff;
      const type = first & 0xffff;
      if (version !== SPDY_VERSION) throw new SpdyProtocolError(`unsupported SPDY version ${version}`);
      const frame = this.#control(type, flags, payload);
      if (frame) onFrame(frame);
    }
  }

  /** The first `n` buffered bytes (n <= what is buffered), joining chunks only when the first is short. */
  #peek(n: number): Buffer {
    if (this.#chunks[0].length < n) this.#chunks = [Buffer.concat(this.#chunks)];
    return this.#chunks[0].subarray(0, n);
  }

  /** Removes and returns the first `n` buffered bytes. */
  #take(n: number): Buffer {
    const all = this.#chunks.length === 1 ? this.#chunks[0] : Buffer.concat(this.#chunks);
    const rest = all.subarray(n);
    this.#chunks = rest.length > 0 ? [rest] : [];
    this.#length -= n;
    return all.subarray(0, n);
  }

  #control(type: number, flags: number, p: Buffer): Frame | undefined {
    const need = (n: number, what: string) => {
      if (p.length < n) throw new SpdyProtocolError(`${what} frame too short`);
    };
    const fin = (flags & FLAG_FIN) !== 0;
    switch (type) {
      case FrameType.SynStream: {
        need(10, "SYN_STREAM");
        const streamId = p.readUInt32BE(0) & 0x7fffffff;
        // Decompress even when the stream is refused below: the zlib history must stay in step.
        const headers = this.#decompressor.decompress(p.subarray(10));
        if (streamId === 0) throw new SpdyProtocolError("SYN_STREAM on stream 0");
        return {
          type: "syn_stream",
          streamId,
          associatedTo: p.readUInt32BE(4) & 0x7fffffff,
          priority: p[8] >>> 5,
          fin,
          unidirectional: (flags & FLAG_UNIDIRECTIONAL) !== 0,
          headers,
        };
      }
      case FrameType.SynReply:
      case FrameType.Headers: {
        need(4, type === FrameType.SynReply ? "SYN_REPLY" : "HEADERS");
        const streamId = p.readUInt32BE(0) & 0x7fffffff;
        const headers = this.#decompressor.decompress(p.subarray(4));
        if (streamId === 0) throw new SpdyProtocolError("header frame on stream 0");
        return { type: type === FrameType.SynReply ? "syn_reply" : "headers", streamId, fin, headers };
      }
      case FrameType.RstStream: {
        if (p.length !== 8) throw new SpdyProtocolError("RST_STREAM frame of the wrong length");
        return { type: "rst_stream", streamId: p.readUInt32BE(0) & 0x7fffffff, status: p.readUInt32BE(4) };
      }
      case FrameType.Settings: {
        need(4, "SETTINGS");
        const n = p.readUInt32BE(0);
        if (p.length !== 4 + n * 8) throw new SpdyProtocolError("SETTINGS frame of the wrong length");
        const entries = [];
        for (let i = 0; i < n; i++) {
          const w = p.readUInt32BE(4 + i * 8);
          entries.push({ flags: w >>> 24, id: w & 0xffffff, value: p.readUInt32BE(8 + i * 8) });
        }
        return { type: "settings", entries };
      }
      case FrameType.Ping:
        if (p.length !== 4) throw new SpdyProtocolError("PING frame of the wrong length");
        return { type: "ping", id: p.readUInt32BE(0) };
      case FrameType.GoAway:
        // SPDY/2 GOAWAY had no status; SPDY/3 has 8 bytes.
        if (p.length !== 8) throw new SpdyProtocolError("GOAWAY frame of the wrong length");
        return {
          type: "goaway",
          lastGoodStreamId: p.readUInt32BE(0) & 0x7fffffff,
          status: p.readUInt32BE(4),
        };
      case FrameType.WindowUpdate: {
        if (p.length !== 8) throw new SpdyProtocolError("WINDOW_UPDATE frame of the wrong length");
        const streamId = p.readUInt32BE(0) & 0x7fffffff;
        const delta = p.readUInt32BE(4) & 0x7fffffff;
        return { type: "window_update", streamId, delta };
      }
      default:
        // SPDY/3 2.2.1: a control frame of unknown type is ignored.
        return undefined;
    }
  }
}
