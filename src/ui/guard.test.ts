import assert from "node:assert/strict";
import { test } from "node:test";
import { check, type GuardConfig, hostAllowed, isLoopback, originAllowed, splitHostPort } from "./guard.ts";

const cfg: GuardConfig = { token: "secret-token", port: 9090, names: ["127.0.0.1"], tls: false };
const url = (q = "") => new URL(`http://x/${q}`);

test("loopback names and addresses", () => {
  for (const h of ["localhost", "127.0.0.1", "127.1.2.3", "::1", "[::1]", "app.localhost"])
    assert.ok(isLoopback(h), h);
  for (const h of ["0.0.0.0", "10.0.0.1", "example.com", "::"]) assert.ok(!isLoopback(h), h);
});

test("host:port splitting", () => {
  assert.deepEqual(splitHostPort("127.0.0.1:9090"), { host: "127.0.0.1", port: 9090 });
  assert.deepEqual(splitHostPort("[::1]:80"), { host: "::1", port: 80 });
  assert.deepEqual(splitHostPort("localhost"), { host: "localhost" });
});

test("Host must be loopback, an IP literal or a configured name, on our port", () => {
  assert.ok(hostAllowed("127.0.0.1:9090", cfg));
  assert.ok(hostAllowed("localhost:9090", cfg));
  assert.ok(hostAllowed("192.168.1.5:9090", cfg));
  assert.ok(!hostAllowed("evil.example:9090", cfg), "a rebound DNS name");
  assert.ok(!hostAllowed("127.0.0.1:9091", cfg));
  assert.ok(!hostAllowed(undefined, cfg));
});

test("Origin must be the dashboard's own", () => {
  assert.ok(originAllowed("http://127.0.0.1:9090", "127.0.0.1:9090", cfg));
  assert.ok(!originAllowed("http://evil.example", "127.0.0.1:9090", cfg));
  assert.ok(!originAllowed("https://127.0.0.1:9090", "127.0.0.1:9090", cfg));
  assert.ok(!originAllowed("null", "127.0.0.1:9090", cfg));
});

test("the token comes by query, cookie or bearer; else 401", () => {
  const h = { host: "127.0.0.1:9090" };
  assert.deepEqual(check(url("?token=secret-token"), h, cfg), { ok: true, viaQuery: true });
  assert.deepEqual(check(url(), { ...h, cookie: "a=b; wharf_ui_token=secret-token" }, cfg), {
    ok: true,
    viaQuery: false,
  });
  assert.deepEqual(check(url(), { ...h, authorization: "Bearer secret-token" }, cfg), {
    ok: true,
    viaQuery: false,
  });
  const no = check(url("?token=wrong"), h, cfg);
  assert.equal(no.ok, false);
  assert.equal(!no.ok && no.status, 401);
});

test("a foreign Origin or cross-site fetch is refused even with the token", () => {
  const h = { host: "127.0.0.1:9090", cookie: "wharf_ui_token=secret-token" };
  const a = check(url(), { ...h, origin: "http://evil.example" }, cfg);
  assert.equal(!a.ok && a.status, 403);
  const b = check(url(), { ...h, "sec-fetch-site": "cross-site" }, cfg);
  assert.equal(!b.ok && b.status, 403);
  const c = check(url(), { ...h, host: "evil.example:9090" }, cfg);
  assert.equal(!c.ok && c.status, 403);
});
