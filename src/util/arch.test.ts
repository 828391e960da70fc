import assert from "node:assert/strict";
import { test } from "node:test";
import { normalizeArch, ociArch } from "./arch.ts";

test("Node's architecture names become OCI's", () => {
  assert.equal(ociArch("x64"), "amd64");
  assert.equal(ociArch("ia32"), "386");
  assert.equal(ociArch("arm64"), "arm64");
  assert.equal(ociArch("arm"), "arm");
  assert.equal(ociArch("ppc64"), "ppc64le");
  assert.equal(ociArch("s390x"), "s390x");
  assert.equal(ociArch(), ociArch(process.arch));
});

test("what users type for an architecture becomes OCI's name", () => {
  assert.equal(normalizeArch("x86_64"), "amd64");
  assert.equal(normalizeArch("x64"), "amd64");
  assert.equal(normalizeArch("aarch64"), "arm64");
  assert.equal(normalizeArch("ia32"), "386");
  assert.equal(normalizeArch("arm"), "arm");
  assert.equal(normalizeArch("ppc64"), "ppc64");
});
