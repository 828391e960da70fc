import assert from "node:assert/strict";
import { mkdir, mkdtemp, rm, stat, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { isInvalidParameter } from "../errdefs/index.ts";
import { resolveInRoot } from "./rootpath.ts";
import { ensureWorkdir, resolveUser, resolveUserFromFiles } from "./user.ts";

const passwd = [
  "root:x:0:0:root:/root:/bin/sh",
  "# comment",
  "alice:x:1000:1000:Alice:/home/alice:/bin/sh",
  "bob:x:1001:100::/home/bob:/bin/sh",
].join("\n");
const group = [
  "root:x:0:",
  "wheel:x:10:root,alice",
  "users:x:100:",
  "alice:x:1000:",
  "staff:x:50:alice,bob",
].join("\n");

describe("resolveUserFromFiles", () => {
  it("defaults to root with its primary and supplementary groups", () => {
    assert.deepEqual(resolveUserFromFiles("", passwd, group), {
      uid: 0,
      gid: 0,
      additionalGids: [0, 10],
      home: "/root",
    });
  });

  it("resolves a name to its uid, primary gid and groups", () => {
    assert.deepEqual(resolveUserFromFiles("alice", passwd, group), {
      uid: 1000,
      gid: 1000,
      additionalGids: [1000, 10, 50],
      home: "/home/alice",
    });
  });

  it("treats a numeric user as a uid, known or not", () => {
    assert.equal(resolveUserFromFiles("1001", passwd, group).gid, 100);
    assert.deepEqual(resolveUserFromFiles("4242", passwd, group), {
      uid: 4242,
      gid: 0,
      additionalGids: [0],
      home: "/",
    });
  });

  it("takes an explicit group by name or number and then adds no groups from /etc/group", () => {
    assert.deepEqual(resolveUserFromFiles("alice:staff", passwd, group).gid, 50);
    assert.deepEqual(resolveUserFromFiles("alice:staff", passwd, group).additionalGids, [50]);
    assert.deepEqual(resolveUserFromFiles("1000:777", passwd, group), {
      uid: 1000,
      gid: 777,
      additionalGids: [777],
      home: "/home/alice",
    });
  });

  it("fails with Docker's messages for unknown names", () => {
    assert.throws(
      () => resolveUserFromFiles("nobody", passwd, group),
      (e: unknown) =>
        isInvalidParameter(e) &&
        e.message === "unable to find user nobody: no matching entries in passwd file",
    );
    assert.throws(
      () => resolveUserFromFiles("alice:nogroup", passwd, group),
      (e: unknown) =>
        isInvalidParameter(e) &&
        e.message === "unable to find group nogroup: no matching entries in group file",
    );
  });

  it("works without passwd and group files for numeric ids only", () => {
    assert.deepEqual(resolveUserFromFiles("5:6", undefined, undefined), {
      uid: 5,
      gid: 6,
      additionalGids: [6],
      home: "/",
    });
    assert.throws(() => resolveUserFromFiles("alice", undefined, undefined), isInvalidParameter);
  });

  it("appends --group-add groups by name or number", () => {
    assert.deepEqual(
      resolveUserFromFiles("bob", passwd, group, { groupAdd: ["wheel", "99", "staff"] }).additionalGids,
      [100, 50, 10, 99],
    );
    assert.throws(
      () => resolveUserFromFiles("bob", passwd, group, { groupAdd: ["nope"] }),
      isInvalidParameter,
    );
  });
});

describe("files inside the rootfs", () => {
  let dir: string;
  let root: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "wharf-user-"));
    root = join(dir, "rootfs");
    await mkdir(join(root, "etc"), { recursive: true });
    await writeFile(join(dir, "passwd"), "evil:x:0:0::/:/bin/sh\n");
    await writeFile(join(root, "etc/real-passwd"), passwd);
    await writeFile(join(root, "etc/group"), group);
  });
  after(() => rm(dir, { recursive: true, force: true }));

  it("follows symlinks only within the rootfs", async () => {
    await symlink("../../passwd", join(root, "etc/passwd"));
    // ../../passwd from /etc stays at /passwd inside the root, which does not exist.
    assert.equal(await resolveInRoot(root, "/etc/passwd"), join(root, "passwd"));
    await assert.rejects(resolveUser(root, "evil"), isInvalidParameter);
    await rm(join(root, "etc/passwd"));
    await symlink("/etc/real-passwd", join(root, "etc/passwd"));
    assert.equal((await resolveUser(root, "alice")).uid, 1000);
  });

  it("keeps .. and absolute links at the root", async () => {
    await symlink("/", join(root, "up"));
    assert.equal(await resolveInRoot(root, "/up/../../etc/group"), join(root, "etc/group"));
    assert.equal(await resolveInRoot(root, "/"), root);
  });

  it("creates a missing working directory owned by the user, inside the rootfs", async () => {
    await symlink("/srv", join(root, "outside"));
    await ensureWorkdir(root, "/outside/app/x", { uid: 1000, gid: 1000 });
    const st = await stat(join(root, "srv/app/x"));
    assert.ok(st.isDirectory());
    assert.equal(st.uid, 1000);
    assert.equal((await stat(join(root, "srv"))).uid, 1000);
    // An existing directory keeps its owner.
    await ensureWorkdir(root, "/etc", { uid: 1000, gid: 1000 });
    assert.equal((await stat(join(root, "etc"))).uid, process.getuid?.() ?? 0);
    await assert.rejects(ensureWorkdir(root, "/etc/group", { uid: 0, gid: 0 }), isInvalidParameter);
    await assert.rejects(ensureWorkdir(root, "/etc/group/sub", { uid: 0, gid: 0 }), isInvalidParameter);
  });
});
