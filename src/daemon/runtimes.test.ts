import assert from "node:assert/strict";
import { test } from "node:test";
import { parseDaemonFlags } from "./config.ts";
import { bridgeIpv6, daemonRuntimes, parseAddRuntimes, parseDaemonFile } from "./runtimes.ts";

const base = { runcPath: "/usr/sbin/runc", added: {}, file: {}, resolve: (p: string) => p };

test("--add-runtime and --default-runtime, checked as dockerd checks them", () => {
  const c = parseDaemonFlags(["--add-runtime", "crun=/usr/bin/crun", "--default-runtime", "crun"]);
  assert.notEqual(c, "help");
  if (c === "help") return;
  assert.deepEqual(c.addRuntimes, { crun: { path: "/usr/bin/crun" } });
  assert.equal(c.defaultRuntime, "crun");
  assert.throws(() => parseAddRuntimes(["crun"]), /invalid runtime argument: crun/);
  assert.throws(() => parseAddRuntimes(["runc=/x"]), /runtime name 'runc' is reserved/);
  assert.throws(() => parseAddRuntimes(["a=/x", "a=/y"]), /runtime 'a' was already defined/);
});

test("runc always, runsc when installed, the file's runtimes with their args, the default checked", () => {
  const none = daemonRuntimes({ ...base, exists: () => false });
  assert.deepEqual(none, { runtimes: { runc: { path: "/usr/sbin/runc" } }, defaultName: "runc" });
  const file = parseDaemonFile(
    '{"runtimes": {"gv": {"path": "/opt/runsc", "runtimeArgs": ["--platform=ptrace"]}}, "default-runtime": "gv"}',
    "daemon.json",
  );
  const r = daemonRuntimes({ ...base, file, exists: (p) => p === "/usr/bin/runsc" });
  assert.deepEqual(r.runtimes.runsc, { path: "/usr/bin/runsc", runtimeArgs: ["--platform=ptrace"] });
  assert.deepEqual(r.runtimes.gv, { path: "/opt/runsc", runtimeArgs: ["--platform=ptrace"] });
  assert.equal(r.defaultName, "gv");
  assert.equal(r.sandbox, "runsc");
  assert.throws(
    () => daemonRuntimes({ ...base, defaultFlag: "nope", exists: () => false }),
    /specified default runtime 'nope' does not exist/,
  );
  assert.throws(() => parseDaemonFile('{"debug": true}', "f"), /don't match any configuration option: debug/);
  assert.throws(() => parseDaemonFile('{"runtimes": {"x": {}}}', "f"), /runtime x: a path is required/);
  assert.throws(
    () => daemonRuntimes({ ...base, file: { runtimes: { runc: { path: "/x" } } } }),
    /runtime name 'runc' is reserved/,
  );
});

test("cri-socket in the daemon config file", () => {
  assert.deepEqual(parseDaemonFile('{"cri-socket": "/run/wharf/cri.sock"}', "f"), {
    "cri-socket": "/run/wharf/cri.sock",
  });
  assert.throws(() => parseDaemonFile('{"cri-socket": "cri.sock"}', "f"), /absolute path/);
});

test("ipv6 and fixed-cidr-v6 in the daemon config file, and dockerd's error when a flag names one too", () => {
  const file = parseDaemonFile('{"ipv6": true, "fixed-cidr-v6": "fd5a:1b2c:3d4e::/64"}', "d.json");
  assert.deepEqual(bridgeIpv6({ ipv6: false }, file), { ipv6: true, fixedCidrV6: "fd5a:1b2c:3d4e::/64" });
  assert.deepEqual(bridgeIpv6({ ipv6: true, fixedCidrV6: "fd00:1::/64" }, {}), {
    ipv6: true,
    fixedCidrV6: "fd00:1::/64",
  });
  assert.throws(
    () => bridgeIpv6({ ipv6: false, fixedCidrV6: "fd00:1::/64" }, file),
    /specified both as a flag and in the configuration file: fixed-cidr-v6: \(from flag: fd00:1::\/64, from file: fd5a:1b2c:3d4e::\/64\)/,
  );
  assert.throws(() => parseDaemonFile('{"ipv6": "yes"}', "d.json"), /ipv6 in the daemon config file/);
});
