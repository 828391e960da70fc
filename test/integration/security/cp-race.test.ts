/**
 * CVE-2018-15664's race: while `docker cp` resolves each path inside a running container, the container swaps a
 * directory of that path for a symlink to a host path and back, as fast as it can. A resolution done before the
 * swap and used after it would follow the symlink on the host. Nothing may ever land in (or be read from) the
 * host directory the symlink names, and every copy still arrives inside the container.
 */
import assert from "node:assert/strict";
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { docker, importBusybox, startDaemon, type TestDaemon } from "../../helpers/daemon.ts";

let d: TestDaemon;
let outside: string;
let work: string;

before(async () => {
  outside = await mkdtemp(join(tmpdir(), "wt-cprace-out-"));
  work = await mkdtemp(join(tmpdir(), "wt-cprace-work-"));
  await writeFile(join(outside, "secret"), "host secret\n");
  d = await startDaemon({ name: "cprace" });
  await importBusybox(d);
});
after(async () => {
  await d?.stop();
  await rm(outside, { recursive: true, force: true });
  await rm(work, { recursive: true, force: true });
});

test("a directory swapped for a symlink during docker cp never leads the copy onto the host", async () => {
  // Inside the container `outside` does not exist, so the symlink only means something on the host.
  const swap = `mkdir -p /w/d; touch /w/d/secret; while :; do mv /w/d /w/d.real; ln -s ${outside} /w/d; rm /w/d; mv /w/d.real /w/d; done`;
  const run = await docker(d, ["run", "-d", "--name", "swapper", "busybox", "sh", "-c", swap]);
  assert.equal(run.code, 0, run.stderr);
  try {
    // Many entries per copy widen each copy's window between resolving a path and writing it.
    const src = join(work, "payload");
    await mkdir(src);
    for (let i = 0; i < 100; i++) await writeFile(join(src, `f${i}`), `${i}\n`);
    let copied = 0;
    for (let round = 0; round < 15; round++) {
      // Into the swapped directory and out of it: either may fail when /w/d is missing at that instant.
      const into = await docker(d, ["cp", `${src}/.`, "swapper:/w/d/"], { timeoutMs: 60_000 });
      if (into.code === 0) copied++;
      await docker(d, ["cp", "swapper:/w/d/secret", join(work, `out${round}`)], { timeoutMs: 60_000 });
      assert.deepEqual(await readdir(outside), ["secret"], `round ${round}: the copy reached the host`);
    }
    const outs = (await readdir(work)).filter((n) => n.startsWith("out"));
    for (const n of outs) {
      const text = await readFile(join(work, n), "utf8").catch(() => "");
      assert.notEqual(
        text,
        "host secret\n",
        `${n}: a read through the swapped symlink returned the host's file`,
      );
    }
    assert.ok(copied > 0, "no copy ever succeeded");
    const ls = await docker(d, [
      "exec",
      "swapper",
      "sh",
      "-c",
      "ls /w/d /w/d.real 2>/dev/null | grep -c '^f'",
    ]);
    assert.ok(Number(ls.stdout.trim()) > 0, `no copied file inside the container: ${ls.stdout}${ls.stderr}`);
    // Frozen only for each copy: the container runs on, unpaused, and a real pause is still its own.
    assert.equal(
      (await docker(d, ["inspect", "-f", "{{.State.Status}}", "swapper"])).stdout.trim(),
      "running",
    );
    assert.equal((await docker(d, ["pause", "swapper"])).code, 0);
    const inPaused = await docker(d, ["cp", join(src, "f1"), "swapper:/f1"]);
    assert.equal(inPaused.code, 0, inPaused.stderr);
    assert.equal(
      (await docker(d, ["inspect", "-f", "{{.State.Status}}", "swapper"])).stdout.trim(),
      "paused",
    );
    assert.equal((await docker(d, ["unpause", "swapper"])).code, 0);
  } finally {
    await docker(d, ["rm", "-f", "swapper"]);
  }
});
