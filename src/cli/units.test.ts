import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ContainerContext, displayPorts, imageRows, splitRef } from "./contexts.ts";
import { parsePublish, parseRestart } from "./runconfig.ts";
import { ellipsis, formatG, humanSize, parseGoDuration, parseRamBytes, parseTimestampArg } from "./units.ts";

describe("units like go-units", () => {
  it("human sizes", () => {
    assert.equal(humanSize(4_261_000), "4.26MB");
    assert.equal(humanSize(0), "0B");
    assert.equal(humanSize(999), "999B");
    assert.equal(humanSize(1200), "1.2kB");
    assert.equal(humanSize(7_800_000_000), "7.8GB");
    assert.equal(humanSize(999_999), "1e+03kB");
    assert.equal(formatG(123.456, 3), "123");
  });
  it("parses sizes, durations and timestamps", () => {
    assert.equal(parseRamBytes("64m"), 64 * 1024 * 1024);
    assert.equal(parseRamBytes("1g"), 1024 ** 3);
    assert.equal(parseRamBytes("100"), 100);
    assert.equal(parseGoDuration("1m30s"), 90_000);
    assert.equal(parseGoDuration("300ms"), 300);
    assert.throws(() => parseGoDuration("5x"));
    assert.equal(parseTimestampArg("1700000000"), "1700000000");
    assert.equal(parseTimestampArg("10m", 1_700_000_600_000), "1700000000.000000000");
    assert.equal(parseTimestampArg("2024-01-02T03:04:05Z"), "1704164645.000000000");
    assert.equal(ellipsis("abcdefghijklmnopqrstuvwxyz", 20), "abcdefghijklmnopqrs…");
  });
});

describe("ps and images rows", () => {
  const now = Date.UTC(2024, 0, 1, 12, 0, 0);
  const c = {
    Id: "0123456789abcdef".repeat(4),
    Names: ["/web", "/other/alias"],
    Image: "docker.io/library/nginx:latest",
    ImageID: "sha256:" + "f".repeat(64),
    Command: "/docker-entrypoint.sh nginx -g 'daemon off;'",
    Created: now / 1000 - 120,
    Ports: [
      { IP: "0.0.0.0", PrivatePort: 80, PublicPort: 8080, Type: "tcp" as const },
      { IP: "0.0.0.0", PrivatePort: 81, PublicPort: 8081, Type: "tcp" as const },
      { PrivatePort: 443, Type: "tcp" as const },
    ],
    Labels: { b: "2", a: "1" },
    State: "running",
    Status: "Up 2 minutes",
    HostConfig: { NetworkMode: "bridge" },
    NetworkSettings: { Networks: { bridge: {} } },
    Mounts: [],
  };
  it("formats ps fields as docker's formatter", () => {
    const x = new ContainerContext(c, { trunc: true, now });
    assert.equal(x.ID(), "0123456789ab");
    assert.equal(x.Names(), "web");
    assert.equal(x.Image(), "nginx:latest");
    assert.equal(x.Command(), '"/docker-entrypoint.…"');
    assert.equal(x.RunningFor(), "2 minutes ago");
    assert.equal(x.Ports(), "443/tcp, 0.0.0.0:8080->80/tcp, 0.0.0.0:8081->81/tcp");
    assert.equal(x.Labels(), "a=1,b=2");
    assert.equal(x.Label("b"), "2");
    assert.equal(new ContainerContext(c, { trunc: false, now }).Names(), "web,other/alias");
  });
  it("shows ports", () => {
    assert.equal(
      displayPorts([{ IP: "::", PrivatePort: 80, PublicPort: 8080, Type: "tcp" }]),
      "[::]:8080->80/tcp",
    );
  });
  it("splits image rows by tag", () => {
    const img = {
      Id: "sha256:" + "a".repeat(64),
      ParentId: "",
      RepoTags: ["busybox:latest", "localhost:5000/bb:1"],
      RepoDigests: [],
      Created: 0,
      Size: 4_261_000,
      SharedSize: -1,
      Labels: {},
      Containers: -1,
    };
    const rows = imageRows([img, { ...img, RepoTags: [] }], { trunc: true, digests: false });
    assert.deepEqual(
      rows.map((r) => [r.Repository(), r.Tag(), r.ID(), r.Size()]),
      [
        ["busybox", "latest", "aaaaaaaaaaaa", "4.26MB"],
        ["localhost:5000/bb", "1", "aaaaaaaaaaaa", "4.26MB"],
        ["<none>", "<none>", "aaaaaaaaaaaa", "4.26MB"],
      ],
    );
    assert.deepEqual(splitRef("localhost:5000/x"), {
      repo: "localhost:5000/x",
      tag: "latest",
      digest: "<none>",
    });
  });
});

describe("run flags to API config", () => {
  it("parses -p like docker", () => {
    assert.deepEqual(parsePublish("8080:80"), [
      { port: "80/tcp", binding: { HostIp: "", HostPort: "8080" } },
    ]);
    assert.deepEqual(parsePublish("127.0.0.1::53/udp"), [
      { port: "53/udp", binding: { HostIp: "127.0.0.1", HostPort: "" } },
    ]);
    assert.deepEqual(parsePublish("[::1]:80:80")[0].binding, { HostIp: "::1", HostPort: "80" });
    assert.equal(parsePublish("8000-8001:80-81")[1].binding.HostPort, "8001");
  });
  it("parses --restart", () => {
    assert.deepEqual(parseRestart("on-failure:3"), { Name: "on-failure", MaximumRetryCount: 3 });
    assert.deepEqual(parseRestart("always:3"), { Name: "always", MaximumRetryCount: 3 });
    assert.throws(() => parseRestart("on-failure:x"));
  });
});
