import assert from "node:assert/strict";
import { test } from "node:test";
import { humanDuration } from "./humanize.ts";

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
