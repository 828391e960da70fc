import assert from "node:assert/strict";
import { test } from "node:test";
import { parseGoDuration } from "./duration.ts";

test("parses Go durations into nanoseconds", () => {
  assert.equal(parseGoDuration("0"), 0);
  assert.equal(parseGoDuration("300ms"), 300e6);
  assert.equal(parseGoDuration("1m30s"), 90e9);
  assert.equal(parseGoDuration("1.5h"), 5400e9);
  assert.equal(parseGoDuration(".5s"), 5e8);
  assert.equal(parseGoDuration("1.s"), 1e9);
  assert.equal(parseGoDuration("-2s"), -2e9);
  assert.equal(parseGoDuration("+2us"), 2000);
  assert.equal(parseGoDuration("3µs1ns"), 3001);
});

test("refuses what Go refuses, with Go's text", () => {
  for (const bad of ["", "10", "1x", "s", "1s2", "- 1s", "1 s"])
    assert.throws(() => parseGoDuration(bad), { message: `time: invalid duration "${bad}"` });
});
