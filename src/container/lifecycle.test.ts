import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { test } from "node:test";
import { FakeEngine } from "./fakes.ts";
import type { ContainerStateDoc } from "./model.ts";

async function withEngine(fn: (e: FakeEngine) => Promise<void>): Promise<void> {
  const e = await FakeEngine.create();
  try {
    await fn(e);
  } finally {
    await e.close();
  }
}

async function stateOnDisk(e: FakeEngine, id: string): Promise<ContainerStateDoc> {
  return JSON.parse(await readFile(join(e.registry.dir(id), "state.json"), "utf8")) as ContainerStateDoc;
}

test("remove during start waits for the start, then refuses without force and kills with it", () =>
  withEngine(async (e) => {
    const c = await e.createContainer();
    let entered!: () => void;
    const inCreate = new Promise<void>((r) => {
      entered = r;
    });
    let release!: () => void;
    const gate = new Promise<void>((r) => {
      release = r;
    });
    e.runtime.onCreate = () => {
      entered();
      return gate;
    };
    const removed = c.state.wait("removed");
    const started = e.lifecycle.start(c.id);
    await inCreate;
    const plain = e.lifecycle.remove(c.id, {});
    const forced = e.lifecycle.remove(c.id, { force: true });
    release();
    await started;
    await assert.rejects(plain, /You cannot remove a running container/);
    await forced;
    assert.deepEqual(await removed, { code: 137 });
    assert.equal(e.registry.exists(c.id), false);
    assert.equal(existsSync(e.registry.dir(c.id)), false, "no state written after removal");
    assert.deepEqual(e.actions(c.id), ["create", "start", "kill", "die", "destroy"]);
    assert.ok(e.network.calls.includes(`forget ${c.id}`));
    assert.equal(e.mounts.size, 0, "rootfs unmounted");
  }));

test("a start queued behind a removal is refused, not run on a removed container", () =>
  withEngine(async (e) => {
    const c = await e.createContainer();
    const removing = e.lifecycle.remove(c.id, {});
    const start = e.lifecycle.start(c.id);
    await removing;
    await assert.rejects(start, /marked for removal/);
    assert.equal(e.runtime.calls.filter((x) => x.startsWith("create")).length, 0);
  }));

test("stop during the restart back-off cancels the restart and leaves the container exited", (t) =>
  withEngine(async (e) => {
    t.mock.timers.enable({ apis: ["setTimeout"] });
    const c = await e.createContainer({ RestartPolicy: { Name: "always" } });
    await e.lifecycle.start(c.id);
    e.runtime.exit(c.id, 3);
    await c.exitHandled;
    assert.equal(c.state.status, "restarting");
    assert.equal(c.state.view().Running, true);
    await e.lifecycle.stop(c.id, {});
    assert.equal(c.state.status, "exited");
    assert.equal(c.state.exitCode, 3);
    t.mock.timers.tick(120_000);
    await c.serial(async () => undefined);
    assert.equal(e.runtime.calls.filter((x) => x.startsWith("create")).length, 1, "never restarted");
    const doc = await stateOnDisk(e, c.id);
    assert.equal(doc.State.Status, "exited");
    assert.equal(doc.State.Restarting, false);
    assert.equal(doc.ManuallyStopped, true);
    assert.deepEqual(e.actions(c.id), ["create", "start", "die", "stop"]);
  }));

test("the restart back-off restarts after its delay, and remove -f during it needs no kill", (t) =>
  withEngine(async (e) => {
    t.mock.timers.enable({ apis: ["setTimeout"] });
    const c = await e.createContainer({ RestartPolicy: { Name: "on-failure" } });
    await e.lifecycle.start(c.id);
    e.runtime.exit(c.id, 1);
    await c.exitHandled;
    assert.equal(c.state.restartDelayMs, 100);
    const restarted = e.nextEvent(c.id, "start");
    t.mock.timers.tick(100);
    await restarted;
    assert.equal(c.state.status, "running");
    assert.equal(c.state.restartCount, 1);
    e.runtime.exit(c.id, 1);
    await c.exitHandled;
    assert.equal(c.state.status, "restarting");
    assert.equal(c.state.restartDelayMs, 200, "the delay doubles after a short run");
    const kills = e.runtime.calls.filter((x) => x.startsWith("kill")).length;
    await e.lifecycle.remove(c.id, { force: true });
    assert.equal(e.registry.exists(c.id), false);
    assert.equal(e.runtime.calls.filter((x) => x.startsWith("kill")).length, kills);
    t.mock.timers.tick(120_000);
    assert.equal(e.runtime.calls.filter((x) => x.startsWith("create")).length, 2);
  }));

