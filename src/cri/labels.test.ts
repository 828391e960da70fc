import assert from "node:assert/strict";
import { test } from "node:test";
import { podIp } from "./cni.ts";
import { imageUser } from "./images.ts";
import { containerName, fromWharfLabels, sandboxName, selects, TYPE_LABEL, toWharfLabels } from "./labels.ts";
import { clampOomScoreAdj, seccompOpt, userOf } from "./security.ts";

test("names follow cri-dockerd's k8s_ scheme", () => {
  const pod = { name: "web", uid: "u1", namespace: "ns", attempt: 2 };
  assert.equal(sandboxName(pod), "k8s_POD_web_ns_u1_2");
  assert.equal(containerName({ name: "app", attempt: 1 }, pod), "k8s_app_web_ns_u1_1");
});

test("labels and annotations round-trip through wharf labels without the internal keys", () => {
  const all = toWharfLabels({ a: "1" }, { note: "x" }, { [TYPE_LABEL]: "container" });
  assert.deepEqual(all, { "annotation.note": "x", a: "1", [TYPE_LABEL]: "container" });
  assert.deepEqual(fromWharfLabels(all), { labels: { a: "1" }, annotations: { note: "x" } });
  assert.ok(selects({ a: "1" }, { a: "1", b: "2" }));
  assert.ok(!selects({ a: "2" }, { a: "1" }));
  assert.ok(selects(null, {}));
});

test("security context helpers", async () => {
  assert.equal(userOf({ runAsUser: { value: 1000 }, runAsGroup: { value: 5 } }), "1000:5");
  assert.equal(userOf({ runAsUser: null, runAsUsername: "nobody", runAsGroup: null }), "nobody");
  assert.throws(() => userOf({ runAsUser: null, runAsGroup: { value: 5 } }), /specified without user/);
  assert.equal(clampOomScoreAdj(-998, -500), -500);
  assert.equal(clampOomScoreAdj(100, -500), 100);
  assert.equal(await seccompOpt(null, ""), "seccomp=unconfined");
  assert.equal(await seccompOpt({ profileType: 0, localhostRef: "" }, ""), undefined);
  assert.equal(await seccompOpt({ profileType: 1, localhostRef: "" }, ""), "seccomp=unconfined");
  assert.equal(await seccompOpt(null, "runtime/default"), undefined);
  await assert.rejects(seccompOpt({ profileType: 2, localhostRef: "rel" }, ""), /absolute path/);
});

test("image users and pod IPs", () => {
  assert.deepEqual(imageUser("1000:1000"), { uid: { value: 1000 }, username: "" });
  assert.deepEqual(imageUser("www"), { uid: null, username: "www" });
  assert.deepEqual(imageUser(""), { uid: null, username: "" });
  assert.equal(podIp({ ips: [{ address: "fd00::2/64" }, { address: "10.1.2.3/24" }] }), "10.1.2.3");
});
