/**
 * A small protocol-buffers wire codec: enough for the BuildKit, fsutil and gRPC messages wharf speaks. Messages
 * are written field by field and read into a list of fields, so each message's shape lives next to its use.
 */

/** Builds one message; nested messages are built by their own writer and added as bytes. */
export class ProtoWriter {
  readonly #parts: Buffer[] = [];

  #varint(v: number | bigint): void {
    let n = BigInt.asUintN(64, BigInt(v));
    const out: number[] = [];
    while (n > 0x7fn) {
      out.push(Number(n & 0x7fn) | 0x80);
      n >>= 7n;
    }
    out.push(Number(n));
    this.#parts.push(Buffer.from(out));
  }

  #tag(no: number, wire: number): void {
    this.#varint((no << 3) | wire);
  }

  /** An integer field (int32, int64, uint32, bool, enum); zero is left out as proto3 does. */
  int(no: number, v: number | bigint | boolean | undefined): this {
    const n = typeof v === "boolean" ? (v ? 1 : 0) : v;
    if (n === undefined || n === 0 || n === 0n) return this;
    this.#tag(no, 0);
    this.#varint(n);
    return this;
  }

  /** A string field; empty is left out. */
  string(no: number, v: string | undefined): this {
    if (!v) return this;
    return this.bytes(no, Buffer.from(v, "utf8"));
  }

  /** A bytes field, written even when empty when `always` (an empty DATA packet ends a file). */
  bytes(no: number, v: Uint8Array | undefined, opts: { always?: boolean } = {}): this {
    if (!v || (v.length === 0 && !opts.always)) return this;
    this.#tag(no, 2);
    this.#varint(v.length);
    this.#parts.push(Buffer.from(v.buffer, v.byteOffset, v.length));
    return this;
  }

  /** A nested message field; written even when empty, since presence can matter (a Stat, a Timestamp). */
  message(no: number, w: ProtoWriter | undefined): this {
    if (!w) return this;
    const b = w.finish();
    this.#tag(no, 2);
    this.#varint(b.length);
    this.#parts.push(b);
    return this;
  }

  /** A map<string,string> or map<string,bytes> field: one entry message per key. */
  map(no: number, m: Record<string, string | Uint8Array> | undefined): this {
    for (const [k, v] of Object.entries(m ?? {})) {
      const e = new ProtoWriter().string(1, k);
      if (typeof v === "string") e.string(2, v);
      else e.bytes(2, v);
      this.message(no, e);
    }
    return this;
  }

  /** The encoded message. */
  finish(): Buffer {
    return Buffer.concat(this.#parts);
  }
}

/** One decoded field: varints as bigint, length-delimited ones as bytes. */
export interface ProtoField {
  no: number;
  wire: number;
  int: bigint;
  bytes: Buffer;
}

/** Thrown for bytes that are not a protobuf message. */
export class ProtoError extends Error {}

/** Decodes a message into its fields, in wire order. */
export function readFields(buf: Buffer): ProtoField[] {
  const out: ProtoField[] = [];
  let pos = 0;
  const varint = (): bigint => {
    let shift = 0n;
    let v = 0n;
    for (;;) {
      if (pos >= buf.length) throw new ProtoError("truncated varint");
      const b = buf[pos++];
      v |= BigInt(b & 0x7f) << shift;
      if (!(b & 0x80)) return v;
      shift += 7n;
      if (shift > 70n) throw new ProtoError("varint too long");
    }
  };
  const empty = Buffer.alloc(0);
  while (pos < buf.length) {
    const tag = Number(varint());
    const no = tag >>> 3;
    const wire = tag & 7;
    if (wire === 0) out.push({ no, wire, int: varint(), bytes: empty });
    else if (wire === 2) {
      const len = Number(varint());
      if (pos + len > buf.length) throw new ProtoError("truncated field");
      out.push({ no, wire, int: 0n, bytes: buf.subarray(pos, pos + len) });
      pos += len;
    } else if (wire === 1 || wire === 5) {
      const n = wire === 1 ? 8 : 4;
      if (pos + n > buf.length) throw new ProtoError("truncated fixed field");
      const bytes = buf.subarray(pos, pos + n);
      pos += n;
      out.push({ no, wire, int: n === 8 ? bytes.readBigUInt64LE() : BigInt(bytes.readUInt32LE()), bytes });
    } else throw new ProtoError(`unsupported wire type ${wire}`);
  }
  return out;
}

/** Typed access to a decoded message's fields. */
export class ProtoReader {
  readonly fields: ProtoField[];

  constructor(buf: Buffer) {
    this.fields = readFields(buf);
  }

  #last(no: number): ProtoField | undefined {
    for (let i = this.fields.length - 1; i >= 0; i--) if (this.fields[i].no === no) return this.fields[i];
    return undefined;
  }

  /** Whether the field is present at all. */
  has(no: number): boolean {
    return this.#last(no) !== undefined;
  }

  string(no: number): string {
    return this.#last(no)?.bytes.toString("utf8") ?? "";
  }

  bytes(no: number): Buffer {
    return this.#last(no)?.bytes ?? Buffer.alloc(0);
  }

  /** An integer field as a JavaScript number (int64 sizes stay well below 2^53). */
  int(no: number): number {
    const f = this.#last(no);
    return f ? Number(BigInt.asIntN(64, f.int)) : 0;
  }

  bool(no: number): boolean {
    return this.int(no) !== 0;
  }

  /** A nested message, or undefined when absent. */
  message(no: number): ProtoReader | undefined {
    const f = this.#last(no);
    return f ? new ProtoReader(f.bytes) : undefined;
  }

  /** Every occurrence of a repeated string field. */
  strings(no: number): string[] {
    return this.fields.filter((f) => f.no === no).map((f) => f.bytes.toString("utf8"));
  }

  /** Every occurrence of a repeated message field. */
  messages(no: number): ProtoReader[] {
    return this.fields.filter((f) => f.no === no).map((f) => new ProtoReader(f.bytes));
  }

  /** A map<string,string> field. */
  map(no: number): Record<string, string> {
    const out: Record<string, string> = {};
    for (const e of this.messages(no)) out[e.string(1)] = e.string(2);
    return out;
  }
}

/** A google.protobuf.Timestamp for a time in milliseconds (or nanoseconds as bigint). */
export function timestamp(at: number | bigint): ProtoWriter {
  const ns = typeof at === "bigint" ? at : BigInt(Math.round(at * 1e6));
  return new ProtoWriter().int(1, ns / 1_000_000_000n).int(2, Number(ns % 1_000_000_000n));
}
