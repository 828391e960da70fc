import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { isInvalidParameter } from "../errdefs/index.ts";
import { FakeHost } from "../host/index.ts";
import { hostCaps } from "./caps.ts";
import { daemonRlimits } from "./rlimits.ts";
import { buildSpec, DEFAULT_CAPS, resolveCaps, type SpecInput } from "./spec.ts";

const base: SpecInput = { id: "a".repeat(64), rootfs: "/var/lib/wharf/containers/x/merged", args: ["sh"] };

describe("buildSpec", () => {
  it("has Docker's namespaces, with a new network namespace by default", () => {
    const s = buildSpec(base);
    assert.equal(s.ociVersion, "1.0.2");
    assert.deepEqual(
      s.linux.namespaces?.map((n) => n.type),
      ["pid", "network", "ipc", "uts", "mount"],
    );
    assert.ok(s.linux.namespaces?.every((n) => n.path === undefined));
  });

  it("--userns-remap: a user namespace with the mappings; /sys bound from the host only for a netns it does not own", () => {
    const userns = {
      uidMappings: [{ containerID: 0, hostID: 165536, size: 65536 }],
      gidMappings: [{ containerID: 0, hostID: 165536, size: 65536 }],
    };
    const own = buildSpec({
      ...base,
      userns,
      namespacePaths: { network: "/run/wharf/netns/x", user: "/run/wharf/netns/x.user" },
    });
    assert.deepEqual(own.linux.namespaces?.at(-1), { type: "user", path: "/run/wharf/netns/x.user" });
    assert.deepEqual(own.linux.uidMappings, userns.uidMappings);
    assert.deepEqual(own.linux.gidMappings, userns.gidMappings);
    assert.equal(own.mounts.find((m) => m.destination === "/sys")?.type, "sysfs");
    const foreign = buildSpec({ ...base, userns, namespacePaths: { network: "/run/wharf/netns/x" } });
    assert.deepEqual(foreign.linux.namespaces?.at(-1), { type: "user" });
    assert.deepEqual(
      foreign.mounts.find((m) => m.destination === "/sys"),
      {
        destination: "/sys",
        type: "bind",
        source: "/sys",
        options: ["rbind", "nosuid", "noexec", "nodev", "ro"],
      },
    );
    const plain = buildSpec(base);
    assert.equal(plain.linux.uidMappings, undefined);
    assert.ok(!plain.linux.namespaces?.some((n) => n.type === "user"));
  });

  it("without cgroups (a rootless daemon on cgroup v1) has no cgroupsPath and no limits, only device rules", () => {
    const withLimits: SpecInput = { ...base, resources: { memory: 64 << 20, pidsLimit: 10 } };
    const s = buildSpec({ ...withLimits, cgroups: false });
    assert.equal(s.linux.cgroupsPath, undefined);
    assert.deepEqual(Object.keys(s.linux.resources ?? {}), ["devices"]);
    assert.ok(s.linux.resources?.devices?.length);
    const rooted = buildSpec(withLimits);
    assert.ok(rooted.linux.cgroupsPath?.endsWith(base.id));
    assert.equal(rooted.linux.resources?.memory?.limit, 64 << 20);
  });

  it("joins a given network namespace and leaves host namespaces out", () => {
    const s = buildSpec({ ...base, namespacePaths: { network: "/run/netns/x" }, hostNamespaces: ["pid"] });
    assert.deepEqual(s.linux.namespaces, [
      { type: "network", path: "/run/netns/x" },
      { type: "ipc" },
      { type: "uts" },
      { type: "mount" },
    ]);
  });

  it("gives root Docker's default capabilities and non-root only the bounding set", () => {
    const s = buildSpec(base);
    assert.deepEqual(s.process.capabilities?.bounding, [...DEFAULT_CAPS]);
    assert.deepEqual(s.process.capabilities?.effective, [...DEFAULT_CAPS]);
    assert.deepEqual(s.process.capabilities?.inheritable, []);
    const u = buildSpec({ ...base, user: { uid: 1000, gid: 1000 } });
    assert.deepEqual(u.process.capabilities?.bounding, [...DEFAULT_CAPS]);
    assert.deepEqual(u.process.capabilities?.effective, []);
    assert.deepEqual(u.process.capabilities?.permitted, []);
  });

  it("masks Docker's paths and mounts /proc, /dev, /dev/pts, /dev/shm, /dev/mqueue, /sys and cgroup", () => {
    const s = buildSpec(base);
    assert.ok(s.linux.maskedPaths?.includes("/proc/kcore"));
    assert.ok(s.linux.maskedPaths?.includes("/sys/devices/virtual/powercap"));
    assert.deepEqual(s.linux.readonlyPaths, [
      "/proc/bus",
      "/proc/fs",
      "/proc/irq",
      "/proc/sys",
      "/proc/sysrq-trigger",
    ]);
    const dests = s.mounts.map((m) => m.destination);
    assert.deepEqual(dests, [
      "/proc",
      "/dev",
      "/dev/pts",
      "/sys",
      "/sys/fs/cgroup",
      "/dev/mqueue",
      "/dev/shm",
    ]);
    const pts = s.mounts.find((m) => m.destination === "/dev/pts");
    assert.ok(
      pts?.options?.includes("newinstance") &&
        pts.options.includes("ptmxmode=0666") &&
        pts.options.includes("gid=5"),
    );
    assert.ok(s.mounts.find((m) => m.destination === "/sys")?.options?.includes("ro"));
    assert.ok(s.mounts.find((m) => m.destination === "/sys/fs/cgroup")?.options?.includes("ro"));
    assert.ok(
      s.mounts.find((m) => m.destination === "/dev/shm")?.options?.includes(`size=${64 * 1024 * 1024}`),
    );
  });

  it("sizes /dev/shm from shmSize", () => {
    const s = buildSpec({ ...base, shmSize: 1 << 20 });
    assert.ok(s.mounts.find((m) => m.destination === "/dev/shm")?.options?.includes("size=1048576"));
  });

  it("has the default devices and Docker's device cgroup rules", () => {
    const s = buildSpec(base);
    assert.deepEqual(
      s.linux.devices?.map((d) => d.path),
      ["/dev/null", "/dev/zero", "/dev/full", "/dev/random", "/dev/urandom", "/dev/tty"],
    );
    const rules = s.linux.resources?.devices ?? [];
    assert.deepEqual(rules[0], { allow: false, access: "rwm" });
    assert.ok(rules.some((r) => r.allow && r.type === "c" && r.major === 136 && r.minor === undefined));
    assert.ok(rules.some((r) => r.allow && r.type === "c" && r.major === 5 && r.minor === 2));
  });

  it("runs an init before the command with --init, bind-mounted read-only", () => {
    const s = buildSpec({ ...base, args: ["sh", "-c", "x"], init: { path: "/usr/bin/tini-static" } });
    assert.deepEqual(s.process.args, ["/sbin/docker-init", "--", "sh", "-c", "x"]);
    const m = s.mounts.find((x) => x.destination === "/sbin/docker-init");
    assert.equal(m?.source, "/usr/bin/tini-static");
    assert.equal(m?.type, "bind");
    assert.ok(m?.options?.includes("ro") && m.options.includes("rbind"));
  });

  it("opens everything up when privileged", () => {
    const s = buildSpec({ ...base, privileged: true });
    assert.deepEqual(s.process.capabilities?.bounding, [...hostCaps()]);
    assert.deepEqual(s.linux.maskedPaths, []);
    assert.deepEqual(s.linux.readonlyPaths, []);
    assert.deepEqual(s.linux.resources?.devices, [{ allow: true, access: "rwm" }]);
    assert.ok(s.mounts.find((m) => m.destination === "/sys")?.options?.includes("rw"));
  });

  it("adds PATH and HOSTNAME (and TERM with a tty) unless the config sets them, Docker's first", () => {
    const s = buildSpec({ ...base, env: ["FOO=bar"], hostname: "box", terminal: true });
    assert.deepEqual(s.process.env, [
      "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
      "HOSTNAME=box",
      "TERM=xterm",
      "FOO=bar",
    ]);
    const t = buildSpec({ ...base, env: ["PATH=/x", "HOSTNAME=h"] });
    assert.deepEqual(t.process.env, ["PATH=/x", "HOSTNAME=h"]);
    assert.equal(t.hostname, "aaaaaaaaaaaa");
  });

  it("sets process fields: user, cwd, terminal, noNewPrivileges false, oomScoreAdj", () => {
    const s = buildSpec({
      ...base,
      cwd: "/work",
      terminal: true,
      user: { uid: 1, gid: 2, additionalGids: [3, 4] },
      oomScoreAdj: 500,
    });
    assert.deepEqual(s.process.user, { uid: 1, gid: 2, additionalGids: [3, 4] });
    assert.equal(s.process.cwd, "/work");
    assert.equal(s.process.terminal, true);
    assert.equal(s.process.noNewPrivileges, false);
    assert.equal(s.process.oomScoreAdj, 500);
  });

  it("rejects a relative working directory and an empty command", () => {
    assert.throws(() => buildSpec({ ...base, cwd: "work" }), isInvalidParameter);
    assert.throws(() => buildSpec({ ...base, args: [] }), isInvalidParameter);
  });

  it("puts bind mounts after the defaults, parents first, and lets them replace a default", () => {
    const s = buildSpec({
      ...base,
      mounts: [
        { source: "/h/data/sub", destination: "/data/sub" },
        { source: "/h/data", destination: "/data", readonly: true },
        { source: "/h/hosts", destination: "/etc/hosts" },
        { source: "/h/shm", destination: "/dev/shm" },
        { source: "tmpfs", destination: "/run", type: "tmpfs", options: ["size=1m"] },
      ],
    });
    const dests = s.mounts.map((m) => m.destination);
    assert.equal(dests.filter((d) => d === "/dev/shm").length, 1);
    assert.ok(dests.indexOf("/data") < dests.indexOf("/data/sub"));
    const data = s.mounts.find((m) => m.destination === "/data");
    assert.deepEqual(data, {
      destination: "/data",
      type: "bind",
      source: "/h/data",
      options: ["rbind", "rprivate", "ro"],
    });
    const shm = s.mounts.find((m) => m.destination === "/dev/shm");
    assert.equal(shm?.type, "bind");
    const run = s.mounts.find((m) => m.destination === "/run");
    assert.deepEqual(run?.options, ["nosuid", "nodev", "noexec", "size=1m"]);
  });

  it("places the cgroup under a configurable parent", () => {
    assert.equal(buildSpec(base).linux.cgroupsPath, `/wharf/${base.id}`);
    assert.equal(buildSpec({ ...base, cgroupParent: "other/" }).linux.cgroupsPath, `/other/${base.id}`);
  });

  it("maps resources, sysctls, labels, readonly rootfs", () => {
    const s = buildSpec({
      ...base,
      readonlyRootfs: true,
      resources: { memory: 1 << 30, cpuShares: 512, nanoCpus: 1.5e9, cpusetCpus: "0", pidsLimit: 100 },
      sysctls: { "net.ipv4.ip_forward": "1" },
      labels: { a: "b" },
    });
    assert.equal(s.root.readonly, true);
    assert.deepEqual(s.linux.resources?.memory, { limit: 1 << 30 });
    assert.deepEqual(s.linux.resources?.cpu, { shares: 512, period: 100000, quota: 150000, cpus: "0" });
    assert.deepEqual(s.linux.resources?.pids, { limit: 100 });
    assert.deepEqual(s.linux.sysctl, { "net.ipv4.ip_forward": "1" });
    assert.deepEqual(s.annotations, { a: "b" });
  });

  it("takes user ulimits over the daemon's defaults", () => {
    const s = buildSpec({
      ...base,
      defaultRlimits: [
        { type: "RLIMIT_NOFILE", soft: 1024, hard: 4096 },
        { type: "RLIMIT_NPROC", soft: 10, hard: 10 },
      ],
      rlimits: [{ type: "nofile", soft: 100, hard: 200 }],
    });
    assert.deepEqual(s.process.rlimits, [
      { type: "RLIMIT_NOFILE", soft: 100, hard: 200 },
      { type: "RLIMIT_NPROC", soft: 10, hard: 10 },
    ]);
    assert.equal(buildSpec(base).process.rlimits, undefined);
  });
});

