import assert from "node:assert/strict";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir, totalmem } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import {
  parseBlkio,
  parseKeyValues,
  parseNetDev,
  parseProcStat,
  readProcessStats,
  readStats,
} from "./stats.ts";

const NET_DEV = `Inter-|   Receive                                                |  Transmit
 face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed
    lo:    1000      10    0    0    0     0          0         0     1000      10    0    0    0     0       0          0
  eth0:  123456     789    1    2    0     0          0         0    65432     321    3    4    0     0       0          0
`;

describe("stats parsers", () => {
  it("reads key-value files", () => {
    assert.deepEqual(
      parseKeyValues("cache 4096\nrss 8192\nhierarchical_memory_limit 9223372036854771712\n"),
      {
        cache: 4096,
        rss: 8192,
        hierarchical_memory_limit: Number("9223372036854771712"),
      },
    );
    assert.deepEqual(parseKeyValues(""), {});
  });

  it("reads blkio files, dropping the Total line", () => {
    assert.deepEqual(parseBlkio("8:0 Read 4096\n8:0 Write 512\n253:1 Total 4608\nTotal 4608\n"), [
      { major: 8, minor: 0, op: "Read", value: 4096 },
      { major: 8, minor: 0, op: "Write", value: 512 },
      { major: 253, minor: 1, op: "Total", value: 4608 },
    ]);
  });

  it("sums the first seven /proc/stat CPU fields in ns and counts online CPUs", () => {
    const text =
      "cpu  100 1 50 1000 5 0 2 7 0 0\ncpu0 50 0 25 500 2 0 1 3 0 0\ncpu1 50 1 25 500 3 0 1 4 0 0\nintr 1 2\n";
    assert.deepEqual(parseProcStat(text), {
      totalNs: (100 + 1 + 50 + 1000 + 5 + 0 + 2) * 1e7,
      onlineCpus: 2,
    });
  });

  it("reads /proc/<pid>/net/dev without loopback", () => {
    assert.deepEqual(parseNetDev(NET_DEV), {
      eth0: {
        rxBytes: 123456,
        rxPackets: 789,
        rxErrors: 1,
        rxDropped: 2,
        txBytes: 65432,
        txPackets: 321,
        txErrors: 3,
        txDropped: 4,
      },
    });
  });

  it("builds a frame from a cgroup tree; unlimited memory shows the host's", async () => {
    const root = await mkdtemp(join(tmpdir(), "wharf-stats-"));
    try {
      const put = async (rel: string, text: string): Promise<void> => {
        await mkdir(join(root, rel, ".."), { recursive: true });
        await writeFile(join(root, rel), text);
      };
      const cg = "cg/wharf/c1";
      await put(`${cg.replace("cg", "cg/memory")}/memory.usage_in_bytes`, "1048576\n");
      await put(`${cg.replace("cg", "cg/memory")}/memory.limit_in_bytes`, "9223372036854771712\n");
      await put(`${cg.replace("cg", "cg/memory")}/memory.stat`, "cache 10\ntotal_inactive_file 4\n");
      await put(`${cg.replace("cg", "cg/cpuacct")}/cpuacct.usage`, "3000\n");
      await put(`${cg.replace("cg", "cg/cpuacct")}/cpuacct.usage_percpu`, "1000 2000 \n");
      await put(`${cg.replace("cg", "cg/cpuacct")}/cpuacct.stat`, "user 3\nsystem 1\n");
      await put(
        `${cg.replace("cg", "cg/cpu")}/cpu.stat`,
        "nr_periods 10\nnr_throttled 2\nthrottled_time 500\n",
      );
      await put(`${cg.replace("cg", "cg/pids")}/pids.current`, "4\n");
      await put(`${cg.replace("cg", "cg/pids")}/pids.max`, "max\n");
      await put("cg/blkio/wharf/c1/blkio.bfq.io_service_bytes_recursive", "Total 0\n");
      await put("cg/blkio/wharf/c1/blkio.throttle.io_service_bytes_recursive", "8:0 Read 7\nTotal 7\n");
      await put("proc/stat", "cpu  1 1 1 1 1 1 1 0 0 0\ncpu0 1 1 1 1 1 1 1 0 0 0\n");
      await put("proc/42/net/dev", NET_DEV);
      const s = await readStats("/wharf/c1", 42, {
        cgroupRoot: join(root, "cg"),
        procRoot: join(root, "proc"),
      });
      assert.ok(s);
      assert.equal(s.cpu.totalUsage, 3000);
      assert.deepEqual(s.cpu.percpuUsage, [1000, 2000]);
      assert.equal(s.cpu.usageInUsermode, 3e7);
      assert.equal(s.cpu.usageInKernelmode, 1e7);
      assert.equal(s.cpu.systemCpuUsage, 7e7);
      assert.equal(s.cpu.onlineCpus, 1);
      assert.deepEqual(s.cpu.throttling, { periods: 10, throttledPeriods: 2, throttledTime: 500 });
      assert.equal(s.memory.usage, 1048576);
      assert.equal(s.memory.limit, totalmem());
      assert.deepEqual(s.memory.stats, { cache: 10, total_inactive_file: 4 });
      assert.deepEqual(s.pids, { current: 4, limit: 0 });
      assert.deepEqual(s.blkio.ioServiceBytesRecursive, [{ major: 8, minor: 0, op: "Read", value: 7 }]);
      assert.deepEqual(Object.keys(s.networks), ["eth0"]);
      assert.equal(await readStats("/wharf/gone", 42, { cgroupRoot: join(root, "cg") }), undefined);
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });
});

describe("readProcessStats", () => {
  it("sums CPU ticks and resident memory over the processes, counts them, and reads the init's network", async () => {
    const root = await mkdtemp(join(tmpdir(), "wharf-pstats-"));
    try {
      const put = async (pid: number, utime: number, stime: number, rssKb: number) => {
        await mkdir(join(root, String(pid), "net"), { recursive: true });
        const fields = Array.from({ length: 40 }, () => "0");
        fields[0] = "S";
        fields[11] = String(utime);
        fields[12] = String(stime);
        await writeFile(join(root, String(pid), "stat"), `${pid} (a (b) c) ${fields.join(" ")}\n`);
        await writeFile(join(root, String(pid), "status"), `Name:\ta\nVmRSS:\t    ${rssKb} kB\n`);
      };
      await put(10, 100, 50, 1000);
      await put(11, 1, 2, 24);
      await writeFile(
        join(root, "10", "net", "dev"),
        "Inter-|\n face |\n  eth0: 500 5 0 0 0 0 0 0 600 6 0 0 0 0 0 0\n",
      );
      await writeFile(join(root, "stat"), "cpu  1 1 1 1 1 1 1 0 0 0\ncpu0 1 1 1 1 1 1 1\n");
      const s = readProcessStats([10, 11, 12], { procRoot: root });
      assert.ok(s);
      assert.equal(s.cpu.usageInUsermode, 101 * 1e7);
      assert.equal(s.cpu.totalUsage, 153 * 1e7);
      assert.equal(s.memory.usage, 1024 * 1024);
      assert.equal(s.memory.limit, totalmem());
      assert.equal(s.pids.current, 2, "a process gone meanwhile is not counted");
      assert.equal(s.networks.eth0?.rxBytes, 500);
      assert.equal(s.cpu.onlineCpus, 1);
      assert.equal(readProcessStats([99], { procRoot: root }), undefined);
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });
});
