import assert from "node:assert/strict";
import { test } from "node:test";
import { formatCidr, formatIp, macFor, nextFree, overlaps, parseCidr, parseIp, pickSubnet } from "./ipam.ts";

test("parse and format addresses and subnets", () => {
  assert.equal(formatIp(parseIp("10.1.2.3") as number), "10.1.2.3");
  assert.equal(parseIp("10.1.2.300"), undefined);
  const c = parseCidr("172.18.5.9/16");
  assert.ok(c);
  assert.equal(formatCidr(c), "172.18.0.0/16");
  assert.equal(formatIp(c.address), "172.18.5.9");
});

test("overlap and pool choice skip host routes and taken subnets", () => {
  const a = parseCidr("172.17.0.0/16");
  const b = parseCidr("172.17.3.0/24");
  assert.ok(a && b && overlaps(a, b));
  const taken = [a, parseCidr("172.18.0.0/16")].filter((x) => x !== undefined);
  assert.equal(formatCidr(pickSubnet(taken) as never), "172.19.0.0/16");
});

test("next free address skips network, broadcast, used ones, and wraps after the last one given", () => {
  const subnet = parseCidr("10.0.0.0/29") as never;
  const used = new Set([parseIp("10.0.0.1") as number]);
  assert.equal(formatIp(nextFree({ subnet, used }) as number), "10.0.0.2");
  assert.equal(formatIp(nextFree({ subnet, used, from: parseIp("10.0.0.5") }) as number), "10.0.0.6");
  assert.equal(formatIp(nextFree({ subnet, used, from: parseIp("10.0.0.6") }) as number), "10.0.0.2");
  const range = parseCidr("10.0.0.4/30") as never;
  assert.equal(formatIp(nextFree({ subnet, range, used }) as number), "10.0.0.4");
  const full = new Set([1, 2, 3, 4, 5, 6].map((i) => parseIp(`10.0.0.${i}`) as number));
  assert.equal(nextFree({ subnet, used: full }), undefined);
});

test("Docker's MAC from the address", () => {
  assert.equal(macFor(parseIp("172.17.0.2") as number), "02:42:ac:11:00:02");
});
