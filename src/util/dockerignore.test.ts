import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  cleanPath,
  IgnorePatternError,
  ignoreMatcher,
  parseDockerignore,
  readIgnorePatterns,
} from "./dockerignore.ts";

// The union of what the builder's, the CLI's and compose's matchers were tested for.
const m = parseDockerignore;

describe("readIgnorePatterns", () => {
  it("drops comments and blank lines, strips a leading slash, cleans like filepath.Clean", () => {
    assert.deepEqual(readIgnorePatterns("# c\n\n  /a/b/  \n./c\n!d/../e\nx//y\n"), ["a/b", "c", "!e", "x/y"]);
    assert.deepEqual(readIgnorePatterns("\uFEFFa\r\n #not-a-comment\n! f \n"), ["a", "#not-a-comment", "!f"]);
  });

  it("cleans as Go's path.Clean does", () => {
    assert.equal(cleanPath("a/./b/../c/"), "a/c");
    assert.equal(cleanPath("../a"), "../a");
    assert.equal(cleanPath("/../a"), "/a");
    assert.equal(cleanPath(""), ".");
    assert.equal(cleanPath("a/.."), ".");
  });
});

describe("ignoreMatcher", () => {
  it("excludes what a pattern matches and everything below a matched directory", () => {
    const ig = m("node_modules\n*.log\ntmp/*\n");
    assert.equal(ig.ignores("node_modules"), true);
    assert.equal(ig.ignores("node_modules/x/y.js"), true);
    assert.equal(ig.ignores("a.log"), true);
    assert.equal(ig.ignores("sub/a.log"), false, "* does not cross directories");
    assert.equal(ig.ignores("tmp/x"), true);
    assert.equal(ig.ignores("tmp/x/deep"), true);
    assert.equal(ig.ignores("tmp"), false);
    assert.equal(ig.ignores("src/node_modules"), false, "patterns are anchored at the context root");
  });

  it("** matches any number of directories, including none", () => {
    const ig = m("**/*.go\na/**/b\nlogs/**\n");
    assert.equal(ig.ignores("x.go"), true);
    assert.equal(ig.ignores("p/q/x.go"), true);
    assert.equal(ig.ignores("a/b"), true);
    assert.equal(ig.ignores("a/x/y/b"), true);
    assert.equal(ig.ignores("logs/1/2"), true);
    assert.equal(ig.ignores("logsx"), false);
  });

  it("! re-includes, and the last matching line wins", () => {
    const ig = m("*.md\n!README.md\nREADME*.md\n!README-keep.md\n");
    assert.equal(ig.ignores("CHANGES.md"), true);
    assert.equal(ig.ignores("README-x.md"), true);
    assert.equal(ig.ignores("README.md"), true, "README*.md comes later and matches");
    assert.equal(ig.ignores("README-keep.md"), false);
    assert.equal(ig.hasExceptions, true);
    const dir = m("docs\n!docs/keep.txt\n");
    assert.equal(ig.ignores("docs/other"), false);
    assert.equal(dir.ignores("docs/other"), true);
    assert.equal(dir.ignores("docs/keep.txt"), false);
    assert.equal(m("a\n").hasExceptions, false);
  });

  it("? and character classes, escapes (Go's syntax: ^ negates, ! is literal)", () => {
    const ig = m("file?.txt\n[ab]*.c\n[^x]y\n\\*lit\n[!q]z\n");
    assert.equal(ig.ignores("file1.txt"), true);
    assert.equal(ig.ignores("file10.txt"), false);
    assert.equal(ig.ignores("apple.c"), true);
    assert.equal(ig.ignores("cherry.c"), false);
    assert.equal(ig.ignores("zy"), true);
    assert.equal(ig.ignores("xy"), false);
    assert.equal(ig.ignores("*lit"), true);
    assert.equal(ig.ignores("alit"), false);
    assert.equal(ig.ignores("qz"), true);
    assert.equal(ig.ignores("!z"), true);
    assert.equal(ig.ignores("wz"), false);
  });

  it("as the CLI's tests had it: **/, re-inclusion, a directory pattern with slashes", () => {
    const ig = m("# c\n**/node_modules\nlogs\n*.md\n!KEEP.md\n/build/\n");
    assert.equal(ig.ignores("app/node_modules/x.js"), true);
    assert.equal(ig.ignores("node_modules"), true);
    assert.equal(ig.ignores("logs/a.log"), true);
    assert.equal(ig.ignores("README.md"), true);
    assert.equal(ig.ignores("KEEP.md"), false);
    assert.equal(ig.ignores("docs/README.md"), false);
    assert.equal(ig.ignores("build/out"), true);
    assert.equal(ig.ignores("app/main.js"), false);
  });

  it("as compose's tests had it", () => {
    const ig = m("# comment\nnode_modules\n*.log\n!keep.log\n**/tmp\n/build/\n");
    assert.equal(ig.ignores("node_modules/x/y.js"), true);
    assert.equal(ig.ignores("debug.log"), true);
    assert.equal(ig.ignores("keep.log"), false);
    assert.equal(ig.ignores("a/b/tmp/c"), true);
    assert.equal(ig.ignores("build/out"), true);
    assert.equal(ig.ignores("src/app.ts"), false);
    assert.equal(ig.ignores("sub/debug.log"), false);
    assert.equal(ig.ignores("tmp"), true);
    assert.equal(ig.ignores("atmp"), false);
    assert.equal(ig.ignores("a/xtmp/c"), false);
  });

  it("rejects malformed patterns", () => {
    assert.throws(() => m("[abc\n"), IgnorePatternError);
    assert.throws(() => ignoreMatcher(["!"]), /illegal exclusion pattern/);
    assert.equal(m("a.b\n").ignores("aXb"), false, "regexp characters are literal");
  });
});
