import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { conmonArgs, conmonEnv } from "./conmonargs.ts";

const base = {
  containerId: "c1",
  runtimePath: "/usr/sbin/runc",
  runtimeArgs: ["--root=/run/w/runc"],
  logLevel: "warning",
};

describe("conmon arguments", () => {
  it("for a container: exit dir, k8s-file log, stdin kept open unless stdin-once", () => {
    const args = conmonArgs({
      ...base,
      sessionId: "c1",
      bundleDir: "/b",
      persistDir: "/run/w/containers/c1",
      name: "web",
      log: "k8s-file:/l/c1.log",
      exitDir: "/run/w/exits",
      tty: true,
      stdin: true,
      leaveStdinOpen: true,
      logSizeMax: 1024,
    });
    assert.deepEqual(args, [
      ...["--api-version", "1", "-c", "c1", "-u", "c1", "-r", "/usr/sbin/runc", "-b", "/b"],
      ...["-p", "/run/w/containers/c1/pid", "-n", "web", "--exit-dir", "/run/w/exits"],
      ...["--persist-dir", "/run/w/containers/c1", "--full-attach", "-l", "k8s-file:/l/c1.log"],
      ...["--log-level", "warning", "--syslog", "--conmon-pidfile", "/run/w/containers/c1/conmon.pid"],
      ...["--runtime-arg", "--root=/run/w/runc", "-t", "-i", "--leave-stdin-open", "--log-size-max", "1024"],
    ]);
  });

  it("for an exec session: the same runc and root, no exit dir, no log, the process spec", () => {
    const args = conmonArgs({
      ...base,
      sessionId: "e1",
      bundleDir: "/x/e1",
      persistDir: "/x/e1",
      name: "c1",
      log: "none",
      tty: false,
      stdin: true,
      execProcessSpec: "/x/e1/process.json",
    });
    assert.equal(args.includes("--exit-dir"), false);
    assert.deepEqual(args.slice(args.indexOf("--runtime-arg")), [
      ...["--runtime-arg", "--root=/run/w/runc", "-e", "--exec-attach", "--exec-process-spec"],
      ...["/x/e1/process.json", "-i"],
    ]);
    assert.deepEqual(args.slice(0, 6), ["--api-version", "1", "-c", "c1", "-u", "e1"]);
  });

  it("names only the pipes given in the environment", () => {
    assert.deepEqual(Object.keys(conmonEnv({ sync: 3 })).sort(), ["PATH", "_OCI_SYNCPIPE"]);
    assert.equal(conmonEnv({ sync: 3, start: 4, attach: 5 })._OCI_ATTACHPIPE, "5");
  });
});
