import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { isConflict, isNotFound } from "../errdefs/index.ts";
import { FakeHost, failProcess } from "../host/index.ts";
import { isOciRuntimeError } from "./errors.ts";
import { Runc } from "./runc.ts";
import { runTop } from "./top.ts";

describe("runc and ps through the host", () => {
  it("runs runc under its root with stdin input", async () => {
    const host = new FakeHost();
    let seen: { args: readonly string[]; input?: string } | undefined;
    host.programs.set("runc", (args, o) => {
      seen = { args, ...(o.input !== undefined ? { input: o.input } : {}) };
      return "ok";
    });
    const runc = new Runc({ name: "runc", path: "/usr/sbin/runc", root: "/run/w/runc" }, host.processes);
    assert.equal(await runc.run("update", ["update", "--resources", "-", "c1"], { input: "{}" }), "ok");
    assert.deepEqual(seen, {
      args: ["--root=/run/w/runc", "update", "--resources", "-", "c1"],
      input: "{}",
    });
  });

  it("maps runc's stderr to NotFound, Conflict and OciRuntimeError", async () => {
    const host = new FakeHost();
    const runc = new Runc({ name: "runc", path: "runc", root: "/r" }, host.processes);
    const fail = (msg: string) =>
      host.programs.set("runc", () => {
        throw failProcess(1, `time="x" level=error msg="${msg}"\n`);
      });
    fail("container does not exist");
    await assert.rejects(runc.run("start", ["start", "c"]), (e) => isNotFound(e));
    fail("cannot start a container that has stopped");
    await assert.rejects(runc.run("start", ["start", "c"]), (e) => isConflict(e));
    fail("something odd");
    await assert.rejects(runc.run("start", ["start", "c"]), (e) => isOciRuntimeError(e));
  });

  it("top asks ps for the pids and falls back to all rows", async () => {
    const host = new FakeHost();
    const calls: string[][] = [];
    host.programs.set("ps", (args) => {
      calls.push([...args]);
      if (args.some((a) => a.startsWith("-q"))) throw failProcess(1, "error: unsupported option");
      return "UID PID CMD\nroot 7 sleep 1\nroot 8 other\n";
    });
    const top = await runTop([7], "f", { processes: host.processes });
    assert.deepEqual(calls, [["f", "-q7"], ["f"]]);
    assert.deepEqual(top.processes, [["root", "7", "sleep 1"]]);
  });
});
