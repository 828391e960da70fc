import assert from "node:assert/strict";
import { describe, it, test } from "node:test";
import { humanDuration, ramInBytes } from "./humanize.ts";

test("human durations, as go-units HumanDuration", () => {
  assert.equal(humanDuration(500), "Less than a second");
  assert.equal(humanDuration(1000), "1 second");
  assert.equal(humanDuration(3000), "3 seconds");
  assert.equal(humanDuration(65_000), "About a minute");
  assert.equal(humanDuration(2 * 60_000), "2 minutes");
  assert.equal(humanDuration(3600_000), "About an hour");
  assert.equal(humanDuration(5 * 3600_000), "5 hours");
  assert.equal(humanDuration(3 * 24 * 3600_000), "3 days");
  assert.equal(humanDuration(20 * 24 * 3600_000), "2 weeks");
  assert.equal(humanDuration(90 * 24 * 3600_000), "3 months");
  assert.equal(humanDuration(800 * 24 * 3600_000), "2 years");
});

describe("ramInBytes", () => {
  it("reads go-units sizes in binary multiples, truncated to bytes", () => {
    assert.equal(ramInBytes("100"), 100);
    assert.equal(ramInBytes("512m"), 512 * 1024 ** 2);
    assert.equal(ramInBytes("1.5GiB"), 1.5 * 1024 ** 3);
    assert.equal(ramInBytes("2 kb"), 2048);
    assert.equal(ramInBytes("1.7b"), 1);
  });
  it("answers undefined for what is not a size", () => {
    for (const bad of ["", "m", "1x", "-1m", "1mm"]) assert.equal(ramInBytes(bad), undefined, bad);
  });
});
