import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { createBody, serviceNetworks } from "./convert.ts";
import { configHash } from "./model.ts";
import { testProject } from "./testing.ts";

describe("createBody", () => {
  const project = testProject(
    {
      web: {
        command: ["sh", "-c", "echo hi"],
        environment: { A: "1", UNSET: null },
        labels: { "my.label": "x" },
        ports: [
          { mode: "ingress", target: 80, published: "8080", protocol: "tcp" },
          { mode: "ingress", host_ip: "127.0.0.1", target: 53, published: "5353", protocol: "udp" },
          { mode: "ingress", target: 9000, protocol: "tcp" },
        ],
        expose: ["7000", "7001/udp"],
        volumes: [
          {
            type: "bind",
            source: "/src/p/data",
            target: "/data",
            read_only: true,
            bind: { create_host_path: true },
          },
          { type: "bind", source: "/etc/x", target: "/x" },
          { type: "volume", source: "db", target: "/db", volume: { nocopy: true } },
          { type: "volume", target: "/anon", volume: {} },
          { type: "tmpfs", target: "/t", tmpfs: { size: 1024 } },
        ],
        secrets: [{ source: "token" }],
        configs: [{ source: "conf", target: "/etc/conf.ini" }],
        networks: { front: { aliases: ["www"], ipv4_address: "10.5.0.5" }, default: null },
        restart: "on-failure:3",
        healthcheck: { test: ["CMD", "true"], interval: "1m30s", retries: 2 },
        stop_grace_period: "5s",
        ulimits: { nofile: { soft: 10, hard: 20 }, nproc: 5 },
        extra_hosts: { h: ["1.2.3.4", "::1"] },
        mem_limit: 1024,
        cpus: 1.5,
        tmpfs: ["/run:size=1k"],
        depends_on: { db: { condition: "service_started", required: true } },
      },
      db: {},
      side: { network_mode: "service:db", networks: undefined },
    },
    {
      networks: { default: { name: "p_default" }, front: { name: "p_front" } },
      volumes: { db: { name: "p_db" } },
      secrets: { token: { name: "p_token", file: "/src/p/token.txt" } },
      configs: { conf: { name: "p_conf", file: "/src/p/conf.ini" } },
    },
  );

  it("maps a service to docker compose's create request", () => {
    const { body, extraNetworks } = createBody(project.services.web, {
      project,
      number: 2,
      name: "p-web-2",
      networks: true,
      imageId: "sha256:img",
      anonymousVolumes: { "/anon": "abc123" },
    });
    assert.equal(body.Image, "web:latest");
    assert.deepEqual(body.Cmd, ["sh", "-c", "echo hi"]);
    assert.deepEqual(body.Env, ["A=1"]);
    assert.equal(body.Labels?.["my.label"], "x");
    assert.equal(body.Labels?.["com.docker.compose.container-number"], "2");
    assert.equal(body.Labels?.["com.docker.compose.config-hash"], configHash(project.services.web));
    assert.equal(body.Labels?.["com.docker.compose.image"], "sha256:img");
    assert.deepEqual(Object.keys(body.ExposedPorts ?? {}).sort(), [
      "53/udp",
      "7000/tcp",
      "7001/udp",
      "80/tcp",
      "9000/tcp",
    ]);
    const h = body.HostConfig ?? {};
    assert.deepEqual(h.PortBindings, {
      "80/tcp": [{ HostIp: "", HostPort: "8080" }],
      "53/udp": [{ HostIp: "127.0.0.1", HostPort: "5353" }],
      "9000/tcp": [{ HostIp: "", HostPort: "" }],
    });
    assert.deepEqual(h.Binds, ["/src/p/data:/data:ro"]);
    assert.deepEqual(h.Mounts, [
      { Type: "bind", Source: "/etc/x", Target: "/x", ReadOnly: false },
      { Type: "volume", Target: "/db", ReadOnly: false, Source: "p_db", VolumeOptions: { NoCopy: true } },
      { Type: "volume", Target: "/anon", ReadOnly: false, Source: "abc123" },
      { Type: "tmpfs", Target: "/t", ReadOnly: false, TmpfsOptions: { SizeBytes: 1024 } },
      { Type: "bind", Source: "/src/p/token.txt", Target: "/run/secrets/token", ReadOnly: true },
      { Type: "bind", Source: "/src/p/conf.ini", Target: "/etc/conf.ini", ReadOnly: true },
    ]);
    assert.deepEqual(h.RestartPolicy, { Name: "on-failure", MaximumRetryCount: 3 });
    assert.deepEqual(h.Ulimits, [
      { Name: "nofile", Soft: 10, Hard: 20 },
      { Name: "nproc", Soft: 5, Hard: 5 },
    ]);
    assert.deepEqual(h.ExtraHosts, ["h:1.2.3.4", "h:::1"]);
    assert.equal(h.Memory, 1024);
    assert.equal(h.NanoCpus, 1.5e9);
    assert.deepEqual(h.Tmpfs, { "/run": "size=1k" });
    assert.deepEqual(body.Healthcheck, { Test: ["CMD", "true"], Interval: 90e9, Retries: 2 });
    assert.equal(body.StopTimeout, 5);
    // The first network by name at create time, the others connected afterwards.
    assert.equal(h.NetworkMode, "p_default");
    assert.deepEqual(body.NetworkingConfig, { EndpointsConfig: { p_default: { Aliases: ["web"] } } });
    assert.deepEqual(extraNetworks, [
      { name: "p_front", endpoint: { Aliases: ["web", "www"], IPAMConfig: { IPv4Address: "10.5.0.5" } } },
    ]);
  });

  it("leaves networks to the engine's default when it has no network API", () => {
    const { body, extraNetworks } = createBody(project.services.web, {
      project,
      number: 1,
      name: "n",
      networks: false,
    });
    assert.equal(body.HostConfig?.NetworkMode, undefined);
    assert.equal(body.NetworkingConfig, undefined);
    assert.deepEqual(extraNetworks, []);
  });

  it("resolves service: references to containers", () => {
    const { body } = createBody(project.services.side, {
      project,
      number: 1,
      name: "p-side-1",
      networks: true,
      serviceContainer: (s) => `p-${s}-1`,
    });
    assert.equal(body.HostConfig?.NetworkMode, "container:p-db-1");
  });

  it("maps devices, external links and the less common host settings", () => {
    const p = testProject({
      dev: {
        devices: [
          "/dev/fuse",
          "/dev/null:/dev/nil:r",
          "/dev/zero:rw",
          { source: "/dev/tty", permissions: "rw" },
        ],
        device_cgroup_rules: ["c 1:3 mr"],
        external_links: ["redis", "db1:database"],
        uts: "host",
        cgroup: "private",
        mem_swappiness: 10,
        annotations: { a: "b" },
        runtime: "runsc",
        isolation: "sandbox",
      },
    });
    const { body } = createBody(p.services.dev, { project: p, number: 1, name: "p-dev-1", networks: true });
    const h = body.HostConfig;
    assert.deepEqual(h?.Devices, [
      { PathOnHost: "/dev/fuse", PathInContainer: "/dev/fuse", CgroupPermissions: "rwm" },
      { PathOnHost: "/dev/null", PathInContainer: "/dev/nil", CgroupPermissions: "r" },
      { PathOnHost: "/dev/zero", PathInContainer: "/dev/zero", CgroupPermissions: "rw" },
      { PathOnHost: "/dev/tty", PathInContainer: "/dev/tty", CgroupPermissions: "rw" },
    ]);
    assert.deepEqual(h?.DeviceCgroupRules, ["c 1:3 mr"]);
    assert.deepEqual(h?.Links, ["redis:redis", "db1:database"]);
    assert.equal(h?.UTSMode, "host");
    assert.equal(h?.CgroupnsMode, "private");
    assert.equal(h?.MemorySwappiness, 10);
    assert.deepEqual(h?.Annotations, { a: "b" });
    assert.equal(h?.Runtime, "runsc");
    assert.equal(h?.Isolation, "sandbox");
  });

  it("applies run's overrides and marks one-off containers", () => {
    const { body } = createBody(project.services.web, {
      project,
      number: 1,
      name: "p-web-run-abc",
      networks: true,
      oneoff: true,
      override: { command: ["id"], entrypoint: ["/bin/sh"], user: "nobody", env: { B: "2" }, tty: true },
    });
    assert.deepEqual(body.Cmd, ["id"]);
    assert.deepEqual(body.Entrypoint, ["/bin/sh"]);
    assert.equal(body.User, "nobody");
    assert.deepEqual(body.Env, ["A=1", "B=2"]);
    assert.equal(body.Tty, true);
    assert.equal(body.Labels?.["com.docker.compose.oneoff"], "True");
  });

  it("orders networks by priority, then name", () => {
    assert.deepEqual(serviceNetworks({ name: "s", networks: { b: null, a: null, z: { priority: 10 } } }), [
      "z",
      "a",
      "b",
    ]);
  });
});
