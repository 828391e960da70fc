import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { isErrno } from "../errdefs/index.ts";
import { FakeHost } from "./index.ts";

describe("FakeHost", () => {
  it("keeps mounts and namespaces like the kernel: a second unmount fails with EINVAL", async () => {
    const h = new FakeHost();
    await h.mounts.mount({ source: "overlay", target: "/m", fstype: "overlay", data: "lowerdir=/l" });
    assert.equal(h.mounted.get("/m")?.data, "lowerdir=/l");
    await h.mounts.unmount("/m");
    await assert.rejects(h.mounts.unmount("/m"), (e) => isErrno(e, "EINVAL"));
    await h.netns.createNetns("/ns/a");
    await assert.rejects(h.netns.createNetns("/ns/a"), (e) => isErrno(e, "EBUSY"));
    await assert.rejects(h.netlink.open("/ns/b"), (e) => isErrno(e, "ENOENT"));
    assert.deepEqual(h.log("netns"), ["create /ns/a", "create /ns/a"]);
  });

  it("runs registered programs, fails others as ENOENT, and drives spawned children", async () => {
    const h = new FakeHost();
    h.programs.set("echo", (args) => `${args.join(" ")}\n`);
    assert.equal(await h.processes.run("/bin/echo", ["a", "b"]), "a b\n");
    await assert.rejects(h.processes.run("nope", []), (e) => isErrno((e as Error).cause, "ENOENT"));
    const c = h.processes.spawn("conmon", ["-c", "x"], { stdio: ["ignore", "ignore", "pipe", "pipe"] });
    const got = new Promise<string>((resolve) =>
      (c.stdio[3] as NodeJS.ReadableStream).once("data", (d) => resolve(String(d))),
    );
    h.children[0]?.out[3]?.write('{"data":42}\n');
    assert.equal(await got, '{"data":42}\n');
    assert.throws(
      () => h.processes.kill(123, 9),
      (e) => isErrno(e, "ESRCH"),
    );
  });

  it("serves kernel files from a map", async () => {
    const h = new FakeHost();
    h.fileData.set("/sys/fs/cgroup/memory/x/memory.usage_in_bytes", "10\n");
    assert.equal(await h.files.read("/sys/fs/cgroup/memory/x/memory.usage_in_bytes"), "10\n");
    assert.deepEqual(await h.files.readdir("/sys/fs/cgroup"), ["memory"]);
    assert.equal(h.files.exists("/sys/fs/cgroup/memory/x"), true);
    await h.files.rmdir("/sys/fs/cgroup/memory/x");
    assert.equal(h.files.exists("/sys/fs/cgroup/memory/x"), false);
  });
});
