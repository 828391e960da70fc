import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { type Flag, parseFlags, UsageError } from "./args.ts";
import { ignoreRules, isIgnored } from "./build.ts";

const FLAGS: Flag[] = [
  { name: "detach", short: "d", kind: "bool", desc: "" },
  { name: "tty", short: "t", kind: "bool", desc: "", default: true },
  { name: "file", short: "f", kind: "list", desc: "" },
  { name: "timeout", short: "T", kind: "int", desc: "" },
  { name: "name", kind: "string", desc: "" },
];

describe("parseFlags", () => {
  it("reads pflag's forms", () => {
    const p = parseFlags(
      ["-d", "-f", "a.yaml", "-fb.yaml", "--file=c.yaml", "--name", "x", "-T", "5", "svc"],
      FLAGS,
    );
    assert.deepEqual(p.flags, {
      detach: true,
      tty: true,
      file: ["a.yaml", "b.yaml", "c.yaml"],
      timeout: 5,
      name: "x",
    });
    assert.deepEqual(p.args, ["svc"]);
    assert.equal(parseFlags(["--tty=false"], FLAGS).flags.tty, false);
    assert.deepEqual(parseFlags(["-dT3"], FLAGS).flags.timeout, 3);
  });

  it("stops at the first positional when asked, and at --", () => {
    const p = parseFlags(["-d", "web", "sh", "-c", "x"], FLAGS, { stopAtPositional: true });
    assert.deepEqual(p.args, ["web", "sh", "-c", "x"]);
    assert.deepEqual(parseFlags(["--", "-d"], FLAGS).args, ["-d"]);
  });

  it("rejects unknown flags and missing values", () => {
    assert.throws(() => parseFlags(["--nope"], FLAGS), UsageError);
    assert.throws(() => parseFlags(["-x"], FLAGS), /unknown shorthand flag: 'x'/);
    assert.throws(() => parseFlags(["--name"], FLAGS), /flag needs an argument/);
    assert.throws(() => parseFlags(["-T", "x"], FLAGS), /not an integer/);
  });
});

describe(".dockerignore", () => {
  it("excludes, re-includes and matches directories", () => {
    const rules = ignoreRules("# comment\nnode_modules\n*.log\n!keep.log\n**/tmp\n/build/\n");
    assert.equal(isIgnored("node_modules/x/y.js", rules), true);
    assert.equal(isIgnored("debug.log", rules), true);
    assert.equal(isIgnored("keep.log", rules), false);
    assert.equal(isIgnored("a/b/tmp/c", rules), true);
    assert.equal(isIgnored("build/out", rules), true);
    assert.equal(isIgnored("src/app.ts", rules), false);
    assert.equal(isIgnored("sub/debug.log", rules), false);
    assert.equal(isIgnored("tmp", rules), true);
    assert.equal(isIgnored("atmp", rules), false);
    assert.equal(isIgnored("a/xtmp/c", rules), false);
  });
});
