import assert from "node:assert/strict";
import { test } from "node:test";
import { ignoreMatcher, readIgnorePatterns } from "./dockerignore.ts";

const m = (text: string) => ignoreMatcher(readIgnorePatterns(text));

test("reading: comments, blank lines, leading slash, cleaning", () => {
  assert.deepEqual(readIgnorePatterns("# c\n\n  /a/b/  \n./c\n!d/../e\nx//y\n"), ["a/b", "c", "!e", "x/y"]);
});

test("a pattern excludes what it matches and everything below a matched directory", () => {
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

test("** matches any number of directories, including none", () => {
  const ig = m("**/*.go\na/**/b\nlogs/**\n");
  assert.equal(ig.ignores("x.go"), true);
  assert.equal(ig.ignores("p/q/x.go"), true);
  assert.equal(ig.ignores("a/b"), true);
  assert.equal(ig.ignores("a/x/y/b"), true);
  assert.equal(ig.ignores("logs/1/2"), true);
  assert.equal(ig.ignores("logsx"), false);
});

test("! re-includes, and the last matching line wins", () => {
  const ig = m("*.md\n!README.md\nREADME*.md\n!README-keep.md\n");
  assert.equal(ig.ignores("CHANGES.md"), true);
  assert.equal(ig.ignores("README-x.md"), true);
  assert.equal(ig.ignores("README.md"), true, "README*.md comes later and matches");
  assert.equal(ig.ignores("README-keep.md"), false);
  const dir = m("docs\n!docs/keep.txt\n");
  assert.equal(ig.ignores("docs/other"), false);
  assert.equal(dir.ignores("docs/other"), true);
  assert.equal(dir.ignores("docs/keep.txt"), false);
});

test("? and character classes, escapes", () => {
  const ig = m("file?.txt\n[ab]*.c\n[!x]y\n\\*lit\n");
  assert.equal(ig.ignores("file1.txt"), true);
  assert.equal(ig.ignores("file10.txt"), false);
  assert.equal(ig.ignores("apple.c"), true);
  assert.equal(ig.ignores("cherry.c"), false);
  assert.equal(ig.ignores("zy"), true);
  assert.equal(ig.ignores("xy"), false);
  assert.equal(ig.ignores("*lit"), true);
  assert.equal(ig.ignores("alit"), false);
});
