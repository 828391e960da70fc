import assert from "node:assert/strict";
import { test } from "node:test";
import type { ContainerStateDoc } from "./model.ts";
import { State } from "./state.ts";

function memoryState(doc?: ContainerStateDoc): { state: State; saved: ContainerStateDoc[] } {
  const saved: ContainerStateDoc[] = [];
  const state = new State(doc, async (d) => void saved.push(d));
  return { state, saved };
}

const run = { pid: 42, startedAt: "2026-01-01T00:00:00.000000001Z", startedAtNs: 1_000n };
const exit = { exitCode: 2, exitedAt: "2026-01-01T00:00:01Z", oomKilled: false };

test("status follows the flags through every transition, and each one is persisted", async () => {
  const { state, saved } = memoryState();
  assert.equal(state.status, "created");
  await state.setRunning(run);
  assert.equal(state.status, "running");
  await state.setPaused();
  assert.equal(state.status, "paused");
  await state.setUnpaused();
  await state.setStopped(exit);
  assert.equal(state.status, "exited");
  assert.equal(state.view().Pid, 0);
  await state.setRestarting(100);
  assert.equal(state.status, "restarting");
  assert.equal(state.view().Running, true);
  await state.setRestartCancelled();
  assert.equal(state.status, "exited");
  assert.equal(state.setRemovalInProgress(), true);
  assert.equal(state.setRemovalInProgress(), false, "one removal at a time");
  assert.equal(state.status, "removing");
  await state.setDead();
  assert.equal(state.status, "dead");
  assert.deepEqual(
    saved.map((d) => d.State.Status),
    ["running", "paused", "running", "exited", "restarting", "exited", "dead"],
  );
  assert.equal(saved.at(-1)?.State.ExitCode, 2);
});

test("removal is not persisted: a reloaded state is what it was before", async () => {
  const { state, saved } = memoryState();
  await state.setRunning(run);
  await state.setStopped(exit);
  state.setRemovalInProgress();
  await state.save();
  assert.equal(saved.at(-1)?.State.Status, "exited");
  const again = new State(saved.at(-1), async () => undefined);
  assert.equal(again.status, "exited");
  assert.equal(again.removing, false);
  assert.equal(again.hasBeenStarted, true);
});

test("after removal nothing is written, and every waiter hears the last exit code", async () => {
  const { state, saved } = memoryState();
  await state.setRunning(run);
  const next = state.wait("next-exit");
  const removed = state.wait("removed");
  await state.setStopped(exit);
  state.setRemoved();
  assert.deepEqual(await next, { code: 2 });
  assert.deepEqual(await removed, { code: 2 });
  const n = saved.length;
  await state.setHealth({ Status: "healthy" });
  assert.equal(saved.length, n);
});

test("wait: not-running answers at once when stopped; next-exit counts a run started after the request", async () => {
  const { state } = memoryState();
  assert.deepEqual(await state.wait("not-running"), { code: 0 });
  await state.setRunning(run);
  await state.setStopped(exit);
  assert.deepEqual(await state.wait("next-exit", { requestedAtNs: 999n }), { code: 2 });
  let settled = false;
  const later = state.wait("next-exit", { requestedAtNs: 2_000n }).then((r) => {
    settled = true;
    return r;
  });
  await new Promise((r) => setImmediate(r));
  assert.equal(settled, false, "an earlier run is not the next exit");
  state.notifyExit({ code: 9, error: "boom" });
  assert.deepEqual(await later, { code: 9, error: "boom" });
});

test("writes are queued: the last one on disk is the latest state", async () => {
  const order: string[] = [];
  let release!: () => void;
  const slowDisk = new Promise<void>((r) => {
    release = r;
  });
  const state = new State(undefined, async (d) => {
    await slowDisk;
    order.push(d.State.Status);
  });
  void state.setRunning(run);
  void state.setPaused();
  const last = state.setUnpaused();
  release();
  await last;
  assert.equal(order.at(-1), "running");
  assert.equal(order.length, 3);
});
