// biome-ignore-all lint/suspicious/noTemplateCurlyInString: Dockerfile text uses ${VAR} literally
import assert from "node:assert/strict";
import { test } from "node:test";
import { parseDockerfile } from "./parser.ts";
import { expandWord, expandWords, splitWords } from "./shell.ts";

const env: Record<string, string> = { A: "a", EMPTY: "", P: "/usr/local/bin", SP: "x y" };
const lookup = (n: string) => env[n];

test("directives: syntax and escape at the top only, known ones, once each", () => {
  const df = parseDockerfile("# syntax=docker/dockerfile:1\n# escape=`\nFROM busybox\nRUN echo a `\n  b\n");
  assert.equal(df.directives.syntax, "docker/dockerfile:1");
  assert.equal(df.escape, "`");
  assert.equal(df.instructions[1].args[0], "echo a   b");
  // After an instruction or a comment, a directive is just a comment.
  const late = parseDockerfile("# hello\n# escape=`\nFROM busybox\nRUN a \\\nb\n");
  assert.equal(late.escape, "\\");
  assert.equal(late.instructions[1].args[0], "a b");
  // An unknown directive ends the directives.
  assert.equal(parseDockerfile("# foo=bar\n# escape=`\nFROM x\n").escape, "\\");
  assert.throws(
    () => parseDockerfile("# escape=`\n# escape=\\\nFROM x\n"),
    /only one escape parser directive/,
  );
  assert.throws(() => parseDockerfile("# escape=x\nFROM x\n"), /invalid escape token 'x'/);
});

test("comments and blank lines inside continuations are skipped; line numbers are where the instruction starts", () => {
  const df = parseDockerfile("FROM busybox\n\n# c\nRUN echo one \\\n# inside\n\n    two\nCMD x\n");
  assert.equal(df.instructions[1].args[0], "echo one     two");
  assert.equal(df.instructions[1].line, 4);
  assert.equal(df.instructions[2].line, 8);
  // A '#' that is not at the start of a line is an argument.
  assert.equal(
    parseDockerfile("FROM x\nRUN echo # not a comment\n").instructions[1].args[0],
    "echo # not a comment",
  );
});

test("JSON and shell forms", () => {
  const df = parseDockerfile(
    'FROM x\nCMD ["a", "b c"]\nENTRYPOINT echo hi\nRUN [ "sh", "-c", "x" ]\nCMD [not json\nSHELL ["/bin/bash", "-c"]\nVOLUME ["/a", "/b"]\nVOLUME /c /d\n',
  );
  const [, cmd, ep, run, bad, shell, vol, vol2] = df.instructions;
  assert.deepEqual([cmd.json, cmd.args], [true, ["a", "b c"]]);
  assert.deepEqual([ep.json, ep.args], [false, ["echo hi"]]);
  assert.deepEqual(run.args, ["sh", "-c", "x"]);
  assert.deepEqual([bad.json, bad.args], [false, ["[not json"]]);
  assert.deepEqual(shell.args, ["/bin/bash", "-c"]);
  assert.deepEqual(vol.args, ["/a", "/b"]);
  assert.deepEqual(vol2.args, ["/c", "/d"]);
  assert.throws(
    () => parseDockerfile("FROM x\nSHELL /bin/sh\n"),
    /line 2: SHELL requires the arguments to be in JSON form/,
  );
});

