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

  it("emits 'close' after 'exit' only once the output pipes have ended, with all the output read", async () => {
    const p = new WorkerProcesses({ idleMs: 50 });
    // 64 KiB fits in the socket's buffer: the program exits with all of it still unread.
    const c = p.spawn("sh", ["-c", "head -c 65536 /dev/zero | tr '\\0' x"], {
      stdio: ["ignore", "pipe", "ignore"],
    });
    let n = 0;
    c.stdout?.on("data", (b: Buffer) => {
      n += b.length;
    });
    // Nothing is read until the program has exited: then 'close' must still wait for the rest.
    c.stdout?.pause();
    const order: string[] = [];
    c.on("exit", () => {
      order.push("exit");
      c.stdout?.resume();
    });
    // At 'close' the pipe has closed: nothing of the output can come after it.
    const pipeClosed = await new Promise((resolve) => c.on("close", () => resolve(c.stdout?.destroyed)));
    order.push("close");
    assert.equal(pipeClosed, true);
    assert.deepEqual(order, ["exit", "close"]);
    assert.equal(n, 65536);
    await until(() => p.workerCount === 0);
  });
});
