import assert from "node:assert/strict";
import { execFileSync, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { isOciRuntimeError } from "./errors.ts";
import { releaseExecFifo } from "./execfifo.ts";

describe("releaseExecFifo", () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "wharf-fifo-"));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("lets the writer blocked on the fifo go, as runc start does, and removes the fifo", async () => {
    const fifo = join(dir, "exec.fifo");
    execFileSync("mkfifo", [fifo]);
    // As runc init: blocks opening the fifo for writing, writes one byte, then goes on (here: exits 7).
    const init = spawn("sh", ["-c", `printf 0 > ${fifo} && exit 7`], { stdio: "ignore" });
    const exited = new Promise<number | null>((resolve) => init.on("exit", (code) => resolve(code)));
    assert.equal(await releaseExecFifo(fifo, { alive: async () => true }), true);
    assert.equal(await exited, 7);
    assert.equal(existsSync(fifo), false);
  });

  it("answers false when there is no fifo (not created, or started already)", async () => {
    assert.equal(await releaseExecFifo(join(dir, "none"), { alive: async () => true }), false);
  });

  it("fails when the writer is gone without writing, instead of waiting forever", async () => {
    const fifo = join(dir, "dead.fifo");
    execFileSync("mkfifo", [fifo]);
    await assert.rejects(releaseExecFifo(fifo, { alive: async () => false }), (e) => {
      assert.ok(isOciRuntimeError(e));
      assert.match(String(e), /already dead/);
      return true;
    });
  });
});