test("ENV and LABEL: both forms, quotes kept for expansion", () => {
  const df = parseDockerfile(
    'FROM x\nENV A=1 B="two words" C=three\\ x\nENV OLD some value here\nLABEL "k.y"="v" z=1\n',
  );
  assert.deepEqual(df.instructions[1].args, ["A", "1", "B", '"two words"', "C", "three\\ x"]);
  assert.deepEqual(df.instructions[2].args, ["OLD", "some value here"]);
  assert.deepEqual(df.instructions[3].args, ['"k.y"', '"v"', "z", "1"]);
  assert.throws(() => parseDockerfile("FROM x\nENV A\n"), /line 2: ENV must have two arguments/);
  assert.throws(() => parseDockerfile("FROM x\nENV A=1 B\n"), /can't find = in "B"/);
});

test("flags: known ones parsed, unknown ones refused", () => {
  const df = parseDockerfile(
    "FROM --platform=linux/amd64 busybox AS b\nCOPY --from=b --chown=1:2 --chmod=755 --link a /b\n",
  );
  assert.deepEqual(df.instructions[0].flags, { platform: "linux/amd64" });
  assert.deepEqual(df.instructions[0].args, ["busybox", "AS", "b"]);
  assert.deepEqual(df.instructions[1].flags, { from: "b", chown: "1:2", chmod: "755", link: "" });
  assert.throws(() => parseDockerfile("FROM x\nCOPY --bogus=1 a b\n"), /line 2: unknown flag: bogus/);
});

test("heredocs: RUN and COPY, quoted delimiters, <<- strips tabs, several on one line", () => {
  const df = parseDockerfile(
    "FROM x\nRUN <<EOF\necho $A\n  indented\nEOF\nCOPY <<'A' <<-B /dst/\n$lit\nA\n\t\tb\n\tB\nCMD done\n",
  );
  const run = df.instructions[1];
  assert.deepEqual(run.heredocs, [{ name: "EOF", content: "echo $A\n  indented\n", expand: true }]);
  const copy = df.instructions[2];
  assert.deepEqual(copy.heredocs, [
    { name: "A", content: "$lit\n", expand: false },
    { name: "B", content: "b\n", expand: true },
  ]);
  assert.equal(df.instructions[3].cmd, "cmd");
  assert.equal(df.instructions[3].line, 11);
  assert.throws(() => parseDockerfile("FROM x\nRUN <<EOF\nno end\n"), /line 2: unterminated heredoc EOF/);
});

test("errors: unknown instruction, arity, FROM first, ONBUILD rules, empty file, HEALTHCHECK", () => {
  assert.throws(
    () => parseDockerfile("FROM x\nRUN a\nFOO bar\n"),
    /dockerfile parse error on line 3: unknown instruction: FOO/,
  );
  assert.throws(() => parseDockerfile("FROM a b\n"), /line 1: FROM requires either one or three arguments/);
  assert.throws(() => parseDockerfile("FROM a\nWORKDIR\n"), /line 2: WORKDIR requires exactly one argument/);
  assert.throws(() => parseDockerfile("FROM a\nCOPY x\n"), /line 2: COPY requires at least two arguments/);
  assert.throws(() => parseDockerfile("ARG X\nRUN a\n"), /line 2: no build stage in current context/);
  assert.throws(() => parseDockerfile("FROM a\nONBUILD ONBUILD RUN x\n"), /Chaining ONBUILD/);
  assert.throws(
    () => parseDockerfile("FROM a\nONBUILD FROM b\n"),
    /FROM isn't allowed as an ONBUILD trigger/,
  );
  assert.throws(() => parseDockerfile("\n# only\n"), /cannot be empty/);
  assert.throws(() => parseDockerfile("FROM a\nHEALTHCHECK WHAT x\n"), /Unknown type "WHAT" in HEALTHCHECK/);
  const ok = parseDockerfile(
    'ARG V=1\nFROM a:${V}\nONBUILD RUN echo hi\nHEALTHCHECK --interval=5s CMD ["true"]\nhealthcheck NONE\n',
  );
  assert.equal(ok.instructions[2].sub?.cmd, "run");
  assert.deepEqual(ok.instructions[3].args, ["CMD", '["true"]']);
  assert.deepEqual(ok.instructions[3].flags, { interval: "5s" });
  assert.equal(ok.instructions[4].cmd, "healthcheck");
});

test("expansion: $VAR, ${VAR}, defaults, alternatives, errors, quotes and escapes", () => {
  assert.equal(expandWord("$A-${A}x", lookup), "a-ax");
  assert.equal(expandWord("${NOPE:-def}/${EMPTY:-e}/${EMPTY-e}/${A:-d}", lookup), "def/e//a");
  assert.equal(expandWord("${A:+alt}/${EMPTY:+alt}/${EMPTY+alt}/${NOPE+alt}", lookup), "alt//alt/");
  assert.equal(expandWord("${NOPE:-${A}b}", lookup), "ab");
  assert.throws(() => expandWord("${NOPE:?must be set}", lookup), /NOPE: must be set/);
  assert.equal(expandWord("'$A' \"$A\" \\$A", lookup), "$A a $A");
  assert.equal(expandWord('"a\\"b\\n"', lookup), 'a"b\\n');
  assert.equal(expandWord("$", lookup), "$");
  assert.equal(expandWord("${P#/usr}|${P##*/}|${P%/*}", lookup), "/local/bin|bin|/usr/local");
  assert.equal(expandWord("`$A", lookup, "`"), "$A");
  assert.deepEqual(expandWords('a "b c" $SP d\\ e', lookup), ["a", "b c", "x y", "d e"]);
  assert.deepEqual(splitWords("  x  'y z'  "), ["x", "'y z'"]);
});
