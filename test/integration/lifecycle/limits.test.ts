// biome-ignore-all lint/suspicious/noExplicitAny: tests read Docker's JSON documents field by field
/**
 * Resource limits, stats, top, pause/unpause and update with real containers, through the docker CLI and
 * the API: an OOM kill, a fork bomb held by --pids-limit, --init, zeroed stats frames when not running.
 */
import assert from "node:assert/strict";
import { request } from "node:http";
import { after, before, describe, test } from "node:test";
import { api, docker, importBusybox, startDaemon, type TestDaemon } from "../../helpers/daemon.ts";
import { eventsBetween, inspect, ok, until } from "./common.ts";

let d: TestDaemon;

before(async () => {
  d = await startDaemon({ name: "limits" });
  await importBusybox(d);
});
after(async () => {
  await d?.stop();
});

/** The first `n` newline-separated JSON frames of a streaming GET. */
function frames(path: string, n: number): Promise<Record<string, any>[]> {
  return new Promise((resolve, reject) => {
    const out: Record<string, any>[] = [];
    const req = request({ socketPath: d.socket, path }, (res) => {
      let buf = "";
      res.on("data", (c: Buffer) => {
        buf += c.toString();
        let i = buf.indexOf("\n");
        while (i >= 0) {
          out.push(JSON.parse(buf.slice(0, i)));
          buf = buf.slice(i + 1);
          i = buf.indexOf("\n");
          if (out.length === n) {
            req.destroy();
            resolve(out);
            return;
          }
        }
      });
      res.on("end", () => resolve(out));
    });
    req.on("error", (e) => (out.length >= n ? undefined : reject(e)));
    req.end();
  });
}

describe("limits", () => {
  test("an OOM kill is recorded: OOMKilled, exit 137, an oom event before die", async () => {
    const since = (Date.now() / 1000).toFixed(3);
    const r = await docker(d, [
      "run",
      "--name",
      "oomer",
      "-m",
      "8m",
      "--memory-swap",
      "8m",
      "busybox",
      "sh",
      "-c",
      "x=a; while true; do x=$x$x; done",
    ]);
    assert.equal(r.code, 137);
    const st = (await inspect(d, "oomer")).State;
    assert.equal(st.OOMKilled, true);
    assert.equal(st.ExitCode, 137);
    const hc = (await inspect(d, "oomer")).HostConfig;
    assert.equal(hc.Memory, 8 * 1024 * 1024);
    const ev = await eventsBetween(d, since, { container: ["oomer"] });
    const actions = ev.map((e) => e.Action);
    assert.ok(actions.indexOf("oom") >= 0 && actions.indexOf("oom") < actions.indexOf("die"), actions.join());
    assert.equal(ev.find((e) => e.Action === "die")?.Actor.Attributes.exitCode, "137");
  });

  test("a fork bomb is held by --pids-limit and the container stays manageable", async () => {
    const id = await ok(d, [
      "run",
      "-d",
      "--pids-limit",
      "20",
      "busybox",
      "sh",
      "-c",
      // Sleepers hold their pids, so the count sits at the limit instead of
      // collapsing between samples as a classic `b|b&` bomb does; the loop
      // forks until the kernel refuses, and pid 1 stays up by exec.
      "(while :; do sleep 60 & done); exec sleep 60",
    ]);
    const pids = await until(async () => {
      const s = await api<Record<string, any>>(
        d,
        "GET",
        `/containers/${id}/stats?stream=false&one-shot=true`,
      );
      return s.pids_stats.current >= 15 ? s.pids_stats : undefined;
    });
    assert.ok(pids.current <= 20, `pids ${pids.current}`);
    assert.equal(pids.limit, 20);
    assert.equal((await inspect(d, id)).HostConfig.PidsLimit, 20);
    await ok(d, ["rm", "-f", id]);
  });

  test("--memory 2x swap default, --cpus, --cpuset-cpus, --cpu-shares, ulimits and shm-size show in inspect", async () => {
    const id = await ok(d, [
      "create",
      "-m",
      "32m",
      "--memory-reservation",
      "16m",
      "--cpus",
      "0.5",
      "--cpuset-cpus",
      "0",
      "--cpu-shares",
      "512",
      "--ulimit",
      "nofile=100:200",
      "--shm-size",
      "8m",
      "--oom-kill-disable",
      "busybox",
      "sh",
      "-c",
      "ulimit -n; df -k /dev/shm | tail -1; cat /sys/fs/cgroup/cpu/cpu.cfs_quota_us 2>/dev/null || true",
    ]);
    const hc = (await inspect(d, id)).HostConfig;
    assert.equal(hc.Memory, 32 * 1024 * 1024);
    assert.equal(hc.MemorySwap, 64 * 1024 * 1024);
    assert.equal(hc.MemoryReservation, 16 * 1024 * 1024);
    assert.equal(hc.NanoCpus, 5e8);
    assert.equal(hc.CpusetCpus, "0");
    assert.equal(hc.CpuShares, 512);
    assert.equal(hc.OomKillDisable, true);
    assert.deepEqual(hc.Ulimits, [{ Name: "nofile", Soft: 100, Hard: 200 }]);
    assert.equal(hc.ShmSize, 8 * 1024 * 1024);
    await ok(d, ["start", id]);
    assert.equal((await api<any>(d, "POST", `/containers/${id}/wait`)).StatusCode, 0);
    const out = await ok(d, ["logs", id]);
    assert.match(out, /^100$/m);
    assert.match(out, /\s8192\s/);
    await ok(d, ["rm", id]);
  });

  test("impossible limits are refused with Docker's messages", async () => {
    const small = await docker(d, ["create", "-m", "1m", "busybox"]);
    assert.match(small.stderr, /Minimum memory limit allowed is 6MB/);
    const swap = await docker(d, ["create", "-m", "64m", "--memory-swap", "32m", "busybox"]);
    assert.match(swap.stderr, /Minimum memoryswap limit should be larger than memory limit/);
    const cpus = await docker(d, ["create", "--cpus", "512", "busybox"]);
    assert.match(cpus.stderr, /Range of CPUs is from 0.01 to/);
    const set = await docker(d, ["create", "--cpuset-cpus", "999", "busybox"]);
    assert.match(set.stderr, /Requested CPUs are not available/);
  });

  test("--init runs docker-init as pid 1", async () => {
    const out = await ok(d, ["run", "--rm", "--init", "busybox", "cat", "/proc/1/cmdline"]);
    assert.match(out.replace(/\0/g, " "), /^\/sbin\/docker-init -- cat \/proc\/1\/cmdline/);
    assert.equal((await docker(d, ["run", "--rm", "--init", "busybox", "sh", "-c", "exit 3"])).code, 3);
  });
});

