import assert from "node:assert/strict";
import { test } from "node:test";
import { isInvalidParameter } from "../errdefs/index.ts";
import {
  familiarMatch,
  familiarName,
  familiarString,
  fullString,
  parseAny,
  parseNamed,
  withDefaultTag,
  withTag,
} from "./reference.ts";

test("names normalise as Docker's", () => {
  const cases: [string, string, string][] = [
    ["busybox", "docker.io/library/busybox:latest", "busybox:latest"],
    ["busybox:1.36", "docker.io/library/busybox:1.36", "busybox:1.36"],
    ["library/busybox", "docker.io/library/busybox:latest", "busybox:latest"],
    ["docker.io/library/busybox", "docker.io/library/busybox:latest", "busybox:latest"],
    ["index.docker.io/library/busybox", "docker.io/library/busybox:latest", "busybox:latest"],
    ["user/app:v1", "docker.io/user/app:v1", "user/app:v1"],
    ["localhost/app", "localhost/app:latest", "localhost/app:latest"],
    ["localhost:5000/a/b:t", "localhost:5000/a/b:t", "localhost:5000/a/b:t"],
    ["ghcr.io/org/x/y", "ghcr.io/org/x/y:latest", "ghcr.io/org/x/y:latest"],
    ["[::1]:5000/app:t", "[::1]:5000/app:t", "[::1]:5000/app:t"],
    ["my_app-name.v2", "docker.io/library/my_app-name.v2:latest", "my_app-name.v2:latest"],
  ];
  for (const [input, full, familiar] of cases) {
    const ref = withDefaultTag(parseNamed(input));
    assert.equal(fullString(ref), full, input);
    assert.equal(familiarString(ref), familiar, input);
  }
  const d = `sha256:${"a".repeat(64)}`;
  const withDigest = parseNamed(`busybox@${d}`);
  assert.equal(withDigest.digest, d);
  assert.equal(withDigest.tag, undefined);
  assert.equal(familiarString(withDefaultTag(withDigest)), `busybox@${d}`);
  assert.equal(familiarName(parseNamed("docker.io/library/a/b")), "library/a/b");
});

test("bad references are InvalidParameter 'invalid reference format'", () => {
  for (const bad of [
    "Busybox",
    "busybox:",
    ":tag",
    "a//b",
    "-a",
    "a:b:c",
    "x/UPPER",
    "a@sha256:123",
    "",
    "a b",
  ]) {
    assert.throws(
      () => parseNamed(bad),
      (e) => isInvalidParameter(e) && /invalid reference format|digest|repository name/.test(e.message),
      bad,
    );
  }
  assert.throws(() => parseNamed("Busybox"), /repository name \(library\/Busybox\) must be lowercase/);
  assert.throws(() => parseNamed("a".repeat(64)), /cannot specify 64-byte hexadecimal strings/);
  // A registry host may have capitals; the path may not.
  assert.equal(parseNamed("Registry.Example.com/app").domain, "Registry.Example.com");
  assert.throws(() => withTag(parseNamed("a"), "-bad"), /invalid tag format/);
});

test("parseAny tells IDs from names", () => {
  const hex = "b".repeat(64);
  assert.deepEqual(parseAny(hex), { kind: "id", id: `sha256:${hex}` });
  assert.deepEqual(parseAny(`sha256:${hex}`), { kind: "id", id: `sha256:${hex}` });
  assert.equal(parseAny("bbbbbb").kind, "named");
});

test("familiarMatch uses Go path.Match globs on the familiar form", () => {
  const ref = withDefaultTag(parseNamed("busybox"));
  assert.ok(familiarMatch("busybox", ref));
  assert.ok(familiarMatch("busy*", ref));
  assert.ok(familiarMatch("*:latest", ref));
  assert.ok(familiarMatch("busybox:l?test", ref));
  assert.ok(!familiarMatch("docker.io/library/busybox", ref));
  const nested = withDefaultTag(parseNamed("localhost:5000/a/b:t"));
  assert.ok(!familiarMatch("*", nested), "* does not cross /");
  assert.ok(familiarMatch("localhost:5000/a/*", nested));
  assert.ok(familiarMatch("localhost:5000/[a-c]/b:t", nested));
});
