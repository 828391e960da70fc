/**
 * Property tests of the SPDY layer on hostile bytes: whatever arrives, the parser and the header codec either
 * produce frames or throw SpdyProtocolError (which ends just that connection), never anything else.
 */
import assert from "node:assert/strict";
import { Duplex, PassThrough } from "node:stream";
import { describe, it } from "node:test";
import fc from "fast-check";
import { SpdyProtocolError } from "./errors.ts";
import { type Frame, FrameParser, FrameWriter } from "./frames.ts";
import { decodeHeaderBlock, HeaderDecompressor } from "./headers.ts";
import { SpdySession } from "./session.ts";

const onlyProtocolErrors = (f: () => void) => {
  try {
    f();
  } catch (e) {
    if (!(e instanceof SpdyProtocolError)) throw e;
  }
};

/** Valid frames, so that the random bytes land in every state of the parser. */
const frameArb: fc.Arbitrary<Frame> = fc.oneof(
  fc.record({
    type: fc.constant("data" as const),
    streamId: fc.integer({ min: 1, max: 0x7fffffff }),
    fin: fc.boolean(),
    data: fc.uint8Array({ maxLength: 64 }).map((a) => Buffer.from(a)),
  }),
  fc.record({
    type: fc.constant("syn_stream" as const),
    streamId: fc.integer({ min: 1, max: 99 }),
    associatedTo: fc.constant(0),
    priority: fc.integer({ min: 0, max: 7 }),
    fin: fc.boolean(),
    unidirectional: fc.boolean(),
    headers: fc
      .dictionary(
        fc.stringMatching(/^[a-z]{1,8}$/),
        fc.array(fc.string({ maxLength: 8 }), { minLength: 1, maxLength: 2 }),
      )
      .map((d) => new Map(Object.entries(d))),
  }),
  fc.record({ type: fc.constant("ping" as const), id: fc.integer({ min: 0, max: 0xffffffff }) }),
  fc.record({
    type: fc.constant("rst_stream" as const),
    streamId: fc.integer({ min: 1, max: 99 }),
    status: fc.integer({ min: 1, max: 11 }),
  }),
);

describe("SPDY layer on hostile input", () => {
  it("parser: random bytes give frames or a SpdyProtocolError", () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 64 }), { maxLength: 8 }), (chunks) => {
        const p = new FrameParser({ maxDataLength: 4096, maxControlLength: 4096 });
        onlyProtocolErrors(() => {
          for (const c of chunks) p.push(Buffer.from(c), () => {});
        });
      }),
      { numRuns: 2000 },
    );
  });

  it("parser: valid frames with random bytes spliced in, cut anywhere", () => {
    fc.assert(
      fc.property(
        fc.array(frameArb, { maxLength: 6 }),
        fc.uint8Array({ maxLength: 32 }),
        fc.nat(),
        fc.nat(),
        (frames, junk, at, cut) => {
          const w = new FrameWriter();
          const good = Buffer.concat(frames.map((f) => w.encode(f)));
          const i = good.length === 0 ? 0 : at % good.length;
          const bytes = Buffer.concat([good.subarray(0, i), Buffer.from(junk), good.subarray(i)]);
          const j = bytes.length === 0 ? 0 : cut % bytes.length;
          const p = new FrameParser();
          onlyProtocolErrors(() => {
            p.push(bytes.subarray(0, j), () => {});
            p.push(bytes.subarray(j), () => {});
          });
        },
      ),
      { numRuns: 1000 },
    );
  });

  it("parser: valid frames split anywhere come out whole and in order", () => {
    fc.assert(
      fc.property(fc.array(frameArb, { minLength: 1, maxLength: 6 }), fc.nat(), (frames, cut) => {
        // One writer for all: the header blocks continue one zlib stream.
        const w = new FrameWriter();
        const stream = Buffer.concat(frames.map((f) => w.encode(f)));
        const j = cut % stream.length;
        const out: Frame[] = [];
        const p = new FrameParser();
        p.push(stream.subarray(0, j), (f) => out.push(f));
        p.push(stream.subarray(j), (f) => out.push(f));
        // fast-check's records have no prototype; the parser's frames are plain objects.
        assert.deepEqual(
          out,
          frames.map((f) => ({ ...f })),
        );
      }),
      { numRuns: 500 },
    );
  });

  it("header codec: random blocks and random compressed bytes throw only SpdyProtocolError", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 128 }), (a) => {
        onlyProtocolErrors(() => decodeHeaderBlock(Buffer.from(a)));
        onlyProtocolErrors(() => new HeaderDecompressor(4096).decompress(Buffer.from(a)));
        // A valid zlib header (no dictionary) followed by junk reaches the inflater itself.
        onlyProtocolErrors(() =>
          new HeaderDecompressor(4096).decompress(Buffer.concat([Buffer.from([0x78, 0x9c]), Buffer.from(a)])),
        );
      }),
      { numRuns: 2000 },
    );
  });

  it("session: any sequence of frames from a client leaves the server session sane", async () => {
    const sessionFrameArb: fc.Arbitrary<Frame> = fc.oneof(
      frameArb,
      fc.record({
        type: fc.constant("window_update" as const),
        streamId: fc.integer({ min: 0, max: 9 }),
        delta: fc.integer({ min: 1, max: 1 << 20 }),
      }),
      fc.record({ type: fc.constant("goaway" as const), lastGoodStreamId: fc.nat(9), status: fc.nat(2) }),
      fc.record({
        type: fc.constant("syn_reply" as const),
        streamId: fc.integer({ min: 1, max: 9 }),
        fin: fc.boolean(),
        headers: fc.constant(new Map<string, string[]>()),
      }),
    );
    await fc.assert(
      fc.asyncProperty(fc.array(sessionFrameArb, { maxLength: 12 }), async (frames) => {
        const toServer = new PassThrough();
        const toClient = new PassThrough();
        const socket = Duplex.from({ readable: toServer, writable: toClient });
        toClient.resume();
        const session = new SpdySession(socket, { role: "server" });
        session.on("stream", (s) => {
          s.reply();
          s.on("error", () => {});
          s.resume();
          s.end("reply");
        });
        const w = new FrameWriter();
        for (const f of frames) toServer.write(w.encode(f));
        await new Promise((r) => setImmediate(r));
        toServer.end();
        await session.close();
      }),
      { numRuns: 300 },
    );
  });
});
