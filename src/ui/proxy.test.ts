import assert from "node:assert/strict";
import { test } from "node:test";
import { allowed } from "./proxy.ts";

test("the proxy forwards what the pages use and nothing else", () => {
  assert.ok(allowed("GET", "/containers/json"));
  assert.ok(allowed("POST", "/containers/abc/stop"));
  assert.ok(allowed("DELETE", "/images/127.0.0.1:5000/ns/img:1"));
  assert.ok(allowed("GET", "/images/127.0.0.1:5000/ns/img:1/history"));
  assert.ok(allowed("GET", "/events"));
  assert.ok(!allowed("POST", "/containers/abc/exec"), "exec only through the terminal");
  assert.ok(!allowed("PUT", "/containers/abc/archive"));
  assert.ok(!allowed("POST", "/build"));
  assert.ok(!allowed("GET", "/containers/abc/export"));
  assert.ok(!allowed("POST", "/images/x/push"));
});
