// biome-ignore-all lint/suspicious/noTemplateCurlyInString: these strings are Compose templates, not JS ones
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { LoadError } from "./errors.ts";
import { InterpolationError, interpolateTree, substitute } from "./interpolate.ts";

const env: Record<string, string> = { SET: "value", EMPTY: "", NUM: "8080", NESTED: "inner" };
const sub = (s: string, warnings: string[] = []) =>
  substitute(s, { lookup: (k) => env[k], onWarning: (m) => warnings.push(m) });

describe("substitute", () => {
  it("replaces $VAR and ${VAR}", () => {
    assert.equal(sub("a $SET b ${SET} c"), "a value b value c");
    assert.equal(sub("${NUM}:80"), "8080:80");
    assert.equal(sub("$SET.x"), "value.x");
    assert.equal(sub("no variables"), "no variables");
  });

  it("uses defaults with :- for unset or empty and - for unset only", () => {
    assert.equal(sub("${UNSET:-d}"), "d");
    assert.equal(sub("${EMPTY:-d}"), "d");
    assert.equal(sub("${SET:-d}"), "value");
    assert.equal(sub("${UNSET-d}"), "d");
    assert.equal(sub("${EMPTY-d}"), "");
    assert.equal(sub("${UNSET:-}"), "");
    assert.equal(sub("${UNSET:-with spaces and :colons}"), "with spaces and :colons");
  });

  it("uses alternatives with :+ and +", () => {
    assert.equal(sub("${SET:+alt}"), "alt");
    assert.equal(sub("${EMPTY:+alt}"), "");
    assert.equal(sub("${EMPTY+alt}"), "alt");
    assert.equal(sub("${UNSET+alt}"), "");
    assert.equal(sub("${UNSET:+alt}"), "");
  });

  it("nests defaults and alternatives", () => {
    assert.equal(sub("${UNSET:-${NESTED}}"), "inner");
    assert.equal(sub("${UNSET:-${ALSO_UNSET:-deep}}"), "deep");
    assert.equal(sub("${UNSET:-$NESTED}"), "inner");
    assert.equal(sub("${SET:+${NESTED}-x}"), "inner-x");
    assert.equal(sub("pre-${UNSET:-${EMPTY:-a}b}-post"), "pre-ab-post");
  });

  it("fails on required variables with their message", () => {
    assert.throws(
      () => sub("${UNSET:?must be set}"),
      /required variable UNSET is missing a value: must be set/,
    );
    assert.throws(() => sub("${EMPTY:?e}"), /required variable EMPTY is missing a value: e/);
    assert.equal(sub("${EMPTY?e}"), "");
    assert.throws(
      () => sub("${UNSET?}"),
      (e: Error) => e.message === "required variable UNSET is missing a value",
    );
    assert.throws(() => sub("${UNSET?$NESTED here}"), /missing a value: inner here/);
    assert.equal(sub("${SET:?e}"), "value");
    // An unused required branch does not fire.
    assert.equal(sub("${SET:-${UNSET:?boom}}"), "value");
  });

  it("turns $$ into a literal $ and does not interpolate after it", () => {
    assert.equal(sub("$$SET"), "$SET");
    assert.equal(sub("$${SET}"), "${SET}");
    assert.equal(sub("a$$$SET"), "a$value");
    assert.equal(sub("${UNSET:-$$}"), "$");
  });

  it("warns once per use of an unset variable and substitutes an empty string", () => {
    const w: string[] = [];
    assert.equal(sub("[$UNSET][${UNSET}]", w), "[][]");
    assert.deepEqual(w, [
      'The "UNSET" variable is not set. Defaulting to a blank string.',
      'The "UNSET" variable is not set. Defaulting to a blank string.',
    ]);
    const w2: string[] = [];
    sub("${UNSET:-x}", w2);
    assert.deepEqual(w2, []);
  });

  it("rejects malformed templates", () => {
    for (const bad of ["${", "${SET", "${}", "${ SET}", "cost $5", "end $", "${SET:x}", "${1A}"]) {
      assert.throws(() => sub(bad), InterpolationError, bad);
    }
  });
});

describe("interpolateTree", () => {
  it("interpolates values, never keys, and names the path on errors", () => {
    const out = interpolateTree(
      { services: { web: { image: "x:${NUM}", labels: { $SET: "$SET" }, command: ["a", "$SET"] } } },
      { lookup: (k) => env[k] },
    );
    assert.deepEqual(out, {
      services: { web: { image: "x:8080", labels: { $SET: "value" }, command: ["a", "value"] } },
    });
    assert.throws(
      () =>
        interpolateTree({ services: { web: { ports: ["${X:?port needed}"] } } }, { lookup: () => undefined }),
      (e: Error) =>
        e instanceof LoadError &&
        e.message ===
          "error while interpolating services.web.ports[0]: required variable X is missing a value: port needed",
    );
    assert.throws(
      () => interpolateTree({ services: { web: { image: "${" } } }, { lookup: () => undefined }),
      /invalid interpolation format for services\.web\.image: "\$\{"/,
    );
  });

  it("leaves non-strings alone", () => {
    assert.deepEqual(interpolateTree({ a: 1, b: true, c: null }, { lookup: () => undefined }), {
      a: 1,
      b: true,
      c: null,
    });
  });
});
