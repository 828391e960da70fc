import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { parseDockerignore } from "../../util/index.ts";
import { type Flag, parseFlags, UsageError } from "./args.ts";

const FLAGS: Flag[] = [
  { name: "detach", short: "d", type: "bool", desc: "" },
  { name: "tty", short: "t", type: "bool", desc: "", default: true },
  { name: "file", short: "f", type: "list", desc: "" },
  { name: "timeout", short: "T", type: "int", desc: "" },
  { name: "name", type: "string", desc: "" },
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
    const rules = parseDockerignore("# comment\nnode_modules\n*.log\n!keep.log\n**/tmp\n/build/\n");
    assert.equal(rules.ignores("node_modules/x/y.js"), true);
    assert.equal(rules.ignores("debug.log"), true);
    assert.equal(rules.ignores("keep.log"), false);
    assert.equal(rules.ignores("a/b/tmp/c"), true);
    assert.equal(rules.ignores("build/out"), true);
    assert.equal(rules.ignores("src/app.ts"), false);
    assert.equal(rules.ignores("sub/debug.log"), false);
    assert.equal(rules.ignores("tmp"), true);
    assert.equal(rules.ignores("atmp"), false);
    assert.equal(rules.ignores("a/xtmp/c"), false);
  });
});
