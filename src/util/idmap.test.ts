import assert from "node:assert/strict";
import { test } from "node:test";
import { IdMap } from "./idmap.ts";

test("id maps stack subordinate ranges from container id 0, in file order, as dockerd's idtools", () => {
  const m = IdMap.fromSubids(
    [
      { start: 165536, count: 65536 },
      { start: 300000, count: 10 },
    ],
    [{ start: 200000, count: 65536 }],
  );
  assert.deepEqual(m.uids, [
    { containerID: 0, hostID: 165536, size: 65536 },
    { containerID: 65536, hostID: 300000, size: 10 },
  ]);
  assert.deepEqual(m.root, { uid: 165536, gid: 200000 });
  assert.deepEqual(m.toHost({ uid: 65537, gid: 5 }), { uid: 300001, gid: 200005 });
  assert.deepEqual(m.toContainer({ uid: 300001, gid: 200005 }), { uid: 65537, gid: 5 });
  // The kernel's overflow id for host ids outside the map, as a process inside sees them.
  assert.deepEqual(m.toContainer({ uid: 0, gid: 0 }), { uid: 65534, gid: 65534 });
  assert.throws(() => m.toHost({ uid: 70000, gid: 0 }), /Container ID 70000 cannot be mapped to a host ID/);
  assert.equal(m.holdsHost({ uid: 165536, gid: 200000 }), true);
  assert.equal(m.holdsHost({ uid: 0, gid: 200000 }), false);
  assert.throws(() => new IdMap([], []));
});
