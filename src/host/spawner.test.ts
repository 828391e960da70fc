import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { WorkerProcesses } from "./spawner.ts";

async function until(cond: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error("condition not met in time");
    await sleep(10);
  }
}

describe("worker processes", () => {
  it("keeps one worker for sequential calls, ends it when idle and makes a new one on demand", async () => {
    const p = new WorkerProcesses({ idleMs: 50 });
    assert.equal(p.workerCount, 0);
    assert.equal(await p.run("echo", ["a"]), "a\n");
    assert.equal(await p.run("echo", ["b"]), "b\n");
    assert.equal(p.workerCount, 1);
    await until(() => p.workerCount === 0);
    assert.equal(await p.run("echo", ["c"]), "c\n");
    assert.equal(p.workerCount, 1);
    await until(() => p.workerCount === 0);
  });

  it("adds a second worker only while the first is busy", async () => {
    const p = new WorkerProcesses({ idleMs: 50 });
    const out = await Promise.all([p.run("sh", ["-c", "sleep 0.2; echo x"]), p.run("echo", ["y"])]);
    assert.deepEqual(out, ["x\n", "y\n"]);
    assert.equal(p.workerCount, 2);
    await until(() => p.workerCount === 0);
  });

  it("stays alive while a spawned child runs, and ends after it exits", async () => {
    const p = new WorkerProcesses({ idleMs: 50 });
    const c = p.spawn("sleep", ["0.3"], { stdio: ["ignore", "ignore", "ignore"] });
    const exited = new Promise((resolve) => c.on("exit", resolve));
    await sleep(150);
    assert.equal(p.workerCount, 1);
    assert.equal(await exited, 0);
    await until(() => p.workerCount === 0);
  });
});
