import assert from "node:assert/strict";
import { PassThrough } from "node:stream";
import { describe, it } from "node:test";
import type { TerminalSize } from "../stream-runtime.ts";
import { resizeEvents, splitSizes } from "./resize.ts";

describe("resize stream", () => {
  it("splits Go's json.Encoder output and keeps a partial object for later", () => {
    const r = splitSizes('{"Width":80,"Height":24}\n{"width":100,"height":30}\n{"Width":1');
    assert.deepEqual(r.sizes, [
      { width: 80, height: 24 },
      { width: 100, height: 30 },
    ]);
    assert.equal(r.rest, '{"Width":1');
    assert.equal(r.bad, false);
  });

  it("stops at what Go's decoder would refuse", () => {
    assert.equal(splitSizes("garbage").bad, true);
    assert.equal(splitSizes('{"Width":-1,"Height":2}').bad, true);
    assert.equal(splitSizes('{"Width":"80"}').bad, true);
    assert.deepEqual(splitSizes('{"Width":80,"Height":24,"Other":{"x":"}"}}').sizes, [
      { width: 80, height: 24 },
    ]);
  });

  it("is read whether or not anyone iterates, keeping the latest sizes", async () => {
    const stream = new PassThrough();
    const events = resizeEvents(stream);
    for (let i = 1; i <= 40; i++) stream.write(`{"Width":${i},"Height":${i}}\n`);
    stream.end();
    const got: TerminalSize[] = [];
    for await (const s of events) got.push(s);
    assert.equal(got.length, 16);
    assert.deepEqual(got.at(-1), { width: 40, height: 40 });
  });
});
