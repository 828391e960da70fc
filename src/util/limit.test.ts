import assert from "node:assert/strict";
import { test } from "node:test";
import { limiter, settleAll } from "./limit.ts";

test("limiter runs at most n at once and every function to the end", async () => {
  const limit = limiter(3);
  let active = 0;
  let peak = 0;
  const out = await Promise.all(
    Array.from({ length: 20 }, (_, i) =>
      limit(async () => {
        active++;
        peak = Math.max(peak, active);
        await new Promise((r) => setImmediate(r));
        active--;
        return i;
      }),
    ),
  );
  assert.equal(peak, 3);
  assert.deepEqual(
    out,
    Array.from({ length: 20 }, (_, i) => i),
  );
});

test("settleAll rethrows the first failure only after the others settled", async () => {
  let finished = false;
  const slow = new Promise<number>((r) =>
    setTimeout(() => {
      finished = true;
      r(1);
    }, 20),
  );
  await assert.rejects(settleAll([Promise.reject(new Error("boom")), slow]), /boom/);
  assert.ok(finished);
});
