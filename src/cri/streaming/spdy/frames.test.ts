import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { describe, it } from "node:test";
import { constants, createDeflate, deflateSync, inflateSync } from "node:zlib";
import { spdy3Dictionary } from "./dictionary.ts";
import { SpdyProtocolError } from "./errors.ts";
import { type Frame, FrameParser, FrameWriter } from "./frames.ts";
import {
  decodeHeaderBlock,
  encodeHeaderBlock,
  HeaderCompressor,
  HeaderDecompressor,
  type SpdyHeaders,
} from "./headers.ts";

const h = (o: Record<string, string | string[]>): SpdyHeaders =>
  new Map(Object.entries(o).map(([k, v]) => [k, Array.isArray(v) ? v : [v]]));

function parseAll(bytes: Buffer, parser = new FrameParser()): Frame[] {
  const out: Frame[] = [];
  parser.push(bytes, (f) => out.push(f));
  return out;
}

describe("SPDY/3 dictionary", () => {
  it("is the 1423 bytes of the SPDY/3 draft", () => {
    assert.equal(spdy3Dictionary.length, 1423);
    const sum = createHash("sha256").update(spdy3Dictionary).digest("hex");
    assert.equal(sum, "51d27341373f923f3cd88e1eb7162aeaa3723d7585ff2399201dc06498407f02");
  });
});

describe("header blocks", () => {
  it("round-trip names and NUL-joined values", () => {
    const headers = h({ streamtype: "stdout", "x-multi": ["a", "b"] });
    assert.deepEqual(decodeHeaderBlock(encodeHeaderBlock(headers)), headers);
  });

  it("refuse truncated and lying blocks", () => {
    const good = encodeHeaderBlock(h({ port: "80" }));
    assert.throws(() => decodeHeaderBlock(good.subarray(0, good.length - 1)), SpdyProtocolError);
    const lying = Buffer.from(good);
    lying.writeUInt32BE(0x7fffffff, 0);
    assert.throws(() => decodeHeaderBlock(lying), SpdyProtocolError);
    const longName = Buffer.from(good);
    longName.writeUInt32BE(0xffffffff, 4);
    assert.throws(() => decodeHeaderBlock(longName), SpdyProtocolError);
  });

  it("compress into one zlib stream a standard inflater reads (as Go's zlib reader does)", () => {
    const c = new HeaderCompressor();
    const blocks = [
      h({ streamtype: "error" }),
      h({ streamtype: "stdin" }),
      h({ streamtype: "stdout", a: "x".repeat(300) }),
    ];
    const wire = Buffer.concat(blocks.map((b) => c.compress(b)));
    const plain = inflateSync(wire, { dictionary: spdy3Dictionary, finishFlush: constants.Z_SYNC_FLUSH });
    assert.deepEqual(plain, Buffer.concat(blocks.map(encodeHeaderBlock)));
    // The repeated names compress against the dictionary and the earlier blocks.
    assert.ok(c.compress(blocks[2]).length < 40);
  });

  it("decompress a standard sync-flushed zlib stream block by block (as Go's zlib writer sends it)", async () => {
    const deflate = createDeflate({ dictionary: spdy3Dictionary, level: 9 });
    const chunks: Buffer[] = [];
    deflate.on("data", (b: Buffer) => chunks.push(b));
    const blocks = [
      h({ streamtype: "error", port: "8080" }),
      h({ streamtype: "data", port: "8080" }),
      h({ x: "y".repeat(5000) }),
    ];
    const frames: Buffer[] = [];
    for (const b of blocks) {
      deflate.write(encodeHeaderBlock(b));
      await new Promise<void>((r) => deflate.flush(constants.Z_SYNC_FLUSH, () => r()));
      await new Promise((r) => setImmediate(r));
      frames.push(Buffer.concat(chunks.splice(0)));
    }
    const d = new HeaderDecompressor(64 * 1024);
    assert.deepEqual(
      frames.map((f) => d.decompress(f)),
      blocks,
    );
  });

  it("stay in step with a standard zlib stream past the 32 KiB window, both ways", async () => {
    // A long port-forward session opens thousands of streams: the history outgrows deflate's window.
    const blocks = Array.from({ length: 1500 }, (_, i) =>
      h({ streamtype: i % 2 ? "data" : "error", port: String(1000 + (i % 50)), requestid: String(i) }),
    );
    const c = new HeaderCompressor();
    const ours = Buffer.concat(blocks.map((b) => c.compress(b)));
    const plain = inflateSync(ours, { dictionary: spdy3Dictionary, finishFlush: constants.Z_SYNC_FLUSH });
    assert.ok(plain.length > 64 * 1024);
    assert.deepEqual(plain, Buffer.concat(blocks.map(encodeHeaderBlock)));

    const deflate = createDeflate({ dictionary: spdy3Dictionary, level: 9 });
    const chunks: Buffer[] = [];
    deflate.on("data", (b: Buffer) => chunks.push(b));
    const d = new HeaderDecompressor(64 * 1024);
    for (const b of blocks) {
      deflate.write(encodeHeaderBlock(b));
      await new Promise<void>((r) => deflate.flush(constants.Z_SYNC_FLUSH, () => r()));
      await new Promise((r) => setImmediate(r));
      assert.deepEqual(d.decompress(Buffer.concat(chunks.splice(0))), b);
    }
  });

  it("refuse a compression bomb, another dictionary and garbage", () => {
    const bomb = new HeaderCompressor().compress(h({ x: "a".repeat(200_000) }));
    assert.ok(bomb.length < 2000);
    assert.throws(() => new HeaderDecompressor(64 * 1024).decompress(bomb), /too large/);
    const otherDict = deflateSync(encodeHeaderBlock(h({ a: "b" })), { dictionary: Buffer.from("not spdy") });
    assert.throws(() => new HeaderDecompressor(1024).decompress(otherDict), /another dictionary/);
    assert.throws(() => new HeaderDecompressor(1024).decompress(Buffer.from("garbage!")), SpdyProtocolError);
  });
});