describe("resolveCaps", () => {
  it("adds and drops, with or without CAP_, and ALL", () => {
    assert.ok(resolveCaps(["NET_ADMIN"], [], false).includes("CAP_NET_ADMIN"));
    assert.ok(!resolveCaps([], ["cap_chown"], false).includes("CAP_CHOWN"));
    assert.deepEqual(resolveCaps(["SYS_TIME"], ["ALL"], false), ["CAP_SYS_TIME"]);
    assert.deepEqual(resolveCaps(["ALL"], [], false), [...hostCaps()]);
    assert.ok(!resolveCaps(["ALL"], ["MKNOD"], false).includes("CAP_MKNOD"));
    assert.throws(() => resolveCaps(["NOPE"], [], false), isInvalidParameter);
  });
});

describe("daemonRlimits", () => {
  it("reads NOFILE and NPROC from /proc/self/limits text, leaving unlimited out", () => {
    const text = [
      "Limit                     Soft Limit           Hard Limit           Units     ",
      "Max processes             unlimited            unlimited            processes ",
      "Max open files            20000                20000                files     ",
    ].join("\n");
    const fake = new FakeHost();
    fake.fileData.set("/proc/self/limits", text);
    assert.deepEqual(daemonRlimits({ files: fake.files }), [
      { type: "RLIMIT_NOFILE", soft: 20000, hard: 20000 },
    ]);
    assert.ok(daemonRlimits().some((r) => r.type === "RLIMIT_NOFILE"));
  });
});
