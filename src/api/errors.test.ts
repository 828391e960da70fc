import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ConflictError, NotFoundError, NotModifiedError } from "../errdefs/index.ts";
import { statusFor } from "./errors.ts";

describe("statusFor", () => {
  it("maps typed errors by kind and anything else to 500", () => {
    assert.equal(statusFor(new NotFoundError("No such container: x")), 404);
    assert.equal(statusFor(new NotModifiedError("already started")), 304);
    assert.equal(statusFor(new Error("boom")), 500);
    assert.equal(statusFor("not an error"), 500);
  });

  it("follows the cause chain to the first typed error", () => {
    const inner = new ConflictError("name in use");
    assert.equal(
      statusFor(new Error("create failed", { cause: new Error("reserve", { cause: inner }) })),
      409,
    );
    assert.equal(statusFor(new NotFoundError("outer", { cause: inner })), 404);
  });

  it("stops on a cause cycle", () => {
    const a = new Error("a");
    const b = new Error("b", { cause: a });
    a.cause = b;
    assert.equal(statusFor(a), 500);
  });
});
