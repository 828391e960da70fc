// biome-ignore-all lint/suspicious/noTemplateCurlyInString: these strings are Compose templates, not JS ones
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { parseEnvFile } from "./envfile.ts";

const parse = (text: string, env: Record<string, string> = {}) =>
  Object.fromEntries(parseEnvFile(text, { lookup: (k) => env[k] }));

describe("parseEnvFile", () => {
  it("reads the spec's examples", () => {
    assert.deepEqual(
      parse(
        [
          "# Set Rails/Rack environment",
          "RACK_ENV=development",
          'VAR="quoted"',
          "",
          "   # indented comment",
          "export EXPORTED=yes",
          "SPACED = around ",
        ].join("\n"),
      ),
      { RACK_ENV: "development", VAR: "quoted", EXPORTED: "yes", SPACED: "around" },
    );
  });

  it("handles inline comments only after whitespace when unquoted", () => {
    assert.deepEqual(parse('A=VAL # comment\nB=VAL# not a comment\nC="VAL # not" # comment'), {
      A: "VAL",
      B: "VAL# not a comment",
      C: "VAL # not",
    });
  });

  it("keeps single quotes literal and expands escapes in double quotes", () => {
    assert.deepEqual(
      parse(
        [
          "A='$OTHER'",
          "B='${OTHER}'",
          "C='Let\\'s go!'",
          'D="{\\"hello\\": \\"json\\"}"',
          'E="some\\tvalue"',
          "F='some\\tvalue'",
          "G=some\\tvalue",
          'H="line1\\nline2"',
        ].join("\n"),
        { OTHER: "o" },
      ),
      {
        A: "$OTHER",
        B: "${OTHER}",
        C: "Let's go!",
        D: '{"hello": "json"}',
        E: "some\tvalue",
        F: "some\\tvalue",
        G: "some\\tvalue",
        H: "line1\nline2",
      },
    );
  });

  it("interpolates unquoted and double-quoted values from earlier lines, then the environment", () => {
    assert.deepEqual(parse('A=1\nB=${A}2\nC="${B}3 $HOME"\nD=${MISSING:-dflt}', { HOME: "/h" }), {
      A: "1",
      B: "12",
      C: "123 /h",
      D: "dflt",
    });
  });

  it("reads multi-line quoted values", () => {
    assert.deepEqual(parse('KEY="first\nsecond"\nNEXT=1'), { KEY: "first\nsecond", NEXT: "1" });
    assert.deepEqual(parse("KEY='a\nb'\nNEXT=2"), { KEY: "a\nb", NEXT: "2" });
  });

  it("treats VAR= as empty and VAR as unset", () => {
    const m = parseEnvFile("EMPTY=\nUNSET\n");
    assert.equal(m.get("EMPTY"), "");
    assert.equal(m.has("UNSET"), true);
    assert.equal(m.get("UNSET"), undefined);
  });

  it("reads raw files verbatim", () => {
    assert.deepEqual(Object.fromEntries(parseEnvFile('A="$x" # y\n', { raw: true })), { A: '"$x" # y' });
  });

  it("reports unterminated quotes with the line", () => {
    assert.throws(
      () => parseEnvFile('A=1\nB="open\n', { file: "/x/.env" }),
      /\/x\/.env: line 2: unterminated/,
    );
  });

  it("accepts CRLF line ends", () => {
    assert.deepEqual(parse("A=1\r\nB=2\r\n"), { A: "1", B: "2" });
  });
});
