/**
 * Stats, pause/unpause, update, top, signals to all processes, OOM and --init against real runc/conmon
 * (root only). Every container, conmon, temp dir and cgroup is removed, also when a test fails.
 */
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { cpus } from "node:os";
import { after, afterEach, before, describe, it } from "node:test";
import { collect, Harness, runtimeSkip, waitFor } from "../../test/fixtures/runtime/harness.ts";
import { isConflict } from "../errdefs/index.ts";
import { cgroupDir, freezerState } from "./cgroups.ts";
import { findInitBinary } from "./init.ts";
import { parseNetDev } from "./stats.ts";

const MiB = 1024 * 1024;

describe("cgroups: stats, pause, update, top", { skip: runtimeSkip, timeout: 60_000 }, () => {
  const h = new Harness("cg");
  before(() => h.setup());
  afterEach(() => h.cleanup());
  after(() => h.close());

  const cgFile = (path: string, ctl: string, file: string): string =>
    readFileSync(`${cgroupDir(ctl, path)}/${file}`, "utf8").trim();

  it("reads stats: CPU, memory and pids limits, host CPU time", async () => {
    const c = await h.make(
      { args: ["sh", "-c", "i=0; while [ $i -lt 20000 ]; do i=$((i+1)); done; echo busy-done; sleep 1000"] },
      {},
    );
    const a = await h.rt.attach(c.id);
    await h.rt.start(c.id);
    await waitFor(a.stdout, "busy-done");
    a.close();
    const s = await h.rt.stats(c.id);
    assert.ok(s);
    assert.ok(s.cpu.totalUsage > 0);
    assert.ok(s.cpu.percpuUsage.length >= cpus().length);
    // The files are read one after the other while the kernel keeps counting: close, not equal.
    const sum = s.cpu.percpuUsage.reduce((x, y) => x + y, 0);
    assert.ok(Math.abs(sum - s.cpu.totalUsage) <= s.cpu.totalUsage * 0.1, `${sum} vs ${s.cpu.totalUsage}`);
    assert.ok(s.cpu.usageInUsermode + s.cpu.usageInKernelmode >= 0);
    assert.ok(s.cpu.systemCpuUsage > s.cpu.totalUsage);
    assert.equal(s.cpu.onlineCpus, cpus().length);
    // sh execs its last command, so sleep is the only process.
    assert.equal(s.pids.current, 1);
    assert.equal(s.pids.limit, 0);
    assert.ok(s.memory.usage > 0);
    assert.ok(s.memory.limit > 0);
    assert.ok("cache" in s.memory.stats && "total_rss" in s.memory.stats);
    assert.deepEqual(s.networks, {});
    assert.ok(Array.isArray(s.blkio.ioServiceBytesRecursive));
    assert.match(s.read, /Z$/);

    const lim = await h.running({ resources: { memory: 64 * MiB, memorySwap: 64 * MiB, pidsLimit: 50 } });
    const l = await h.rt.stats(lim.id);
    assert.equal(l?.memory.limit, 64 * MiB);
    assert.equal(l?.pids.limit, 50);
    // pids counts tasks: just after start, runc's init may still be a multi-threaded Go process.
    assert.ok((l?.pids.current ?? 0) >= 1);

    // Many frames in a row stay consistent (the cost of a frame is measured by the benchmarks, not here).
    for (let i = 0; i < 20; i++) assert.ok((await h.rt.stats(c.id))?.cpu.totalUsage !== undefined);

    await h.rt.delete(c.id, { force: true });
    assert.equal(await h.rt.stats(c.id), undefined);
  });

  it("reports the network counters of the init's namespace", async () => {
    const c = await h.running({ hostNamespaces: ["network"] });
    const s = await h.rt.stats(c.id);
    const host = parseNetDev(await readFile("/proc/self/net/dev", "utf8"));
    assert.deepEqual(Object.keys(s?.networks ?? {}).sort(), Object.keys(host).sort());
  });

  it("pauses and unpauses through the freezer; a paused container can be killed", async () => {
    const c = await h.running();
    await h.rt.pause(c.id);
    assert.equal(await freezerState(c.cgroupsPath), "FROZEN");
    assert.equal((await h.rt.state(c.id))?.status, "paused");
    assert.equal((await readFile(`/proc/${c.pid}/status`, "utf8")).match(/^State:\s+(\S)/m)?.[1], "D");
    await assert.rejects(h.rt.pause(c.id), isConflict);
    await h.rt.unpause(c.id);
    assert.equal((await h.rt.state(c.id))?.status, "running");
    await assert.rejects(h.rt.unpause(c.id), isConflict);

    await h.rt.pause(c.id);
    await h.rt.kill(c.id, "KILL");
    assert.equal((await h.rt.waitExit(c.id)).exitCode, 137);
    await assert.rejects(h.rt.pause(c.id), isConflict);
    await assert.rejects(h.rt.pause("never-created"), isConflict);
  });

  it("updates limits of a running container", async () => {
    const c = await h.running({ resources: { memory: 64 * MiB, memorySwap: 64 * MiB, pidsLimit: 50 } });
    await h.rt.update(c.id, {
      memory: 128 * MiB,
      memorySwap: 256 * MiB,
      cpuShares: 512,
      nanoCpus: 500_000_000,
      cpusetCpus: "0",
      pidsLimit: 20,
    });
    assert.equal(cgFile(c.cgroupsPath, "memory", "memory.limit_in_bytes"), String(128 * MiB));
    assert.equal(cgFile(c.cgroupsPath, "memory", "memory.memsw.limit_in_bytes"), String(256 * MiB));
    assert.equal(cgFile(c.cgroupsPath, "cpu", "cpu.shares"), "512");
    assert.equal(cgFile(c.cgroupsPath, "cpu", "cpu.cfs_quota_us"), "50000");
    assert.equal(cgFile(c.cgroupsPath, "cpu", "cpu.cfs_period_us"), "100000");
    assert.equal(cgFile(c.cgroupsPath, "cpuset", "cpuset.cpus"), "0");
    assert.equal(cgFile(c.cgroupsPath, "pids", "pids.max"), "20");
    // Only what is given changes; -1 lifts the pids limit.
    await h.rt.update(c.id, { pidsLimit: -1 });
    assert.equal(cgFile(c.cgroupsPath, "pids", "pids.max"), "max");
    assert.equal(cgFile(c.cgroupsPath, "cpu", "cpu.shares"), "512");
    assert.equal((await h.rt.stats(c.id))?.memory.limit, 128 * MiB);
  });

  it("holds a fork bomb at the pids limit", async () => {
    // The inner sh forks until the kernel refuses, then gives up; the outer one carries on.
    const bomb = "i=0; while [ $i -lt 40 ]; do sleep 1000 & i=$((i+1)); done";
    const c = await h.make({
      args: ["sh", "-c", `sh -c '${bomb}'; echo started; sleep 1000`],
      resources: { pidsLimit: 10 },
    });
    const a = await h.rt.attach(c.id);
    const err = collect(a.stderr);
    await h.rt.start(c.id);
    await Promise.race([waitFor(a.stdout, "started"), h.rt.waitExit(c.id)]);
    const pids = await h.rt.pids(c.id);
    assert.ok(pids.length >= 8 && pids.length <= 10, `${pids.length} processes`);
    const s = await h.rt.stats(c.id);
    assert.equal(s?.pids.limit, 10);
    assert.equal(s?.pids.current, pids.length);
    await h.rt.kill(c.id, "KILL", { all: true });
    assert.equal((await h.rt.waitExit(c.id)).exitCode, 137);
    assert.match(await err, /can't fork/);
  });

  it("lists processes like docker top, with ps arguments; signals every process", async () => {
    const c = await h.running({ args: ["sh", "-c", "sleep 1001 & sleep 1002 & wait"] });
    let pids: number[] = [];
    for (let i = 0; i < 100 && pids.length < 3; i++) {
      pids = await h.rt.pids(c.id);
      if (pids.length < 3) await new Promise((r) => setTimeout(r, 10));
    }
    assert.equal(pids.length, 3);
    assert.ok(pids.includes(c.pid));
    // A forked child shows its parent's command line until it has exec'd: wait until both sleeps have.
    let top = await h.rt.top(c.id);
    for (let i = 0; i < 100 && top.processes.filter((p) => p[7]?.startsWith("sleep")).length < 2; i++) {
      await new Promise((r) => setTimeout(r, 10));
      top = await h.rt.top(c.id);
    }
    assert.deepEqual(top.titles, ["UID", "PID", "PPID", "C", "STIME", "TTY", "TIME", "CMD"]);
    assert.equal(top.processes.length, 3);
    assert.ok(top.processes.every((p) => p.length === top.titles.length));
    assert.deepEqual(top.processes.map((p) => p[7]).sort(), [
      "sh -c sleep 1001 & sleep 1002 & wait",
      "sleep 1001",
      "sleep 1002",
    ]);
    const custom = await h.rt.top(c.id, "-o comm");
    assert.deepEqual(custom.titles, ["COMMAND"]);
    assert.deepEqual(custom.processes.map((p) => p[0]).sort(), ["sh", "sleep", "sleep"]);
    const aux = await h.rt.top(c.id, "aux");
    assert.equal(aux.titles[1], "PID");
    assert.equal(aux.processes.length, 3);

    await h.rt.kill(c.id, "KILL", { all: true });
    assert.equal((await h.rt.waitExit(c.id)).exitCode, 137);
    assert.deepEqual(await h.rt.pids(c.id), []);
  });

  it("records an OOM kill with exit code 137", async () => {
    const c = await h.make({
      args: ["sh", "-c", "head -c 200000000 /dev/zero | tail"],
      resources: { memory: 16 * MiB, memorySwap: 16 * MiB },
    });
    await h.rt.start(c.id);
    const exit = await h.rt.waitExit(c.id);
    assert.equal(exit.oomKilled, true);
    assert.equal(exit.exitCode, 137);
  });
});

const inits = ["/usr/bin/tini-static", "/usr/bin/catatonit"].filter((p) => existsSync(p));

describe("--init", {
  skip: runtimeSkip || (inits.length ? false : "no tini-static or catatonit"),
  timeout: 60_000,
}, () => {
  const h = new Harness("init");
  before(() => h.setup());
  afterEach(() => h.cleanup());
  after(() => h.close());

  it("finds a static init", () => {
    const found = findInitBinary();
    assert.ok(found && existsSync(found));
    assert.equal(
      findInitBinary("/usr/bin/catatonit"),
      existsSync("/usr/bin/catatonit") ? "/usr/bin/catatonit" : found,
    );
  });

  for (const path of inits) {
    it(`runs ${path} as pid 1: exit codes pass through, SIGTERM reaches the command`, async () => {
      const c = await h.make({
        args: ["sh", "-c", 'tr "\\0" " " </proc/1/cmdline; echo; echo "$$"; exit 3'],
        init: { path },
      });
      const a = await h.rt.attach(c.id);
      const out = collect(a.stdout);
      await h.rt.start(c.id);
      assert.equal((await h.rt.waitExit(c.id)).exitCode, 3);
      const [cmdline, pid] = (await out).split("\n");
      assert.equal(
        cmdline?.trim(),
        "/sbin/docker-init -- sh -c " + 'tr "\\0" " " </proc/1/cmdline; echo; echo "$$"; exit 3',
      );
      assert.notEqual(pid, "1");

      // Without an init, sh as pid 1 ignores SIGTERM; under one it is an ordinary process and dies.
      // Signalled only once the command runs: before the init has set up its handlers, the kernel drops
      // signals to a namespace's pid 1.
      const t = await h.make({ args: ["sh", "-c", "echo ready; sleep 1000 & wait"], init: { path } });
      const ta = await h.rt.attach(t.id);
      await h.rt.start(t.id);
      await waitFor(ta.stdout, "ready");
      await h.rt.kill(t.id, "TERM");
      assert.equal((await h.rt.waitExit(t.id)).exitCode, 143);
    });
  }
});
