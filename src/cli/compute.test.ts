import assert from "node:assert/strict";
import { Readable } from "node:stream";
import { describe, it } from "node:test";
import { parseDockerignore } from "../util/index.ts";
import { memoryWriter } from "./common.ts";
import { placement, splitCpArg, splitDirEntry } from "./cp.ts";
import { eventJson, eventLine, rfc3339NanoFixed } from "./events.ts";
import { consolidateIpam } from "./networks.ts";
import { displayJsonMessages, progressString } from "./progress.ts";
import { bytesSize, cpuPercent, entryFromFrame, StatsContext } from "./stats.ts";
import { rebaseName } from "./tarfs.ts";

describe("stats as docker computes them", () => {
  const frame = {
    name: "/web",
    id: "f".repeat(64),
    cpu_stats: { cpu_usage: { total_usage: 400 }, system_cpu_usage: 2000, online_cpus: 2 },
    precpu_stats: { cpu_usage: { total_usage: 200 }, system_cpu_usage: 1000 },
    memory_stats: {
      usage: 10 * 1024 * 1024,
      limit: 100 * 1024 * 1024,
      stats: { total_inactive_file: 2 * 1024 * 1024 },
    },
    blkio_stats: {
      io_service_bytes_recursive: [
        { major: 8, minor: 0, op: "Read", value: 1000 },
        { major: 8, minor: 0, op: "Write", value: 2000 },
        { major: 8, minor: 0, op: "Total", value: 3000 },
      ],
    },
    networks: { eth0: { rx_bytes: 1500, tx_bytes: 500 }, eth1: { rx_bytes: 500, tx_bytes: 0 } },
    pids_stats: { current: 3 },
  };
  it("CPU from the delta against precpu, times online CPUs", () => {
    assert.equal(cpuPercent(frame), 40);
    assert.equal(cpuPercent({ ...frame, precpu_stats: frame.cpu_stats }), 0);
    const percpu = {
      ...frame,
      cpu_stats: {
        ...frame.cpu_stats,
        online_cpus: 0,
        cpu_usage: { total_usage: 400, percpu_usage: [1, 2, 3, 4] },
      },
    };
    assert.equal(cpuPercent(percpu), 80);
  });
  it("memory without inactive page cache, block and network sums, columns", () => {
    const e = entryFromFrame("web", frame);
    assert.equal(e.memory, 8 * 1024 * 1024);
    assert.equal(e.memoryPercent, 8);
    const c = new StatsContext(e, true);
    assert.equal(c.Name(), "web");
    assert.equal(c.ID(), "f".repeat(12));
    assert.equal(c.CPUPerc(), "40.00%");
    assert.equal(c.MemUsage(), "8MiB / 100MiB");
    assert.equal(c.MemPerc(), "8.00%");
    assert.equal(c.NetIO(), "2kB / 500B");
    assert.equal(c.BlockIO(), "1kB / 2kB");
    assert.equal(c.PIDs(), "3");
    const bad = new StatsContext({ ...e, invalid: true }, true);
    assert.equal(bad.MemUsage(), "-- / --");
    assert.equal(bad.CPUPerc(), "--");
  });
  it("go-units BytesSize", () => {
    assert.equal(bytesSize(0), "0B");
    assert.equal(bytesSize(1536), "1.5KiB");
    assert.equal(bytesSize(25280000000), "23.54GiB");
  });
});

describe("progress display", () => {
  it("bars and counts like docker's JSONProgress", () => {
    assert.equal(progressString({ current: 0, total: 0 }, 200), "");
    assert.equal(progressString({ current: 1000 }, 200), "     1kB");
    const p = progressString({ current: 50, total: 100 }, 200);
    assert.equal(p, `[${"=".repeat(25)}>${" ".repeat(25)}]      50B/100B`);
    assert.equal(progressString({ current: 50, total: 100 }, 80), "     50B/100B");
    assert.equal(progressString({ current: 5, total: 10, units: "items" }, 80), "5/10 items");
  });
  const lines = [
    { status: "Pulling from library/bb", id: "v1" },
    { status: "Pulling fs layer", progressDetail: {}, id: "aaa" },
    { status: "Downloading", progressDetail: { current: 5, total: 10 }, id: "aaa" },
    { status: "Pull complete", progressDetail: {}, id: "aaa" },
    { status: "Digest: sha256:x" },
  ];
  const body = () => Readable.from([lines.map((l) => JSON.stringify(l)).join("\n")]);
  it("plain lines without a terminal, byte progress hidden", async () => {
    const out: string[] = [];
    await displayJsonMessages(body(), memoryWriter(out));
    assert.equal(
      out.join(""),
      "v1: Pulling from library/bb\naaa: Pulling fs layer\naaa: Pull complete\nDigest: sha256:x\n",
    );
  });
  it("redraws a layer's line in place on a terminal", async () => {
    const out: string[] = [];
    await displayJsonMessages(body(), memoryWriter(out), { tty: true, width: 80 });
    const s = out.join("");
    assert.ok(s.includes("\n\n\x1b[1A\x1b[2K\raaa: Pulling fs layer \r\x1b[1B"), JSON.stringify(s));
    assert.ok(s.includes("\x1b[1A\x1b[2K\raaa: Downloading       5B/10B\r\x1b[1B"), JSON.stringify(s));
  });
  it("an in-band error ends the stream with its code", async () => {
    const err = Readable.from([
      `${JSON.stringify({ errorDetail: { code: 3, message: "boom" }, error: "boom" })}\n`,
    ]);
    await assert.rejects(
      displayJsonMessages(err, memoryWriter()),
      (e: Error & { code?: number }) => e.message === "boom" && e.code === 3,
    );
  });
});

