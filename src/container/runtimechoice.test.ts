import assert from "node:assert/strict";
import { test } from "node:test";
import { chooseRuntime } from "./runtimechoice.ts";

const choice = { names: ["runc", "runsc"], defaultName: "runc", sandbox: "runsc" };

test("runtime and isolation pick the runtime; unknown ones get dockerd's texts", () => {
  assert.equal(chooseRuntime({}, choice), "runc");
  assert.equal(chooseRuntime({ Runtime: "runsc" }, choice), "runsc");
  assert.equal(chooseRuntime({ Isolation: "default" }, choice), "runc");
  assert.equal(chooseRuntime({ Isolation: "hyperv" }, choice), "runsc");
  assert.equal(chooseRuntime({ Isolation: "sandbox", Runtime: "runsc" }, choice), "runsc");
  assert.equal(chooseRuntime({ Isolation: "process" }, { ...choice, defaultName: "runsc" }), "runc");
  assert.equal(chooseRuntime({ Isolation: "" }, { ...choice, defaultName: "runsc" }), "runsc");
  assert.throws(() => chooseRuntime({ Runtime: "foo" }, choice), /unknown or invalid runtime name: foo$/);
  assert.throws(
    () => chooseRuntime({ Isolation: "foo" as "" }, choice),
    /Invalid isolation: "foo" - linux only supports/,
  );
  assert.throws(
    () => chooseRuntime({ Isolation: "hyperv", Runtime: "runc" }, choice),
    /Invalid isolation: "hyperv"/,
  );
  assert.throws(
    () => chooseRuntime({ Isolation: "hyperv" }, { names: ["runc"], defaultName: "runc" }),
    /no sandboxed runtime is configured/,
  );
});
