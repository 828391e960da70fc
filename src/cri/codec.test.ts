import assert from "node:assert/strict";
import { test } from "node:test";
import { decode, encode, messageType, methodNames, serviceDefinition } from "./codec.ts";

test("fields go on the wire under cri-api's numbers", () => {
  // VersionRequest.version = 1, length-delimited.
  assert.equal(encode(messageType("VersionRequest"), { version: "v1" }).toString("hex"), "0a027631");
  // ContainerConfig.log_path = 11 (tag 0x5a), tty = 14 (tag 0x70).
  assert.equal(
    encode(messageType("ContainerConfig"), { logPath: "a", tty: true }).toString("hex"),
    "5a016170" + "01",
  );
  // ImageSpec.user_specified_image = 18: a two-byte tag (0x92 0x01).
  assert.equal(encode(messageType("ImageSpec"), { userSpecifiedImage: "x" }).toString("hex"), "92010178");
  // LinuxContainerSecurityContext.run_as_group = 12 holds an Int64Value.
  assert.equal(
    encode(messageType("LinuxContainerSecurityContext"), { runAsGroup: { value: 7 } }).toString("hex"),
    "62020807",
  );
});

test("nanosecond timestamps past 2^53 survive as decimal strings", () => {
  const ns = "1796306725004217901";
  const t = messageType("PodSandbox");
  const bytes = encode(t, { id: "x", createdAt: ns });
  const back = t.decode(bytes).toJSON() as { createdAt: string };
  assert.equal(back.createdAt, ns);
});

test("decoding fills defaults, keeps absent messages null, and skips unknown fields", () => {
  const t = messageType("PodSandboxConfig");
  // field 9 (windows, not declared here) followed by hostname (2).
  const bytes = Buffer.from([0x4a, 0x02, 0x0a, 0x00, 0x12, 0x01, 0x68]);
  const v = decode<Record<string, unknown>>(t, bytes);
  assert.equal(v.hostname, "h");
  assert.equal(v.metadata, null);
  assert.deepEqual(v.portMappings, []);
  assert.deepEqual(v.labels, {});
  assert.equal(v.logDirectory, "");
});

test("maps and enums round-trip", () => {
  const t = messageType("ContainerFilter");
  const v = decode<{ state: { state: number }; labelSelector: Record<string, string> }>(
    t,
    encode(t, { state: { state: 2 }, labelSelector: { a: "b", c: "d" } }),
  );
  assert.equal(v.state.state, 2);
  assert.deepEqual(v.labelSelector, { a: "b", c: "d" });
});

test("service definitions carry the runtime.v1 paths", () => {
  const rt = serviceDefinition("RuntimeService");
  assert.equal(rt.RunPodSandbox?.path, "/runtime.v1.RuntimeService/RunPodSandbox");
  assert.equal(serviceDefinition("ImageService").PullImage?.path, "/runtime.v1.ImageService/PullImage");
  assert.ok(methodNames("RuntimeService").includes("ListPodSandboxStats"));
  const def = rt.ExecSync;
  assert.ok(def);
  const res = def.responseDeserialize(def.responseSerialize({ stdout: Buffer.from("hi"), exitCode: 3 })) as {
    stdout: Buffer;
    exitCode: number;
    stderr: Buffer;
  };
  assert.equal(Buffer.from(res.stdout).toString(), "hi");
  assert.equal(res.exitCode, 3);
});
