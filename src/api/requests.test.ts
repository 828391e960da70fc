import assert from "node:assert/strict";
import { test } from "node:test";
import { containerCreateShape, containerUpdateShape, execCreateShape } from "./requests.ts";
import { validateBody } from "./validate.ts";

const create = (body: unknown) => () => validateBody(containerCreateShape, body, "CreateRequest");

test("wrong JSON types fail with Go's encoding/json message", () => {
  assert.throws(
    create({ Image: "x", HostConfig: { Privileged: "yes" } }),
    /^InvalidParameterError: json: cannot unmarshal string into Go struct field HostConfig\.HostConfig\.Privileged of type bool$/,
  );
  assert.throws(
    create({ Tty: 1 }),
    /cannot unmarshal number into Go struct field CreateRequest\.Tty of type bool/,
  );
  // dockerd's StrSlice takes one string; anything else fails as its fallback decode into string does.
  assert.doesNotThrow(create({ Cmd: "ls" }));
  assert.throws(
    create({ Cmd: { a: 1 } }),
    /cannot unmarshal object into Go struct field CreateRequest\.Cmd of type string/,
  );
  assert.throws(
    create({ Env: [1] }),
    /cannot unmarshal number into Go struct field CreateRequest\.Env of type string/,
  );
  assert.throws(
    create({ HostConfig: { Memory: 1.5 } }),
    /cannot unmarshal number 1\.5 into Go struct field HostConfig\.HostConfig\.Memory of type int64/,
  );
  assert.throws(
    create({ HostConfig: { BlkioWeight: -5 } }),
    /number -5 into Go struct field HostConfig\.HostConfig\.BlkioWeight of type uint16/,
  );
  assert.throws(create([]), /cannot unmarshal array into Go value of type container\.CreateRequest/);
  // Keys match case-insensitively and null means "not given", as encoding/json has it.
  assert.throws(create({ hostconfig: { privileged: "no" } }), /HostConfig\.HostConfig\.Privileged/);
  create({ Image: "x", Cmd: null, HostConfig: null, Unknown: { a: 1 } })();
});

test("resource ranges, restart policies, ports and mounts answer with Docker's texts", () => {
  const hc = (HostConfig: unknown) => create({ Image: "x", HostConfig });
  assert.throws(hc({ Memory: -5 }), /Minimum memory limit allowed is 6MB/);
  assert.throws(hc({ BlkioWeight: 5000 }), /Range of blkio weight is from 10 to 1000/);
  assert.throws(hc({ OomScoreAdj: 1001 }), /Invalid value 1001, range for oom score adj is \[-1000, 1000\]/);
  assert.throws(hc({ ShmSize: -1 }), /SHM size can not be less than 0/);
  assert.throws(
    hc({ RestartPolicy: { Name: "sometimes" } }),
    /invalid restart policy: unknown policy 'sometimes'; use one of 'no', 'always', 'on-failure', or 'unless-stopped'/,
  );
  assert.throws(
    hc({ RestartPolicy: { Name: "always", MaximumRetryCount: 2 } }),
    /can only be used with 'on-failure'/,
  );
  assert.throws(hc({ RestartPolicy: { Name: "on-failure", MaximumRetryCount: -1 } }), /cannot be negative/);
  assert.throws(hc({ PortBindings: { "abc/tcp": [] } }), /invalid port specification: "abc"/);
  assert.throws(
    hc({ PortBindings: { "80/tcp": [{ HostPort: "99999" }] } }),
    /invalid port specification: "99999"/,
  );
  assert.throws(create({ ExposedPorts: { "70000/tcp": {} } }), /invalid port specification: "70000"/);
  assert.throws(
    hc({ Mounts: [{ Type: "bind", Target: "/x" }] }),
    /invalid mount config for type "bind": field Source must not be empty/,
  );
  assert.throws(
    hc({ Mounts: [{ Type: "foo", Target: "/x" }] }),
    /invalid mount config for type "foo": mount type unknown/,
  );
  assert.throws(hc({ Mounts: [{ Type: "volume", Target: "rel" }] }), /mount path must be absolute/);
  hc({
    Memory: 0,
    MemorySwap: -1,
    PidsLimit: -1,
    PortBindings: { "80/tcp": [{ HostPort: "" }], "8000-8010/udp": null },
  })();
  hc({
    RestartPolicy: { Name: "on-failure", MaximumRetryCount: 3 },
    Mounts: [{ Type: "tmpfs", Target: "/t" }],
  })();
});

test("update and exec bodies are checked the same way", () => {
  assert.throws(
    () => validateBody(containerUpdateShape, { RestartPolicy: { Name: "bogus" } }, "UpdateConfig"),
    /unknown policy 'bogus'/,
  );
  assert.throws(
    () => validateBody(containerUpdateShape, { Memory: "1g" }, "UpdateConfig"),
    /UpdateConfig\.Memory of type int64/,
  );
  assert.throws(
    () => validateBody(execCreateShape, { Cmd: "sh" }, "ExecOptions"),
    /ExecOptions\.Cmd of type \[\]string/,
  );
});

test("keys in another case fill the field, as Go's encoding/json does (docker-py's CPURealtimePeriod)", () => {
  const body: Record<string, unknown> = {
    Image: "busybox",
    HostConfig: { CPURealtimePeriod: 1000, cpurealtimeruntime: 500, CpuShares: 1, cpushares: 2 },
  };
  validateBody(containerCreateShape, body, "Config");
  assert.deepEqual(body.HostConfig, {
    CpuRealtimePeriod: 1000,
    CpuRealtimeRuntime: 500,
    CpuShares: 1,
    cpushares: 2,
  });
});