test("auto-remove refuses a restart policy at create and update, and removes the container at exit", () =>
  withEngine(async (e) => {
    await assert.rejects(
      e.createContainer({ AutoRemove: true, RestartPolicy: { Name: "always" } }),
      /can't create 'AutoRemove' container with restart policy/,
    );
    assert.equal(e.registry.index.size, 0, "nothing left of the refused create");
    const c = await e.createContainer({ AutoRemove: true, RestartPolicy: { Name: "no" } });
    await assert.rejects(
      e.supervisor.update(c.id, { RestartPolicy: { Name: "unless-stopped" } }),
      /Restart policy cannot be updated because AutoRemove is enabled/,
    );
    const exited = e.io.wait(c.id, { condition: "next-exit" }).ready;
    const removed = e.io.wait(c.id, { condition: "removed" }).ready;
    await e.lifecycle.start(c.id);
    e.runtime.exit(c.id, 7);
    assert.deepEqual(await exited, { StatusCode: 7, Error: null });
    assert.deepEqual(await removed, { StatusCode: 7, Error: null });
    assert.equal(e.registry.exists(c.id), false);
    assert.deepEqual(e.actions(c.id), ["create", "start", "die", "destroy"]);
  }));

test("auto-remove also removes a container whose start failed", () =>
  withEngine(async (e) => {
    const c = await e.createContainer({ AutoRemove: true });
    const removed = c.state.wait("removed");
    e.runtime.onCreate = async () => {
      throw new Error('exec: "nope": executable file not found in $PATH');
    };
    await assert.rejects(e.lifecycle.start(c.id), /executable file not found/);
    assert.deepEqual(await removed, { code: 127 });
    assert.equal(e.registry.exists(c.id), false);
  }));

test("kill of a paused container thaws it after the signal, except for SIGKILL", () =>
  withEngine(async (e) => {
    const c = await e.createContainer({ RestartPolicy: { Name: "always" } });
    await e.lifecycle.start(c.id);
    await e.supervisor.pause(c.id);
    assert.equal(c.state.status, "paused");
    assert.equal((await stateOnDisk(e, c.id)).State.Paused, true);
    // A signal the process survives: thawed, still running, restart policy untouched.
    e.runtime.ignores.set(c.id, new Set(["SIGUSR1"]));
    await e.lifecycle.kill(c.id, "SIGUSR1");
    assert.equal(c.state.status, "running");
    assert.equal(c.state.manuallyStopped, false);
    assert.deepEqual(
      e.runtime.calls.filter((x) => /^(kill|unpause|pause)/.test(x)),
      [`pause ${c.id}`, `kill ${c.id} SIGUSR1`, `unpause ${c.id}`],
    );
    // SIGTERM: thawed so it can act on it; it ends, and the policy does not bring it back.
    await e.supervisor.pause(c.id);
    await e.lifecycle.kill(c.id, "SIGTERM");
    assert.equal(c.state.paused, false);
    await c.exitHandled;
    assert.equal(c.state.status, "exited");
    assert.equal(c.state.exitCode, 143);
    // SIGKILL needs no thaw; kill resolves once the exit is handled.
    await e.lifecycle.start(c.id);
    await e.supervisor.pause(c.id);
    const unpauses = e.runtime.calls.filter((x) => x.startsWith("unpause")).length;
    await e.lifecycle.kill(c.id, "SIGKILL");
    assert.equal(e.runtime.calls.filter((x) => x.startsWith("unpause")).length, unpauses);
    assert.equal(c.state.status, "exited");
    assert.equal(c.state.exitCode, 137);
    assert.equal(c.state.paused, false);
    assert.deepEqual(e.actions(c.id).slice(-4), ["pause", "kill", "unpause", "die"]);
  }));

test("a manual start or restart during the back-off overtakes the pending restart: one run, not two", (t) =>
  withEngine(async (e) => {
    t.mock.timers.enable({ apis: ["setTimeout"] });
    const c = await e.createContainer({ RestartPolicy: { Name: "always" } });
    const creates = () => e.runtime.calls.filter((x) => x.startsWith("create")).length;
    await e.lifecycle.start(c.id);
    e.runtime.exit(c.id, 1);
    await c.exitHandled;
    assert.equal(c.state.status, "restarting");
    await e.lifecycle.start(c.id);
    assert.equal(c.state.status, "running");
    assert.equal(creates(), 2);
    // It fails again at once: a new back-off (200 ms) while the overtaken one (100 ms) would still fire.
    e.runtime.exit(c.id, 1);
    await c.exitHandled;
    assert.equal(c.state.restartDelayMs, 200);
    t.mock.timers.tick(100);
    await c.serial(async () => undefined);
    assert.equal(creates(), 2, "the overtaken back-off does not start it");
    const restarted = e.nextEvent(c.id, "start");
    t.mock.timers.tick(100);
    await restarted;
    assert.equal(creates(), 3);
    t.mock.timers.tick(120_000);
    await c.serial(async () => undefined);
    assert.equal(creates(), 3, "one run per back-off");
    assert.equal(c.state.status, "running");
    e.runtime.exit(c.id, 1);
    await c.exitHandled;
    await e.lifecycle.restart(c.id, {});
    assert.equal(c.state.status, "running");
    assert.equal(creates(), 4);
    t.mock.timers.tick(120_000);
    await c.serial(async () => undefined);
    assert.equal(creates(), 4);
    assert.equal(c.state.status, "running");
    assert.ok(!e.runtime.calls.some((x) => x.startsWith("kill")), "nothing to kill between runs");
  }));
