import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { OciProcess } from "../oci/index.ts";
import { hostCaps } from "./caps.ts";
import { execProcess } from "./exec.ts";

const base: OciProcess = {
  terminal: true,
  user: { uid: 0, gid: 0, additionalGids: [10] },
  args: ["sleep", "1000"],
  env: ["PATH=/bin", "HOSTNAME=abc", "TERM=xterm", "FOO=1"],
  cwd: "/srv",
  capabilities: { bounding: ["CAP_CHOWN", "CAP_KILL"], effective: ["CAP_CHOWN", "CAP_KILL"] },
  rlimits: [{ type: "RLIMIT_NOFILE", hard: 1024, soft: 1024 }],
  noNewPrivileges: true,
  oomScoreAdj: 5,
};

describe("execProcess", () => {
  it("takes the container's process as the base", () => {
    const p = execProcess(base, { args: ["ls", "-l"] });
    assert.deepEqual(p.args, ["ls", "-l"]);
    assert.equal(p.terminal, false);
    assert.equal(p.cwd, "/srv");
    assert.deepEqual(p.user, { uid: 0, gid: 0, additionalGids: [10] });
    assert.deepEqual(p.capabilities?.bounding, ["CAP_CHOWN", "CAP_KILL"]);
    assert.deepEqual(p.capabilities?.effective, ["CAP_CHOWN", "CAP_KILL"]);
    assert.deepEqual(p.rlimits, base.rlimits);
    assert.equal(p.noNewPrivileges, true);
    assert.equal(p.oomScoreAdj, 5);
  });

  it("replaces variables by name, appends new ones and adds TERM for a TTY", () => {
    const p = execProcess(
      { ...base, env: ["PATH=/bin", "FOO=1"] },
      { args: ["x"], env: ["FOO=2", "BAR=3"], tty: true },
    );
    assert.deepEqual(p.env, ["PATH=/bin", "FOO=2", "BAR=3", "TERM=xterm"]);
    assert.equal(p.terminal, true);
  });

  it("applies user, cwd, console size; a non-root user holds no capabilities; privileged gets all", () => {
    const p = execProcess(base, {
      args: ["x"],
      user: { uid: 1000, gid: 1000, additionalGids: [] },
      cwd: "/home",
      tty: true,
      consoleSize: { height: 5, width: 6 },
    });
    assert.deepEqual(p.user, { uid: 1000, gid: 1000 });
    assert.equal(p.cwd, "/home");
    assert.deepEqual(p.consoleSize, { height: 5, width: 6 });
    assert.deepEqual(p.capabilities?.effective, []);
    const priv = execProcess(base, { args: ["x"], privileged: true });
    assert.deepEqual(priv.capabilities?.bounding, [...hostCaps()]);
    assert.deepEqual(priv.capabilities?.effective, [...hostCaps()]);
  });
});
