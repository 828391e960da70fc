import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { FakeHost } from "../host/index.ts";
import { cgroupFeatures, cgroupPids, freezerState, setFreezer, writeCgroupLimits } from "./cgroups.ts";

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

  it("writes new limits into the cgroup files (runsc's update), only those given", async () => {
    const fake = new FakeHost();
    await writeCgroupLimits(
      "/wharf/c1",
      {
        memory: { limit: 64 << 20, swap: 128 << 20 },
        cpu: { period: 100000, quota: 50000 },
        pids: { limit: -1 },
      },
      { files: fake.files },
    );
    const at = (f: string) => fake.fileData.get(`/sys/fs/cgroup/${f}`);
    assert.equal(at("memory/wharf/c1/memory.limit_in_bytes"), String(64 << 20));
    assert.equal(at("memory/wharf/c1/memory.memsw.limit_in_bytes"), String(128 << 20));
    assert.equal(at("cpu/wharf/c1/cpu.cfs_quota_us"), "50000");
    assert.equal(at("cpu/wharf/c1/cpu.cfs_period_us"), "100000");
    assert.equal(at("pids/wharf/c1/pids.max"), "max");
    assert.equal(at("cpu/wharf/c1/cpu.shares"), undefined);
  });
});
