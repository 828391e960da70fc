import assert from "node:assert/strict";
import { test } from "node:test";
import { parseDaemonFlags, parseUlimit } from "./config.ts";
import { remapSpec } from "./remap.ts";
import { rootlessDefaults } from "./rootless.ts";
import { parseDaemonFile } from "./runtimes.ts";

function cfg(argv: string[]) {
  const c = parseDaemonFlags(argv);
  assert.notEqual(c, "help");
  return c as Exclude<typeof c, "help">;
}

test("security flags: seccomp profile, no-new-privileges, pids and ulimit defaults, socket group", () => {
  const d = cfg([]);
  assert.equal(d.seccompProfile, "builtin");
  assert.equal(d.noNewPrivileges, false);
  assert.equal(d.defaultPidsLimit, 0);
  assert.deepEqual(d.defaultUlimits, []);
  assert.equal(d.socketGroup, "docker");
  const c = cfg([
    "--seccomp-profile",
    "unconfined",
    "--no-new-privileges",
    "--default-pids-limit",
    "100",
    "--default-ulimit",
    "nofile=1024:2048",
    "--default-ulimit=nproc=50",
    "-G",
    "wheel",
  ]);
  assert.equal(c.seccompProfile, "unconfined");
  assert.equal(c.noNewPrivileges, true);
  assert.equal(c.defaultPidsLimit, 100);
  assert.deepEqual(c.defaultUlimits, [
    { type: "RLIMIT_NOFILE", soft: 1024, hard: 2048 },
    { type: "RLIMIT_NPROC", soft: 50, hard: 50 },
  ]);
  assert.equal(c.socketGroup, "wheel");
  assert.equal(cfg(["--no-new-privileges=false"]).noNewPrivileges, false);
  assert.throws(() => parseUlimit("nofile=10:5"), /soft limit must be less than or equal to hard limit/);
  assert.throws(() => parseUlimit("nofile"), /invalid ulimit argument/);
});

test("TLS flags: --tls=false and --tlsverify=false are remembered as an explicit opt-out", () => {
  assert.equal(cfg(["-H", "tcp://127.0.0.1:1"]).tlsExplicitlyOff, false);
  assert.equal(cfg(["-H", "tcp://127.0.0.1:1", "--tls=false"]).tlsExplicitlyOff, true);
  assert.equal(cfg(["--tlsverify=false"]).tlsExplicitlyOff, true);
  const v = cfg(["--tlsverify", "--tlscacert", "ca", "--tlscert", "c", "--tlskey", "k"]);
  assert.deepEqual(v.tls, { cert: "c", key: "k", ca: "ca", verify: true });
  assert.equal(cfg(["--tls", "--tlscert", "c", "--tlskey", "k"]).tlsExplicitlyOn, true);
  assert.throws(() => cfg(["--tls=maybe"]), /invalid boolean value/);
  assert.equal(cfg(["--debug"]).logLevel, "debug");
  assert.equal(cfg(["-D"]).logLevel, "debug");
});

test("a rootless daemon's defaults: data under ~/.local/share, exec root and socket under XDG_RUNTIME_DIR", () => {
  const defaults = rootlessDefaults({ HOME: "/home/u", XDG_RUNTIME_DIR: "/run/user/1000" });
  assert.deepEqual(defaults, {
    dataRoot: "/home/u/.local/share/wharf",
    execRoot: "/run/user/1000/wharf",
    host: "unix:///run/user/1000/wharf.sock",
    configFile: "/home/u/.config/wharf/daemon.json",
  });
  const c = parseDaemonFlags([], { defaults });
  assert.notEqual(c, "help");
  if (c === "help") return;
  assert.equal(c.dataRoot, "/home/u/.local/share/wharf");
  assert.equal(c.execRoot, "/run/user/1000/wharf");
  assert.deepEqual(c.hosts, ["unix:///run/user/1000/wharf.sock"]);
  assert.equal(c.pidfile, "/run/user/1000/wharf/wharf.pid");
  assert.equal(c.configFile, "/home/u/.config/wharf/daemon.json");
  // An explicit --exec-root keeps its own socket, as for the root daemon.
  const e = parseDaemonFlags(["--exec-root", "/tmp/x"], { defaults });
  assert.ok(e !== "help" && e.hosts[0] === "unix:///tmp/x/wharf.sock");
  assert.equal(
    rootlessDefaults({ HOME: "/h", XDG_DATA_HOME: "/d", XDG_RUNTIME_DIR: "/r" }).dataRoot,
    "/d/wharf",
  );
});