describe("frames", () => {
  it("round-trip every frame type through writer and parser", () => {
    const frames: Frame[] = [
      {
        type: "syn_stream",
        streamId: 1,
        associatedTo: 0,
        priority: 3,
        fin: false,
        unidirectional: false,
        headers: h({ streamtype: "error" }),
      },
      { type: "syn_reply", streamId: 1, fin: false, headers: new Map() },
      { type: "headers", streamId: 1, fin: true, headers: h({ a: "b" }) },
      { type: "data", streamId: 1, fin: false, data: Buffer.from("hello") },
      { type: "data", streamId: 3, fin: true, data: Buffer.alloc(0) },
      { type: "rst_stream", streamId: 5, status: 5 },
      { type: "settings", entries: [{ flags: 0, id: 7, value: 65536 }] },
      { type: "ping", id: 1 },
      { type: "goaway", lastGoodStreamId: 7, status: 0 },
      { type: "window_update", streamId: 1, delta: 1000 },
    ];
    const w = new FrameWriter();
    const bytes = Buffer.concat(frames.map((f) => w.encode(f)));
    // Byte by byte: the parser must cope with frames split anywhere.
    const parser = new FrameParser();
    const out: Frame[] = [];
    for (let i = 0; i < bytes.length; i++) parser.push(bytes.subarray(i, i + 1), (f) => out.push(f));
    assert.deepEqual(out, frames);
  });

  it("lay data and control frames out as SPDY/3 does", () => {
    const w = new FrameWriter();
    assert.deepEqual(
      w.encode({ type: "data", streamId: 3, fin: true, data: Buffer.from("ab") }),
      Buffer.from([0, 0, 0, 3, 1, 0, 0, 2, 0x61, 0x62]),
    );
    assert.deepEqual(w.encode({ type: "ping", id: 2 }), Buffer.from([0x80, 3, 0, 6, 0, 0, 0, 4, 0, 0, 0, 2]));
    assert.deepEqual(
      w.encode({ type: "rst_stream", streamId: 1, status: 3 }),
      Buffer.from([0x80, 3, 0, 3, 0, 0, 0, 8, 0, 0, 0, 1, 0, 0, 0, 3]),
    );
  });

  it("ignore control frames of unknown type", () => {
    const unknown = Buffer.from([0x80, 3, 0, 0x42, 0, 0, 0, 2, 9, 9]);
    const ping = new FrameWriter().encode({ type: "ping", id: 1 });
    assert.deepEqual(parseAll(Buffer.concat([unknown, ping])), [{ type: "ping", id: 1 }]);
  });

  it("refuse oversize frames from their length alone, other versions, bad lengths and stream 0", () => {
    const bigControl = Buffer.from([0x80, 3, 0, 1, 0, 0x10, 0, 0]);
    assert.throws(() => parseAll(bigControl), /over the limit/);
    const bigData = Buffer.from([0, 0, 0, 1, 0, 0x20, 0, 0]);
    assert.throws(() => parseAll(bigData, new FrameParser({ maxDataLength: 1024 * 1024 })), /over the limit/);
    assert.throws(() => parseAll(Buffer.from([0x80, 2, 0, 6, 0, 0, 0, 4, 0, 0, 0, 1])), /version 2/);
    assert.throws(() => parseAll(Buffer.from([0x80, 3, 0, 6, 0, 0, 0, 3, 0, 0, 1])), /wrong length/);
    assert.throws(() => parseAll(Buffer.from([0, 0, 0, 0, 0, 0, 0, 0])), /stream 0/);
    assert.throws(() => parseAll(Buffer.from([0x80, 3, 0, 7, 0, 0, 0, 4, 0, 0, 0, 1])), /GOAWAY/);
  });
});
