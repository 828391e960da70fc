/**
 * Log rotation (`--log-opt max-size/max-file`): conmon's file is rotated by the daemon, at most max-file
 * files are kept, and `logs` (also --tail and -f) reads across the rotated files without gaps.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { readdir, stat } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { DOCKER, importBusybox, startDaemon, type TestDaemon } from "../../helpers/daemon.ts";
import { ok, until } from "./common.ts";

let d: TestDaemon;

before(async () => {
  d = await startDaemon({ name: "logs" });
  await importBusybox(d);
});
after(async () => {
  await d?.stop();
});

function numbers(out: string): number[] {
  return out
    .split("\n")
    .filter(Boolean)
    .map((l) => Number(/^n(\d+)$/.exec(l.trim())?.[1] ?? Number.NaN));
}

function contiguous(ns: number[]): boolean {
  return ns.every((n, i) => i === 0 || n === ns[i - 1] + 1);
}

describe("log rotation", () => {
  test("max-size/max-file keep at most max-file files and logs reads across them", async () => {
    const id = await ok(d, [
      "run",
      "-d",
      "--log-opt",
      "max-size=4k",
      "--log-opt",
      "max-file=3",
      "busybox",
      "sh",
      "-c",
      "i=0; while true; do echo n$i; i=$((i+1)); sleep 0.002; done",
    ]);
    const dir = join(d.dataRoot, "containers", id);
    // Follow from the start while rotations happen.
    const follow = spawn(DOCKER, ["-H", d.host, "logs", "-f", id], {
      env: { ...process.env, DOCKER_CONFIG: join(d.dir, "docker-config") },
    });
    const followExit = new Promise((r) => follow.once("exit", r));
    let followed = "";
    follow.stdout.on("data", (c: Buffer) => {
      followed += c.toString();
    });
    await until(async () => (await readdir(dir)).includes("container.log.2"), 20_000);
    // Wait for more rotations, until the oldest file is gone: the first line logs can read is no longer n0.
    // (A fixed pause was too short on a loaded machine, where the writer slows down.)
    await until(async () => (numbers(await ok(d, ["logs", "--tail", "all", id]))[0] ?? 0) > 0, 30_000);
    const files = (await readdir(dir)).filter((f) => f.startsWith("container.log"));
    assert.ok(files.length <= 3, files.join());
    assert.ok(!files.includes("container.log.3"));
    for (const f of files) {
      // Rotation goes on while we look: a file listed a moment ago may have been renamed since.
      const st = await stat(join(dir, f)).catch(() => undefined);
      if (st) assert.ok(st.size < 16 * 1024, `${f} too big`);
    }
    await ok(d, ["stop", "-t", "0", id]);
    const all = numbers(await ok(d, ["logs", id]));
    assert.ok(all.length > 100, `${all.length} lines`);
    assert.ok(all[0] > 0, "the oldest lines were rotated away");
    assert.ok(contiguous(all), "no gaps across files");
    const tail = numbers(await ok(d, ["logs", "--tail", "5", id]));
    assert.deepEqual(tail, all.slice(-5));
    await followExit;
    const seen = numbers(followed);
    assert.equal(seen[0], 0);
    assert.ok(contiguous(seen), "follow saw every line across rotations");
    assert.equal(seen.at(-1), all.at(-1));
    // Docker's json-file accepts max-file without max-size (nothing rotates then) and refuses max-file < 1.
    const lone = await ok(d, ["create", "--log-opt", "max-file=2", "busybox"]);
    await ok(d, ["rm", lone]);
    const bad = await ok(d, ["create", "--log-opt", "max-file=0", "busybox"]).catch((e: Error) => e.message);
    assert.match(String(bad), /max-file cannot be less than 1/);
  });
});
