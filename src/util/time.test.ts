import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { parseFilterTime } from "./time.ts";

describe("parseFilterTime", () => {
  const now = 1_700_000_000_000_000_000n;
  it("reads Unix seconds with a fraction, dates and RFC 3339 times", () => {
    assert.equal(parseFilterTime("1700000000", now), now);
    assert.equal(parseFilterTime("1700000000.5", now), now + 500_000_000n);
    assert.equal(parseFilterTime("2023-11-14", now), BigInt(Date.parse("2023-11-14T00:00:00Z")) * 1_000_000n);
    assert.equal(parseFilterTime("2023-11-14T22:13:20.000000001Z", now), now + 1n);
  });
  it("counts Go durations back from now", () => {
    assert.equal(parseFilterTime("1h", now), now - 3_600_000_000_000n);
    assert.equal(parseFilterTime("1m30s", now), now - 90_000_000_000n);
    assert.equal(parseFilterTime("1.5h", now), now - 5_400_000_000_000n);
  });
  it("answers undefined for anything else, so callers word the error", () => {
    for (const bad of ["soon", "1x", "", "10mm"]) assert.equal(parseFilterTime(bad, now), undefined, bad);
  });
});
