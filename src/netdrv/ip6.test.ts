import assert from "node:assert/strict";
import { test } from "node:test";
import {
  contains6,
  formatCidr6,
  formatIp6,
  macAddress6,
  nextFree6,
  overlaps6,
  parseCidr6,
  parseIp6,
} from "./ip6.ts";

test("IPv6 text round-trips in Go's canonical form", () => {
  for (const [given, canonical] of [
    ["fd00::1", "fd00::1"],
    ["FD00:0:0:0:0:0:0:1", "fd00::1"],
    ["::", "::"],
    ["::1", "::1"],
    ["fd5a:1b2c:3d4e:0:0:242:ab1:2902", "fd5a:1b2c:3d4e::242:ab1:2902"],
    ["1:0:0:2:0:0:0:3", "1:0:0:2::3"],
    ["1:0:2:0:3:0:4:0", "1:0:2:0:3:0:4:0"],
    ["::ffff:a01:203", "::ffff:a01:203"],
  ]) {
    const v = parseIp6(given);
    assert.notEqual(v, undefined, given);
    assert.equal(formatIp6(v as bigint), canonical, given);
  }
  assert.equal(
    parseIp6("::ffff:10.1.2.3"),
    parseIp6("::ffff:a01:203"),
    "an IPv4 tail reads as its two groups",
  );
  for (const bad of [
    "fd00",
    "1.2.3.4",
    "fd00:::1",
    "1:2:3:4:5:6:7:8:9",
    "fd5a:zz::",
    "1::2::3",
    "fe80::1%eth0",
  ])
    assert.equal(parseIp6(bad), undefined, bad);
});

test("subnets: containment, overlap, the next free address after the last one, MAC-built addresses", () => {
  const s = parseCidr6("fd5a:1b2c:3d4f::/64");
  assert.ok(s);
  assert.equal(formatCidr6(s), "fd5a:1b2c:3d4f::/64");
  assert.ok(contains6(s, parseIp6("fd5a:1b2c:3d4f::99") as bigint));
  assert.ok(!contains6(s, parseIp6("fd5a:1b2c:3d50::1") as bigint));
  assert.ok(
    overlaps6(s, parseCidr6("fd5a:1b2c:3d4f:0:1::/80") as NonNullable<ReturnType<typeof parseCidr6>>),
  );
  assert.ok(!overlaps6(s, parseCidr6("fd5a:1b2c:3d50::/64") as NonNullable<ReturnType<typeof parseCidr6>>));
  assert.equal(parseCidr6("fd00::/129"), undefined);
  const used = new Set([s.base + 1n, s.base + 2n]);
  assert.equal(formatIp6(nextFree6({ subnet: s, used }) as bigint), "fd5a:1b2c:3d4f::3");
  assert.equal(formatIp6(nextFree6({ subnet: s, used, from: s.base + 7n }) as bigint), "fd5a:1b2c:3d4f::8");
  const tiny = parseCidr6("fd00::/126") as NonNullable<ReturnType<typeof parseCidr6>>;
  const all = new Set([1n, 2n, 3n].map((i) => tiny.base + i));
  assert.equal(
    nextFree6({ subnet: tiny, used: all }),
    undefined,
    "the subnet's own address is never handed out",
  );
  assert.equal(
    formatIp6(
      macAddress6(
        parseCidr6("fd5a:1b2c:3d4e::/64") as NonNullable<ReturnType<typeof parseCidr6>>,
        "02:42:0a:b1:29:02",
      ),
    ),
    "fd5a:1b2c:3d4e::242:ab1:2902",
    "as dockerd built it for 02:42:0a:b1:29:02 on --fixed-cidr-v6 fd5a:1b2c:3d4e::/64",
  );
});