describe(".dockerignore matching", () => {
  const rules = parseDockerignore("# c\n**/node_modules\nlogs\n*.md\n!KEEP.md\n/build/\n");
  it("excludes, re-includes and covers directories' contents", () => {
    assert.equal(rules.ignores("app/node_modules/x.js"), true);
    assert.equal(rules.ignores("node_modules"), true);
    assert.equal(rules.ignores("logs/a.log"), true);
    assert.equal(rules.ignores("README.md"), true);
    assert.equal(rules.ignores("KEEP.md"), false);
    assert.equal(rules.ignores("docs/README.md"), false);
    assert.equal(rules.ignores("build/out"), true);
    assert.equal(rules.ignores("app/main.js"), false);
  });
});

describe("cp placement (docker's archive copy rules)", () => {
  it("splits container and local arguments", () => {
    assert.deepEqual(splitCpArg("c:/x"), { container: "c", path: "/x" });
    assert.deepEqual(splitCpArg("./a:b"), { container: "", path: "./a:b" });
    assert.deepEqual(splitCpArg("/abs:x"), { container: "", path: "/abs:x" });
    assert.deepEqual(splitDirEntry("/a/b/."), { dir: "/a/b", base: "." });
    assert.deepEqual(splitDirEntry("/a/b/"), { dir: "/a", base: "b" });
  });
  it("into a directory, onto a file, as a new name", () => {
    assert.deepEqual(placement({ base: "src", isDir: true }, { path: "/d", exists: true, isDir: true }), {
      dir: "/d",
    });
    assert.deepEqual(placement({ base: "a", isDir: false }, { path: "/d/f", exists: true, isDir: false }), {
      dir: "/d",
      from: "a",
      to: "f",
    });
    assert.deepEqual(
      placement({ base: "src", isDir: true }, { path: "/d/new", exists: false, isDir: false }),
      {
        dir: "/d",
        from: "src",
        to: "new",
      },
    );
    assert.throws(
      () => placement({ base: "s", isDir: true }, { path: "/f", exists: true, isDir: false }),
      /cannot copy directory/,
    );
    assert.throws(
      () => placement({ base: "a", isDir: false }, { path: "/nodir/", exists: false, isDir: false }),
      /no such directory/,
    );
    assert.equal(rebaseName("src/x/y", "src", "new"), "new/x/y");
    assert.equal(rebaseName("./x", ".", "new"), "new/x");
  });
});

describe("events", () => {
  const e = {
    Type: "container" as const,
    Action: "die",
    Actor: { ID: "abc", Attributes: { name: "n", exitCode: "0" } },
    scope: "local",
    time: 1700000000,
    timeNanoText: "1700000000123456789",
    status: "die",
    id: "abc",
    from: "busybox",
  };
  it("prints docker's line with an exact nanosecond time and sorted attributes", () => {
    assert.match(rfc3339NanoFixed(1700000000000000001n), /:\d\d\.000000001(Z|[+-]\d\d:\d\d)$/);
    assert.match(
      eventLine(e as unknown as Parameters<typeof eventLine>[0]),
      /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.123456789\S* container die abc \(exitCode=0, name=n\)\n$/,
    );
  });
  it("marshals {{json .}} in docker's field order", () => {
    assert.equal(
      eventJson(e as unknown as Parameters<typeof eventJson>[0]),
      '{"status":"die","id":"abc","from":"busybox","Type":"container","Action":"die","Actor":{"ID":"abc","Attributes":{"exitCode":"0","name":"n"}},"scope":"local","time":1700000000,"timeNano":1700000000123456789}',
    );
  });
});

describe("network IPAM flags", () => {
  it("groups ranges and gateways under their subnets", () => {
    assert.deepEqual(consolidateIpam(["10.1.0.0/16"], ["10.1.2.0/24"], ["10.1.0.1"], { h: "10.1.0.9" }), [
      {
        Subnet: "10.1.0.0/16",
        IPRange: "10.1.2.0/24",
        Gateway: "10.1.0.1",
        AuxiliaryAddresses: { h: "10.1.0.9" },
      },
    ]);
    assert.throws(() => consolidateIpam([], [], ["10.1.0.1"], {}), /must have a corresponding subnet/);
    assert.throws(
      () => consolidateIpam(["10.1.0.0/16"], ["10.2.0.0/24"], [], {}),
      /no matching subnet for range/,
    );
  });
});
