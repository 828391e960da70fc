import assert from "node:assert/strict";
import { appendFile, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { type AccountFiles, nextFreeRange, parseSubids, RemapError, resolveRemapUser } from "./userns.ts";

test("subordinate ranges: by login or uid, in file order, malformed and empty lines skipped", () => {
  const text = "alice:100000:65536\nbob:165536:65536\n1000:300000:10\n# no\nalice:x:1\nalice:400000:0\n\n";
  assert.deepEqual(parseSubids(text, { name: "alice", id: 1000 }), [
    { start: 100000, count: 65536 },
    { start: 300000, count: 10 },
  ]);
  assert.deepEqual(parseSubids(text, { name: "carol", id: 1002 }), []);
});

test("dockerd's next free subordinate range: 65536 ids at or above 100000 that nothing overlaps", () => {
  assert.deepEqual(nextFreeRange([]), { start: 100000, count: 65536 });
  assert.deepEqual(nextFreeRange([{ start: 100000, count: 65536 }]), { start: 165536, count: 65536 });
  assert.deepEqual(
    nextFreeRange([
      { start: 300000, count: 65536 },
      { start: 120000, count: 10 },
    ]),
    { start: 120010, count: 65536 },
  );
  assert.deepEqual(nextFreeRange([{ start: 1000, count: 10 }]), { start: 100000, count: 65536 });
});

async function accounts(files: { passwd: string; group: string; subuid?: string; subgid?: string }) {
  const dir = await mkdtemp(join(tmpdir(), "wt-remap-"));
  const calls: string[][] = [];
  const f: AccountFiles = {
    passwd: join(dir, "passwd"),
    group: join(dir, "group"),
    subuid: join(dir, "subuid"),
    subgid: join(dir, "subgid"),
    // Plays shadow-utils on the temp files.
    async run(file, args) {
      calls.push([file, ...args]);
      if (file === "groupadd") await appendFile(f.group, `${args.at(-1)}:x:995:\n`);
      if (file === "useradd")
        await appendFile(f.passwd, `${args.at(-1)}:x:999:995::/nonexistent:/bin/false\n`);
      if (file === "usermod") {
        const name = args.at(-1);
        for (let i = 0; i < args.length - 1; i += 2) {
          const [a, b] = (args[i + 1] ?? "").split("-").map(Number);
          const to = args[i] === "--add-subuids" ? f.subuid : f.subgid;
          await appendFile(to, `${name}:${a}:${(b ?? 0) - (a ?? 0) + 1}\n`);
        }
      }
      return "";
    },
  };
  await writeFile(f.passwd, files.passwd);
  await writeFile(f.group, files.group);
  await writeFile(f.subuid, files.subuid ?? "");
  await writeFile(f.subgid, files.subgid ?? "");
  return { f, calls, done: () => rm(dir, { recursive: true, force: true }) };
}

test("--userns-remap default creates dockremap and its ranges; names and ids resolve as dockerd's", async () => {
  const a = await accounts({
    passwd:
      "root:x:0:0::/root:/bin/sh\nalice:x:1000:1000::/home/alice:/bin/sh\nnobody:x:65534:65534::/:/bin/false\n",
    group: "root:x:0:\nalice:x:1000:\nstaff:x:50:\n",
    subuid: "alice:100000:65536\n",
    subgid: "alice:100000:65536\n",
  });
  try {
    const d = await resolveRemapUser("default", a.f);
    assert.deepEqual(d, {
      user: "dockremap",
      group: "dockremap",
      uidRanges: [{ start: 165536, count: 65536 }],
      gidRanges: [{ start: 165536, count: 65536 }],
    });
    assert.deepEqual(
      a.calls.map((c) => c[0]),
      ["groupadd", "useradd", "usermod"],
    );
    // A second start finds it all in place and changes nothing.
    await resolveRemapUser("default", a.f);
    assert.equal(a.calls.length, 3);
    assert.equal((await resolveRemapUser("1000", a.f))?.user, "alice");
    assert.equal((await resolveRemapUser("alice:staff", a.f))?.group, "staff");
    assert.equal((await resolveRemapUser("alice:50", a.f))?.group, "staff");
    assert.equal(await resolveRemapUser("root", a.f), undefined);
    await assert.rejects(
      resolveRemapUser("a:b:c", a.f),
      /Invalid user\/group specification in --userns-remap: "a:b:c"/,
    );
    await assert.rejects(
      resolveRemapUser("nosuchuser", a.f),
      /Error during uid lookup for "nosuchuser": getent unable to find entry "nosuchuser" in passwd database/,
    );
    await assert.rejects(resolveRemapUser("nobody", a.f), /Error during gid lookup for "nobody"/);
    await assert.rejects(resolveRemapUser("4242", a.f), /Uid 4242 has no entry in \/etc\/passwd/);
    await assert.rejects(
      resolveRemapUser("alice:nogroup", a.f),
      /Error during groupname lookup for "nogroup"/,
    );
    await assert.rejects(
      resolveRemapUser("nobody:staff", a.f),
      (e: Error) => e instanceof RemapError && /no subuid ranges found for user "nobody"/.test(e.message),
    );
  } finally {
    await a.done();
  }
});
