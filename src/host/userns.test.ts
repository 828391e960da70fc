import assert from "node:assert/strict";
import { test } from "node:test";
import { parseSubids } from "./userns.ts";

test("subordinate ranges: by login or uid, in file order, malformed and empty lines skipped", () => {
  const text = "alice:100000:65536\nbob:165536:65536\n1000:300000:10\n# no\nalice:x:1\nalice:400000:0\n\n";
  assert.deepEqual(parseSubids(text, { name: "alice", id: 1000 }), [
    { start: 100000, count: 65536 },
    { start: 300000, count: 10 },
  ]);
  assert.deepEqual(parseSubids(text, { name: "carol", id: 1002 }), []);
});
