import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { DetachWatcher, parseDetachKeys, startErrorCode } from "./attach.ts";

describe("detach keys", () => {
  it("parses docker's key syntax", () => {
    assert.deepEqual(parseDetachKeys("ctrl-p,ctrl-q"), [16, 17]);
    assert.deepEqual(parseDetachKeys("a,ctrl-@,ctrl-["), [97, 0, 27]);
    assert.throws(() => parseDetachKeys("ctrl-pp"), /Unknown character/);
  });
  it("holds back a partial sequence and forwards it when broken", () => {
    const w = new DetachWatcher([16, 17]);
    assert.deepEqual(w.feed(Buffer.from([1, 16])), { forward: Buffer.from([1]), detach: false });
    assert.deepEqual(w.feed(Buffer.from([2])), { forward: Buffer.from([16, 2]), detach: false });
    assert.deepEqual(w.feed(Buffer.from([16])), { forward: Buffer.alloc(0), detach: false });
    assert.equal(w.feed(Buffer.from([17])).detach, true);
  });
});

describe("start error codes", () => {
  it("follows docker's 126/127 rules", () => {
    assert.equal(startErrorCode('exec: "nope": executable file not found in $PATH'), 127);
    assert.equal(startErrorCode("open /x: no such file or directory"), 127);
    assert.equal(startErrorCode("exec /etc: permission denied"), 126);
    assert.equal(startErrorCode("something else"), 125);
  });
});
