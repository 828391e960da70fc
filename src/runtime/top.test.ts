import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { WharfError } from "../errdefs/index.ts";
import { hasCustomFormat, parsePsOutput } from "./top.ts";

const PS_EF = `UID          PID    PPID  C STIME TTY          TIME CMD
root           1       0  0 10:00 ?        00:00:01 /sbin/init
root         100       1  0 10:01 ?        00:00:00 sh -c sleep 1000 & wait
root         101     100  0 10:01 ?        00:00:00 sleep  1000
`;

describe("top", () => {
  it("keeps the container's rows; the last column takes the rest of the line", () => {
    const r = parsePsOutput(PS_EF, [100, 101]);
    assert.deepEqual(r.titles, ["UID", "PID", "PPID", "C", "STIME", "TTY", "TIME", "CMD"]);
    assert.deepEqual(r.processes, [
      ["root", "100", "1", "0", "10:01", "?", "00:00:00", "sh -c sleep 1000 & wait"],
      ["root", "101", "100", "0", "10:01", "?", "00:00:00", "sleep 1000"],
    ]);
  });

  it("drops the PID column it added for a custom format and keeps thread rows", () => {
    const out = "  PID COMMAND\n  100 sh\n    - -\n  200 other\n    - -\n";
    assert.deepEqual(parsePsOutput(out, [100], true), { titles: ["COMMAND"], processes: [["sh"], ["-"]] });
  });

  it("fails like Docker without a PID column", () => {
    assert.throws(
      () => parsePsOutput("COMMAND\nsh\n", [1]),
      (e: unknown) => {
        assert.ok(e instanceof Error && /Couldn't find PID field in ps output/.test(e.message));
        return e instanceof WharfError;
      },
    );
  });

  it("recognises custom formats, not option values that contain an o", () => {
    assert.equal(hasCustomFormat(["-o", "pid,comm"]), true);
    assert.equal(hasCustomFormat(["-eo", "comm"]), true);
    assert.equal(hasCustomFormat(["aux"]), false);
    assert.equal(hasCustomFormat(["axo", "comm"]), true);
    assert.equal(hasCustomFormat(["--format=comm"]), true);
    assert.equal(hasCustomFormat(["-C", "ocmd"]), false);
    assert.equal(hasCustomFormat(["eUocmd"]), false);
    assert.equal(hasCustomFormat(["--sort", "ocmd"]), false);
    assert.equal(hasCustomFormat(["-ef"]), false);
  });
});