test("CRI and CNI flags; --registry-mirror NAME=URL mirrors one registry", () => {
  const off = parseDaemonFlags([]);
  assert.ok(off !== "help");
  assert.equal(off.criSocket, undefined);
  assert.deepEqual(off.cni, {
    confDir: "/etc/cni/net.d",
    binDirs: ["/usr/lib/cni", "/opt/cni/bin"],
    bridge: "wharfcni0",
    subnet: "10.88.0.0/16",
  });
  const c = parseDaemonFlags([
    "--cri-socket",
    "unix:///run/w/cri.sock",
    "--cni-bin-dir",
    "/a:/b",
    "--cni-subnet",
    "10.9.0.0/24",
    "--registry-mirror",
    "registry.k8s.io=http://127.0.0.1:5000/",
    "--registry-mirror",
    "http://127.0.0.1:5001",
  ]);
  assert.ok(c !== "help");
  assert.equal(c.criSocket, "/run/w/cri.sock");
  assert.deepEqual(c.cni.binDirs, ["/a", "/b"]);
  assert.equal(c.cni.subnet, "10.9.0.0/24");
  assert.deepEqual(c.registryHostMirrors, { "registry.k8s.io": "http://127.0.0.1:5000" });
  assert.deepEqual(c.registryMirrors, ["http://127.0.0.1:5001"]);
  assert.throws(() => parseDaemonFlags(["--cri-socket", "rel.sock"]), /invalid --cri-socket/);
  assert.throws(() => parseDaemonFlags(["--cni-bridge", "much-too-long-bridge"]), /invalid --cni-bridge/);
  assert.throws(() => parseDaemonFlags(["--registry-mirror", "gcr.io=ftp://x"]), /invalid mirror URL/);
});

test("--ipv6 (also --ipv6=false) and --fixed-cidr-v6 for the default bridge", () => {
  assert.equal(cfg([]).ipv6, false);
  const c = cfg(["--ipv6", "--fixed-cidr-v6", "fd5a:1b2c:3d4e::/64"]);
  assert.equal(c.ipv6, true);
  assert.equal(c.fixedCidrV6, "fd5a:1b2c:3d4e::/64");
  assert.equal(cfg(["--ipv6=false"]).ipv6, false);
  assert.throws(() => cfg(["--fixed-cidr-v6", "nope"]), /invalid --fixed-cidr-v6: nope/);
});

test("--userns-remap: the flag, the config file's userns-remap, and both given (dockerd's error)", () => {
  assert.equal(cfg([]).usernsRemap, undefined);
  assert.equal(cfg(["--userns-remap", "default"]).usernsRemap, "default");
  assert.equal(cfg(["--userns-remap=alice:staff"]).usernsRemap, "alice:staff");
  assert.deepEqual(parseDaemonFile('{"userns-remap": "default"}', "/x.json"), { "userns-remap": "default" });
  assert.throws(() => parseDaemonFile('{"userns-remap": 5}', "/x.json"), /userns-remap .* must be a string/);
  assert.equal(remapSpec(undefined, "default"), "default");
  assert.equal(remapSpec("1000", undefined), "1000");
  assert.equal(remapSpec("", undefined), undefined);
  assert.throws(
    () => remapSpec("default", "dockremap"),
    /specified both as a flag and in the configuration file: userns-remap: \(from flag: default, from file: dockremap\)/,
  );
});
