import assert from "node:assert/strict";
import { test } from "node:test";
import { nextDelay, restartOnDaemonStart, shouldRestart } from "./restart.ts";

const base = { exitCode: 1, restartCount: 0, manuallyStopped: false, removing: false };

test("restart policies decide as Docker's", () => {
  assert.equal(shouldRestart({ Name: "no" }, base), false);
  assert.equal(shouldRestart(undefined, base), false);
  assert.equal(shouldRestart({ Name: "always" }, { ...base, exitCode: 0 }), true);
  assert.equal(shouldRestart({ Name: "always" }, { ...base, manuallyStopped: true }), false);
  assert.equal(shouldRestart({ Name: "unless-stopped" }, base), true);
  assert.equal(shouldRestart({ Name: "on-failure" }, { ...base, exitCode: 0 }), false);
  assert.equal(
    shouldRestart({ Name: "on-failure", MaximumRetryCount: 2 }, { ...base, restartCount: 1 }),
    true,
  );
  assert.equal(
    shouldRestart({ Name: "on-failure", MaximumRetryCount: 2 }, { ...base, restartCount: 2 }),
    false,
  );
  assert.equal(shouldRestart({ Name: "on-failure" }, { ...base, restartCount: 99 }), true);
  assert.equal(shouldRestart({ Name: "always" }, { ...base, removing: true }), false);
});

test("daemon start restarts always, and unless-stopped unless stopped by hand", () => {
  assert.equal(restartOnDaemonStart({ Name: "always" }, true), true);
  assert.equal(restartOnDaemonStart({ Name: "unless-stopped" }, true), false);
  assert.equal(restartOnDaemonStart({ Name: "unless-stopped" }, false), true);
  assert.equal(restartOnDaemonStart({ Name: "on-failure" }, false), false);
});

test("backoff doubles to a minute and resets after a long run", () => {
  assert.equal(nextDelay(0, 0), 100);
  assert.equal(nextDelay(100, 50), 200);
  assert.equal(nextDelay(40_000, 50), 60_000);
  assert.equal(nextDelay(60_000, 50), 60_000);
  assert.equal(nextDelay(6400, 10_000), 100);
});