describe("stats, top, pause, update", () => {
  let id: string;
  before(async () => {
    id = await ok(d, ["run", "-d", "--name", "worker", "-m", "64m", "busybox", "sh", "-c", "sleep 600"]);
  });

  test("docker stats --no-stream shows the limit and pids", async () => {
    const out = await ok(d, [
      "stats",
      "--no-stream",
      "--format",
      "{{.Name}} {{.MemUsage}} {{.PIDs}}",
      "worker",
    ]);
    assert.match(out, /^worker \S+ \/ 64MiB 1$/);
  });

  test("stats frames have Docker's fields; stream=false fills precpu; streams go on", async () => {
    const s = await api<Record<string, any>>(d, "GET", `/containers/${id}/stats?stream=false`);
    for (const k of [
      "read",
      "preread",
      "cpu_stats",
      "precpu_stats",
      "memory_stats",
      "pids_stats",
      "blkio_stats",
      "networks",
    ])
      assert.ok(k in s, k);
    assert.equal(s.name, "/worker");
    assert.equal(s.id, id);
    assert.ok(s.cpu_stats.online_cpus >= 1);
    assert.ok(Array.isArray(s.cpu_stats.cpu_usage.percpu_usage));
    assert.ok(s.cpu_stats.system_cpu_usage > 0);
    assert.ok(s.precpu_stats.system_cpu_usage > 0, "precpu filled");
    assert.ok("throttling_data" in s.cpu_stats);
    assert.equal(s.memory_stats.limit, 64 * 1024 * 1024);
    for (const k of ["usage", "max_usage", "stats", "failcnt"]) assert.ok(k in s.memory_stats, k);
    assert.ok(s.networks.eth0, "eth0 counters");
    const f = await frames(`/containers/${id}/stats`, 2);
    assert.equal(f.length, 2);
    assert.equal(f[1].preread, f[0].read);
    const host = await ok(d, ["run", "-d", "--network", "host", "busybox", "sleep", "60"]);
    const hs = await api<Record<string, any>>(d, "GET", `/containers/${host}/stats?stream=false&one-shot=1`);
    assert.equal(hs.networks, undefined);
    await ok(d, ["rm", "-f", host]);
  });

  test("a created container streams zeroed frames", async () => {
    const c = await ok(d, ["create", "--name", "idle", "busybox"]);
    const f = await frames(`/containers/${c}/stats`, 2);
    assert.equal(f.length, 2);
    assert.equal(f[0].read, "0001-01-01T00:00:00Z");
    assert.equal(f[1].cpu_stats.cpu_usage.total_usage, 0);
    assert.equal(f[0].name, "/idle");
    const s = await ok(d, ["stats", "--no-stream", "--format", "{{.Name}} {{.CPUPerc}} {{.PIDs}}", "idle"]);
    assert.equal(s, "idle 0.00% 0");
    await ok(d, ["rm", c]);
  });

  test("docker top with and without ps args", async () => {
    const out = await ok(d, ["top", "worker"]);
    assert.match(out.split("\n")[0], /UID\s+PID\s+PPID/);
    assert.match(out, /sleep 600/);
    const t = await api<{ Titles: string[]; Processes: string[][] }>(
      d,
      "GET",
      `/containers/${id}/top?ps_args=aux`,
    );
    assert.ok(t.Titles.includes("%CPU"));
    assert.ok(t.Processes.some((p) => p.at(-1) === "sleep 600"));
    const stopped = await ok(d, ["create", "busybox"]);
    assert.match((await docker(d, ["top", stopped])).stderr, /is not running/);
    await ok(d, ["rm", stopped]);
  });

  test("pause and unpause: state, status, events, exec refused, errors", async () => {
    const since = (Date.now() / 1000).toFixed(3);
    await ok(d, ["pause", "worker"]);
    const st = (await inspect(d, id)).State;
    assert.equal(st.Paused, true);
    assert.equal(st.Status, "paused");
    assert.match(await ok(d, ["ps", "--filter", "name=worker", "--format", "{{.Status}}"]), /\(Paused\)$/);
    assert.match((await docker(d, ["pause", "worker"])).stderr, /is already paused/);
    assert.match((await docker(d, ["exec", "worker", "true"])).stderr, /is paused/);
    assert.match((await docker(d, ["rm", "worker"])).stderr, /cannot remove a paused container/);
    await ok(d, ["unpause", "worker"]);
    assert.equal((await inspect(d, id)).State.Status, "running");
    assert.match((await docker(d, ["unpause", "worker"])).stderr, /is not paused/);
    const ev = (await eventsBetween(d, since, { container: [id] })).map((e) => e.Action);
    assert.deepEqual(ev, ["pause", "unpause"]);
  });

  test("docker update changes limits of a running container, and its restart policy", async () => {
    await ok(d, [
      "update",
      "-m",
      "100m",
      "--memory-swap",
      "200m",
      "--cpus",
      "1",
      "--pids-limit",
      "30",
      "--restart",
      "on-failure:3",
      "worker",
    ]);
    const hc = (await inspect(d, id)).HostConfig;
    assert.equal(hc.Memory, 100 * 1024 * 1024);
    assert.equal(hc.MemorySwap, 200 * 1024 * 1024);
    assert.equal(hc.NanoCpus, 1e9);
    assert.equal(hc.PidsLimit, 30);
    assert.deepEqual(hc.RestartPolicy, { Name: "on-failure", MaximumRetryCount: 3 });
    const s = await api<Record<string, any>>(d, "GET", `/containers/${id}/stats?stream=false&one-shot=1`);
    assert.equal(s.memory_stats.limit, 100 * 1024 * 1024);
    assert.equal(s.pids_stats.limit, 30);
    const bad = await docker(d, ["update", "-m", "300m", "worker"]);
    assert.match(bad.stderr, /Memory limit should be smaller than already set memoryswap limit/);
  });

  test("stop and kill of a paused container end it as Docker does", async () => {
    await ok(d, ["pause", "worker"]);
    await ok(d, ["stop", "-t", "1", "worker"]);
    const st = (await inspect(d, id)).State;
    assert.equal(st.Running, false);
    assert.equal(st.Paused, false);
    const k = await ok(d, ["run", "-d", "busybox", "sleep", "600"]);
    await ok(d, ["pause", k]);
    await ok(d, ["kill", k]);
    assert.equal((await inspect(d, k)).State.ExitCode, 137);
    const r = await ok(d, ["run", "-d", "busybox", "sleep", "600"]);
    await ok(d, ["pause", r]);
    await ok(d, ["rm", "-f", r]);
  });
});
