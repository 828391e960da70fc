import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  formatDuration,
  parseBytes,
  parseDuration,
  parsePortShort,
  parseVolumeShort,
  shellSplit,
} from "./syntax.ts";

describe("parsePortShort", () => {
  it("reads the spec's examples", () => {
    assert.deepEqual(parsePortShort("3000"), [{ mode: "ingress", target: 3000, protocol: "tcp" }]);
    assert.deepEqual(parsePortShort(80), [{ mode: "ingress", target: 80, protocol: "tcp" }]);
    assert.deepEqual(
      parsePortShort("3000-3002").map((p) => p.target),
      [3000, 3001, 3002],
    );
    assert.deepEqual(parsePortShort("8000:8000"), [
      { mode: "ingress", target: 8000, published: "8000", protocol: "tcp" },
    ]);
    assert.deepEqual(parsePortShort("9090-9091:8080-8081"), [
      { mode: "ingress", target: 8080, published: "9090", protocol: "tcp" },
      { mode: "ingress", target: 8081, published: "9091", protocol: "tcp" },
    ]);
    assert.deepEqual(parsePortShort("8000-9000:80"), [
      { mode: "ingress", target: 80, published: "8000-9000", protocol: "tcp" },
    ]);
    assert.deepEqual(parsePortShort("127.0.0.1:8001:8001"), [
      { mode: "ingress", host_ip: "127.0.0.1", target: 8001, published: "8001", protocol: "tcp" },
    ]);
    assert.deepEqual(parsePortShort("::1:6000:6000"), [
      { mode: "ingress", host_ip: "::1", target: 6000, published: "6000", protocol: "tcp" },
    ]);
    assert.deepEqual(parsePortShort("[::1]:6001:6001"), [
      { mode: "ingress", host_ip: "::1", target: 6001, published: "6001", protocol: "tcp" },
    ]);
    assert.deepEqual(parsePortShort("6060:6060/udp"), [
      { mode: "ingress", target: 6060, published: "6060", protocol: "udp" },
    ]);
    assert.deepEqual(parsePortShort("127.0.0.1::5000"), [
      { mode: "ingress", host_ip: "127.0.0.1", target: 5000, protocol: "tcp" },
    ]);
  });

  it("rejects bad ports and mismatched ranges", () => {
    assert.throws(() => parsePortShort("abc"), /invalid container port/);
    assert.throws(() => parsePortShort("70000"), /invalid container port range/);
    assert.throws(() => parsePortShort("8000-8002:80-81"), /invalid ranges/);
  });
});

describe("parseVolumeShort", () => {
  it("tells binds from named and anonymous volumes and reads modes", () => {
    assert.deepEqual(parseVolumeShort("/data"), { type: "volume", target: "/data", volume: {} });
    assert.deepEqual(parseVolumeShort("db:/var/lib/db"), {
      type: "volume",
      source: "db",
      target: "/var/lib/db",
      volume: {},
    });
    assert.deepEqual(parseVolumeShort("./src:/app:ro,z"), {
      type: "bind",
      source: "./src",
      target: "/app",
      read_only: true,
      bind: { create_host_path: true, selinux: "z" },
    });
    assert.deepEqual(parseVolumeShort("~/cfg:/cfg:rshared"), {
      type: "bind",
      source: "~/cfg",
      target: "/cfg",
      bind: { create_host_path: true, propagation: "rshared" },
    });
    assert.deepEqual(parseVolumeShort("cache:/c:nocopy"), {
      type: "volume",
      source: "cache",
      target: "/c",
      volume: { nocopy: true },
    });
    assert.throws(() => parseVolumeShort("a:b:c:d"), /invalid volume specification/);
    assert.throws(() => parseVolumeShort("a:/b:bogus"), /unknown option bogus/);
  });
});

describe("durations", () => {
  it("parses Go durations and bare seconds", () => {
    assert.equal(parseDuration("1m30s"), 90e9);
    assert.equal(parseDuration("1.5s"), 1.5e9);
    assert.equal(parseDuration("100ms"), 100e6);
    assert.equal(parseDuration("2h"), 7200e9);
    assert.equal(parseDuration("10"), 10e9);
    assert.equal(parseDuration(3), 3e9);
    assert.throws(() => parseDuration("1x"), /invalid duration/);
    assert.throws(() => parseDuration(""), /invalid duration/);
  });

  it("formats as Go does", () => {
    assert.equal(formatDuration(90e9), "1m30s");
    assert.equal(formatDuration(30e9), "30s");
    assert.equal(formatDuration(1.5e9), "1.5s");
    assert.equal(formatDuration(100e6), "100ms");
    assert.equal(formatDuration(3600e9), "1h0m0s");
    assert.equal(formatDuration(0), "0s");
  });
});

describe("parseBytes", () => {
  it("reads Docker's binary units", () => {
    assert.equal(parseBytes("512"), 512);
    assert.equal(parseBytes("1k"), 1024);
    assert.equal(parseBytes("300m"), 300 * 1024 ** 2);
    assert.equal(parseBytes("2gb"), 2 * 1024 ** 3);
    assert.equal(parseBytes("1.5GiB"), 1.5 * 1024 ** 3);
    assert.equal(parseBytes(64), 64);
    assert.throws(() => parseBytes("lots"), /invalid size/);
  });
});

describe("shellSplit", () => {
  it("splits like a shell without expanding", () => {
    assert.deepEqual(shellSplit(`echo "hello world" 'it''s' a\\ b $HOME`), [
      "echo",
      "hello world",
      "its",
      "a b",
      "$HOME",
    ]);
    assert.deepEqual(shellSplit(`sh -c "echo \\"x\\""`), ["sh", "-c", 'echo "x"']);
    assert.deepEqual(shellSplit("  "), []);
    assert.deepEqual(shellSplit(`a ""`), ["a", ""]);
    assert.throws(() => shellSplit(`"open`), /unterminated/);
  });
});
