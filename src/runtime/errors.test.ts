import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { isConflict, isInvalidParameter, isNotFound } from "../errdefs/index.ts";
import { OciRuntimeError, parseRuncStderr } from "./errors.ts";
import { parseProcStat } from "./procfs.ts";
import { runcError } from "./runc.ts";
import { normalizeSignal } from "./signals.ts";

describe("runc errors", () => {
  it("takes the last error message out of runc's logrus output", () => {
    const stderr = [
      'time="2024-01-01T00:00:00Z" level=warning msg="something minor"',
      'time="2024-01-01T00:00:00Z" level=error msg="runc create failed: unable to start container process: exec: \\"nope\\": executable file not found in $PATH"',
      "",
    ].join("\n");
    assert.equal(
      parseRuncStderr(stderr),
      'runc create failed: unable to start container process: exec: "nope": executable file not found in $PATH',
    );
    assert.equal(parseRuncStderr("  plain text\n"), "plain text");
  });

  it("classifies like dockerd: missing command 127, not executable 126, others system errors", () => {
    const nf = new OciRuntimeError("create", 'exec: "nope": executable file not found in $PATH');
    assert.ok(isInvalidParameter(nf));
    assert.equal(nf.exitCode, 127);
    assert.match(
      nf.message,
      /^OCI runtime create failed: exec: "nope": executable file not found in \$PATH: unknown$/,
    );
    assert.equal(new OciRuntimeError("create", "exec: /etc: permission denied").exitCode, 126);
    const other = new OciRuntimeError("start", "something broke");
    assert.equal(other.kind, "System");
    assert.equal(other.exitCode, undefined);
    assert.ok(isNotFound(runcError("kill", "container does not exist")));
    assert.ok(isConflict(runcError("kill", "container not running")));
  });
});

describe("normalizeSignal", () => {
  it("accepts numbers, names with or without SIG, and real-time signals", () => {
    assert.equal(normalizeSignal(9), 9);
    assert.equal(normalizeSignal("15"), 15);
    assert.equal(normalizeSignal("KILL"), 9);
    assert.equal(normalizeSignal("sigterm"), 15);
    assert.equal(normalizeSignal("SIGRTMIN+2"), 36);
    assert.equal(normalizeSignal("RTMAX"), 64);
    assert.throws(() => normalizeSignal("NOPE"), isInvalidParameter);
    assert.throws(() => normalizeSignal(0), isInvalidParameter);
  });
});

describe("parseProcStat", () => {
  it("reads state and start time past a command name with spaces and parentheses", () => {
    const rest = Array.from({ length: 50 }, (_, i) => String(i)).join(" ");
    const st = parseProcStat(`123 (we (ird) name) S ${rest.slice(2)}`);
    assert.equal(st?.comm, "we (ird) name");
    assert.equal(st?.state, "S");
    assert.equal(st?.startTime, 19);
  });
});
