import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { FakeHost } from "../host/index.ts";
import { cgroupFeatures, cgroupPids, freezerState, setFreezer } from "./cgroups.ts";

describe("cgroups through host.files", () => {
  it("collects the pids of a cgroup and its sub-cgroups, ascending", async () => {
    const fake = new FakeHost();
    fake.fileData.set("/sys/fs/cgroup/pids/wharf/c1/cgroup.procs", "12\n7\n");
    fake.fileData.set("/sys/fs/cgroup/pids/wharf/c1/init.scope/cgroup.procs", "30\n");
    assert.deepEqual(await cgroupPids("/wharf/c1", { files: fake.files }), [7, 12, 30]);
    assert.equal(await cgroupPids("/wharf/gone", { files: fake.files }), undefined);
  });

  it("freezes through freezer.state and reads the state back", async () => {
    const fake = new FakeHost();
    const file = "/sys/fs/cgroup/freezer/wharf/c1/freezer.state";
    fake.fileData.set(file, "THAWED\n");
    await setFreezer("/wharf/c1", "FROZEN", { files: fake.files });
    assert.equal(await freezerState("/wharf/c1", { files: fake.files }), "FROZEN");
    assert.equal(await freezerState("/wharf/gone", { files: fake.files }), undefined);
  });

  it("probes the host's features from the root cgroup's files", () => {
    const fake = new FakeHost();
    fake.fileData.set("/sys/fs/cgroup/memory/memory.limit_in_bytes", "9223372036854771712\n");
    fake.fileData.set("/sys/fs/cgroup/pids/cgroup.procs", "1\n");
    const f = cgroupFeatures({ files: fake.files });
    assert.equal(f.memoryLimit, true);
    assert.equal(f.swapLimit, false);
    assert.equal(f.pidsLimit, true);
    assert.equal(f.freezer, false);
  });
});
