import assert from "node:assert/strict";
import { test } from "node:test";
import type { Container } from "./container.ts";
import { FakeEngine } from "./fakes.ts";

/** Each state a daemon can stop in, and what the next daemon makes of it. */
test("daemon restart restores each state", async () => {
  const e = await FakeEngine.create();
  try {
    const created = await e.createContainer();
    const running = await e.createContainer();
    const diedWhileDown = await e.createContainer();
    const vanished = await e.createContainer({ RestartPolicy: { Name: "no" } });
    const paused = await e.createContainer();
    const exitedAlways = await e.createContainer({ RestartPolicy: { Name: "always" } });
    const stoppedUnless = await e.createContainer({ RestartPolicy: { Name: "unless-stopped" } });
    const exitedUnless = await e.createContainer({ RestartPolicy: { Name: "unless-stopped" } });
    const restarting = await e.createContainer({ RestartPolicy: { Name: "always" } });

    for (const c of [
      running,
      diedWhileDown,
      vanished,
      paused,
      exitedAlways,
      stoppedUnless,
      exitedUnless,
      restarting,
    ])
      await e.lifecycle.start(c.id);
    await e.supervisor.pause(paused.id);
    await e.lifecycle.stop(stoppedUnless.id, {});
    // Exits under their policies: "always" and "unless-stopped" go into their back-off...
    for (const c of [exitedAlways, exitedUnless, restarting]) {
      e.runtime.exit(c.id, 1);
      await c.exitHandled;
      assert.equal(c.state.status, "restarting");
    }
    // ...and two of them end it as a manual stop would not: leave them "exited" by a stop mid-back-off.
    await e.lifecycle.stop(exitedAlways.id, {});
    await e.lifecycle.stop(exitedUnless.id, {});
    assert.equal(exitedUnless.state.manuallyStopped, true);

    const backAlways = e.nextEvent(exitedAlways.id, "start");
    const backRestarting = e.nextEvent(restarting.id, "start");
    await e.restart((rt) => {
      rt.diedWhileDown(diedWhileDown.id, 3);
      // conmon was killed with it: no exit file, nothing alive.
      rt.alive.delete(vanished.id);
    });
    const get = (c: Container) => e.registry.get(c.id);

    assert.equal(get(created).state.status, "created");
    assert.equal(get(running).state.status, "running");
    assert.ok(e.network.calls.includes(`restore ${running.id}`));
    assert.equal(get(diedWhileDown).state.status, "exited");
    assert.equal(get(diedWhileDown).state.exitCode, 3);
    assert.equal(get(vanished).state.status, "exited");
    assert.equal(get(vanished).state.exitCode, 255);
    assert.equal(get(paused).state.status, "paused");
    assert.equal(get(stoppedUnless).state.status, "exited", "unless-stopped respects the manual stop");
    assert.equal(get(exitedUnless).state.status, "exited");
    // "always" comes back at daemon start even after a manual stop; the restarting one goes through its
    // exit again (no exit file between runs: 255) and its back-off, then runs.
    await backAlways;
    assert.equal(get(exitedAlways).state.status, "running");
    await backRestarting;
    assert.equal(get(restarting).state.status, "running");
    assert.equal(get(restarting).state.restartCount, 1);

    // The restored containers are watched again: exits, stops and removal work as before the restart.
    e.runtime.exit(running.id, 0);
    await get(running).exitHandled;
    assert.equal(get(running).state.status, "exited");
    await e.lifecycle.kill(paused.id, "SIGKILL");
    assert.equal(get(paused).state.status, "exited");
    for (const c of [...e.registry.index.values()]) await e.lifecycle.remove(c.id, { force: true });
    assert.equal(e.registry.index.size, 0);
  } finally {
    await e.close();
  }
});

test("a restart policy's back-off survives a daemon restart as the same restart count", async () => {
  const e = await FakeEngine.create();
  try {
    const c = await e.createContainer({ RestartPolicy: { Name: "on-failure", MaximumRetryCount: 5 } });
    await e.lifecycle.start(c.id);
    e.runtime.exit(c.id, 2);
    await c.exitHandled;
    await e.restart();
    const r = e.registry.get(c.id);
    // Back from 255 (no exit file for a container between runs) into the policy: one more try.
    await e.nextEvent(c.id, "start");
    assert.equal(r.state.status, "running");
    assert.equal(r.state.restartCount, 1);
    await e.lifecycle.stop(c.id, { timeout: 0 });
    assert.equal(r.state.status, "exited");
  } finally {
    await e.close();
  }
});
