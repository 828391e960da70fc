import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import type { ProcessError } from "./process.ts";
import { WorkerProcesses } from "./spawner.ts";

async function until(cond: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error("condition not met in time");
    await sleep(10);
  }
}

describe("worker processes", () => {
  it("runs a program as execFile did: input, cwd, env, exit status, stderr, a missing program, maxBuffer", async () => {
    const p = new WorkerProcesses({ idleMs: 50 });
    const env = { FOO: "bar", PATH: "/usr/bin:/bin" };
    assert.equal(
      await p.run("sh", ["-c", "cat; pwd; echo $FOO"], { input: "in\n", cwd: "/tmp", env }),
      "in\n/tmp\nbar\n",
    );
    await assert.rejects(p.run("sh", ["-c", "echo out; echo err >&2; exit 3"]), (e: ProcessError) => {
      assert.equal(e.message, "Command failed: sh -c echo out; echo err >&2; exit 3\nerr\n");
      assert.deepEqual([e.exitCode, e.stdout, e.stderr], [3, "out\n", "err\n"]);
      return true;
    });
    await assert.rejects(p.run("no-such-program-here", []), (e: ProcessError) => {
      assert.equal(e.message, "spawn no-such-program-here ENOENT");
      assert.equal((e.cause as NodeJS.ErrnoException).code, "ENOENT");
      return true;
    });
    await assert.rejects(
      p.run("sh", ["-c", "head -c 100000 /dev/zero"], { maxBuffer: 1000 }),
      /stdout maxBuffer length exceeded/,
    );
    // The signals node ignores (SIGPIPE) are back to their defaults in the program, none blocked.
    const status = await p.run("cat", ["/proc/self/status"]);
    assert.match(status, /^SigBlk:\s*0+$/m);
    assert.equal(
      BigInt(`0x${/^SigIgn:\s*(\w+)$/m.exec(status)?.[1]}`) & (1n << 12n),
      0n,
      "SIGPIPE not ignored",
    );
    await until(() => p.workerCount === 0);
  });

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
