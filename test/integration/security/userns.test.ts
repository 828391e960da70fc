/**
 * `--userns-remap` with real containers and the real docker CLI: container root is the dockremap user's
 * first subordinate id on the host, the image's, volumes' and container files belong to that remapped
 * root, `--userns=host` opts out, cp/export/commit/build show the ids the container sees, and the
 * confinement (seccomp, daemon-wide defaults) holds as without remapping.
 *
 * The daemon creates dockremap (and its /etc/subuid and /etc/subgid lines) when missing; this file then
 * removes exactly what was added, even on failure, and nothing that was there before it ran.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { chown, mkdtemp, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { promisify } from "node:util";
import {
  busyboxTar,
  DOCKER,
  docker,
  exec,
  importBusybox,
  startDaemon,
  type TestDaemon,
  WHARF,
} from "../../helpers/daemon.ts";
import { DOCKERD, startDockerd } from "../../helpers/dockerd.ts";

const run = promisify(execFile);
const ACCOUNT_FILES = [
  "/etc/passwd",
  "/etc/group",
  "/etc/shadow",
  "/etc/gshadow",
  "/etc/subuid",
  "/etc/subgid",
];

let d: TestDaemon;
let dir: string;
let root: { uid: number; gid: number };
let remappedRoot: string;
let before_: Map<string, string[]>;
let createdUser = false;

async function lines(path: string): Promise<string[]> {
  return (await readFile(path, "utf8").catch(() => "")).split("\n").filter(Boolean);
}

/** Removes the dockremap lines this run added (userdel first, then any line it left), nothing else. */
async function removeAddedAccounts(): Promise<void> {
  if (!createdUser) return;
  await run("userdel", ["dockremap"]).catch(() => undefined);
  await run("groupdel", ["dockremap"]).catch(() => undefined);
  for (const f of ACCOUNT_FILES) {
    const had = new Set(before_.get(f) ?? []);
    const now = await lines(f);
    const kept = now.filter((l) => had.has(l) || !l.startsWith("dockremap:"));
    if (kept.length !== now.length) await writeFile(f, `${kept.join("\n")}\n`);
  }
}

before(async () => {
  before_ = new Map();
  for (const f of ACCOUNT_FILES) before_.set(f, await lines(f));
  createdUser = !(before_.get("/etc/passwd") ?? []).some((l) => l.startsWith("dockremap:"));
  dir = await mkdtemp(join(tmpdir(), "wt-userns-files-"));
  d = await startDaemon({
    name: "userns",
    dirMode: 0o711,
    args: [
      "--userns-remap=default",
      "--default-pids-limit",
      "77",
      "--default-ulimit",
      "nofile=1000:1000",
      "--no-new-privileges",
    ],
  });
  const sub = (await lines("/etc/subuid")).find((l) => l.startsWith("dockremap:"))?.split(":");
  const subg = (await lines("/etc/subgid")).find((l) => l.startsWith("dockremap:"))?.split(":");
  assert.ok(sub && subg, "the daemon gave dockremap subordinate ranges");
  root = { uid: Number(sub[1]), gid: Number(subg[1]) };
  remappedRoot = join(d.dataRoot, `${root.uid}.${root.gid}`);
  await importBusybox(d);
});

after(async () => {
  try {
    await d?.stop();
  } finally {
    await removeAddedAccounts();
    await rm(dir, { recursive: true, force: true });
  }
});

async function sh(args: string[]): Promise<{ code: number; out: string }> {
  const r = await docker(d, args);
  return { code: r.code, out: (r.stdout + r.stderr).trim() };
}

/** A host process's real uid and gid, from /proc/<pid>/status. */
async function hostIds(pid: number): Promise<{ uid: number; gid: number }> {
  const status = await readFile(`/proc/${pid}/status`, "utf8");
  const uid = Number(/^Uid:\s+(\d+)/m.exec(status)?.[1]);
  const gid = Number(/^Gid:\s+(\d+)/m.exec(status)?.[1]);
  return { uid, gid };
}

test("container root is uid 0 inside and the first subordinate id on the host; docker info says so", async () => {
  const c = await sh(["run", "-d", "--name", "top", "busybox", "sleep", "300"]);
  assert.equal(c.code, 0, c.out);
  const inside = await sh(["exec", "top", "sh", "-c", "id -u; id -g; cat /proc/self/uid_map"]);
  assert.equal(inside.code, 0, inside.out);
  const [uid, gid, map] = inside.out.split("\n");
  assert.equal(uid, "0");
  assert.equal(gid, "0");
  assert.deepEqual(map?.trim().split(/\s+/), ["0", String(root.uid), "65536"]);
  const pid = Number((await sh(["inspect", "-f", "{{.State.Pid}}", "top"])).out);
  assert.deepEqual(await hostIds(pid), root);
  const info = JSON.parse((await sh(["info", "-f", "{{json .}}"])).out) as {
    SecurityOptions: string[];
    DockerRootDir: string;
  };
  assert.ok(info.SecurityOptions.includes("name=userns"), info.SecurityOptions.join(","));
  assert.equal(info.DockerRootDir, remappedRoot);
  // As dockerd: the remapped store is root's, searchable by the remapped root's group only.
  const st = await stat(remappedRoot);
  assert.equal(st.mode & 0o777, 0o710);
  assert.equal(st.gid, root.gid);
});

test("image files belong to the remapped root on the host; a volume written as root too", async () => {
  const layers = join(remappedRoot, "layers");
  let found = false;
  for (const l of await readdir(layers)) {
    const f = await stat(join(layers, l, "diff/bin/busybox")).catch(() => undefined);
    if (!f) continue;
    found = true;
    assert.equal(f.uid, root.uid);
    assert.equal(f.gid, root.gid);
  }
  assert.ok(found, "busybox's layer is unpacked under the remapped root's store");
  const w = await sh(["run", "--rm", "-v", "data:/v", "busybox", "sh", "-c", "echo hi > /v/f; ls -ln /v/f"]);
  assert.equal(w.code, 0, w.out);
  assert.match(w.out, /\s0\s+0\s/);
  const mp = (await sh(["volume", "inspect", "-f", "{{.Mountpoint}}", "data"])).out;
  assert.ok(mp.startsWith(remappedRoot), mp);
  const f = await stat(join(mp, "f"));
  assert.deepEqual({ uid: f.uid, gid: f.gid }, root);
  const top = await stat(mp);
  assert.deepEqual({ uid: top.uid, gid: top.gid }, root);
});

test("--userns=host runs as host root; privileged and host namespaces need it, with dockerd's errors", async () => {
  const host = await sh([
    "run",
    "--rm",
    "--userns=host",
    "busybox",
    "sh",
    "-c",
    "id -u; cat /proc/self/uid_map",
  ]);
  assert.equal(host.code, 0, host.out);
  assert.deepEqual(host.out.split("\n")[1]?.trim().split(/\s+/), ["0", "0", "4294967295"]);
  const c = await sh(["run", "-d", "--userns=host", "busybox", "sleep", "300"]);
  assert.equal(c.code, 0, c.out);
  const pid = Number((await sh(["inspect", "-f", "{{.State.Pid}}", c.out])).out);
  assert.deepEqual(await hostIds(pid), { uid: 0, gid: 0 });
  await sh(["rm", "-f", c.out]);
  const priv = await sh(["run", "--rm", "--privileged", "busybox", "true"]);
  assert.notEqual(priv.code, 0);
  assert.match(
    priv.out,
    /privileged mode is incompatible with user namespaces\. {2}You must run the container in the host namespace when running privileged mode/,
  );
  const privHost = await sh(["run", "--rm", "--privileged", "--userns=host", "busybox", "id", "-u"]);
  assert.equal(privHost.code, 0, privHost.out);
  const net = await sh(["run", "--rm", "--net=host", "busybox", "true"]);
  assert.match(net.out, /cannot share the host's network namespace when user namespaces are enabled/);
  const pidHost = await sh(["run", "--rm", "--pid=host", "busybox", "true"]);
  assert.match(pidHost.out, /cannot share the host PID namespace when user namespaces are enabled/);
});

test("docker cp in and out, export and diff keep the ids the container sees", async () => {
  const c = await sh(["run", "-d", "--name", "cp", "busybox", "sh", "-c", "echo x > /made.txt; sleep 300"]);
  assert.equal(c.code, 0, c.out);
  const src = join(dir, "in.txt");
  await writeFile(src, "in\n");
  await chown(src, 1234, 1234);
  assert.equal((await sh(["cp", "-a", src, "cp:/in.txt"])).code, 0);
  assert.equal((await sh(["cp", src, "cp:/plain.txt"])).code, 0);
  const ls = await sh(["exec", "cp", "ls", "-ln", "/in.txt", "/plain.txt", "/made.txt"]);
  assert.match(ls.out, /1234\s+1234\s+\d+ .* \/in\.txt/);
  // Without -a too, as dockerd: the archive's owners are kept (a cp -a only differs for a container with a user).
  assert.match(ls.out, /1234\s+1234\s+\d+ .* \/plain\.txt/);
  // On the host the copied file is the remapped container's uid 1234.
  const id = (await sh(["inspect", "-f", "{{.Id}}", "cp"])).out;
  const upper = join(remappedRoot, "containers", id, "upper");
  const onHost = await stat(join(upper, "in.txt"));
  assert.deepEqual({ uid: onHost.uid, gid: onHost.gid }, { uid: root.uid + 1234, gid: root.gid + 1234 });
  assert.equal((await stat(join(upper, "made.txt"))).uid, root.uid);
  const out = await exec("sh", ["-c", `${DOCKER} -H ${d.host} cp cp:/in.txt - | tar tvn`]);
  assert.match(out.stdout, /1234\/1234/);
  const made = await exec("sh", ["-c", `${DOCKER} -H ${d.host} cp cp:/made.txt - | tar tvn`]);
  assert.match(made.stdout, /\s0\/0\s/);
  const exp = await exec("sh", ["-c", `${DOCKER} -H ${d.host} export cp | tar tvn`]);
  assert.match(exp.stdout, /\s0\/0\s.* made\.txt/);
  assert.match(exp.stdout, /1234\/1234.* in\.txt/);
  assert.match(exp.stdout, /\s0\/0\s.* bin\/busybox/);
  const diff = await sh(["diff", "cp"]);
  assert.match(diff.out, /A \/made\.txt/);
  assert.match(diff.out, /A \/in\.txt/);
});

test("a commit of a remapped container names container ids in its layer, as without remapping", async () => {
  const img = await sh(["commit", "cp", "snap:1"]);
  assert.equal(img.code, 0, img.out);
  const tarDir = await mkdtemp(join(dir, "save-"));
  const saved = await exec("sh", ["-c", `${DOCKER} -H ${d.host} save snap:1 | tar x -C ${tarDir}`]);
  assert.equal(saved.code, 0, saved.stderr);
  const manifest = JSON.parse(await readFile(join(tarDir, "manifest.json"), "utf8")) as {
    Layers: string[];
  }[];
  const top = manifest[0]?.Layers.at(-1) ?? "";
  const entries = await exec("tar", ["tvnf", join(tarDir, top)]);
  assert.match(entries.stdout, /\s0\/0\s.* made\.txt/);
  assert.match(entries.stdout, /1234\/1234.* in\.txt/);
  assert.doesNotMatch(entries.stdout, new RegExp(`${root.uid}`));
  // The committed image runs, its files owned by the remapped root again.
  const r = await sh(["run", "--rm", "snap:1", "ls", "-ln", "/made.txt", "/in.txt"]);
  assert.match(r.out, /\s0\s+0\s.* \/made\.txt/);
  assert.match(r.out, /1234\s+1234.* \/in\.txt/);
});

test("exec, logs and a classic build work under the remapping", async () => {
  const c = await sh(["run", "-d", "--name", "logs", "busybox", "sh", "-c", "echo hello; sleep 300"]);
  assert.equal(c.code, 0, c.out);
  const ex = await sh(["exec", "logs", "sh", "-c", "id -u; ls /sys/class/net"]);
  assert.equal(ex.code, 0, ex.out);
  assert.match(ex.out, /^0\n/);
  assert.match(ex.out, /eth0/);
  for (;;) {
    const l = await sh(["logs", "logs"]);
    if (l.out.includes("hello")) break;
    await sh(["exec", "logs", "true"]);
  }
  const ctx = await mkdtemp(join(dir, "ctx-"));
  await writeFile(join(ctx, "f.txt"), "hello\n");
  await writeFile(
    join(ctx, "Dockerfile"),
    [
      "FROM busybox",
      "RUN echo run > /r.txt",
      "COPY f.txt /c.txt",
      "COPY --chown=1000:1000 f.txt /d.txt",
      "WORKDIR /w",
      'RUN test "$(stat -c %u:%g /c.txt /d.txt /r.txt /w)" = "$(printf \'0:0\\n1000:1000\\n0:0\\n0:0\')"',
      "",
    ].join("\n"),
  );
  const b = await exec(DOCKER, ["-H", d.host, "build", "-q", "-t", "built:1", ctx], {
    env: { DOCKER_BUILDKIT: "0", DOCKER_CONFIG: join(d.dir, "docker-config") },
  });
  assert.equal(b.code, 0, b.stdout + b.stderr);
  const r = await sh([
    "run",
    "--rm",
    "built:1",
    "stat",
    "-c",
    "%u:%g %n",
    "/c.txt",
    "/d.txt",
    "/r.txt",
    "/w",
  ]);
  assert.equal(r.out, "0:0 /c.txt\n1000:1000 /d.txt\n0:0 /r.txt\n0:0 /w");
});

test("seccomp still refuses unshare -U; the daemon's default limits apply to remapped containers", async () => {
  const r = await sh([
    "run",
    "--rm",
    "busybox",
    "sh",
    "-c",
    "grep -E 'Seccomp:|NoNewPrivs:' /proc/self/status; ulimit -n; cat /sys/fs/cgroup/pids/pids.max 2>/dev/null || cat /sys/fs/cgroup/pids.max; unshare -U true; echo rc=$?",
  ]);
  assert.match(r.out, /Seccomp:\s+2/);
  assert.match(r.out, /NoNewPrivs:\s+1/);
  assert.match(r.out, /\n1000\n/);
  assert.match(r.out, /\n77\n/);
  assert.match(r.out, /unshare.*Operation not permitted/);
  assert.match(r.out, /rc=1/);
});

test("a running remapped container is found again after a daemon restart and still takes exec", async () => {
  await d.restart();
  const ex = await sh(["exec", "top", "id", "-u"]);
  assert.equal(ex.code, 0, ex.out);
  assert.equal(ex.out, "0");
});

/**
 * Runs `fn` with a new system user `name` (and its group) holding the next free 65536 subordinate ids;
 * removes the user, its group and every line naming it afterwards, whatever happens.
 */
async function withRemapUser<T>(
  name: string,
  fn: (range: { start: number; count: number }, uid: string) => Promise<T>,
): Promise<T> {
  const taken = [...(await lines("/etc/subuid")), ...(await lines("/etc/subgid"))].map((l) => {
    const [, a, n] = l.split(":");
    return { start: Number(a), count: Number(n) };
  });
  const { nextFreeRange } = await import("../../../src/host/index.ts");
  const range = nextFreeRange(taken);
  try {
    await run("useradd", ["--system", "--user-group", "--no-create-home", "--shell", "/bin/false", name]);
    const span = `${range.start}-${range.start + range.count - 1}`;
    await run("usermod", ["--add-subuids", span, "--add-subgids", span, name]);
    return await fn(range, (await run("id", ["-u", name])).stdout.trim());
  } finally {
    await run("userdel", [name]).catch(() => undefined);
    await run("groupdel", [name]).catch(() => undefined);
    for (const f of ACCOUNT_FILES) {
      const now = await lines(f);
      const kept = now.filter((l) => !l.startsWith(`${name}:`));
      if (kept.length !== now.length) await writeFile(f, `${kept.join("\n")}\n`);
    }
  }
}

test("--userns-remap USER:GROUP and a numeric uid use that user's own ranges", async () => {
  await withRemapUser(`wtremap${process.pid % 100000}`, async (range, uid) => {
    const name = `wtremap${process.pid % 100000}`;
    for (const spec of [`${name}:${name}`, uid]) {
      const other = await startDaemon({
        name: "userns-named",
        dirMode: 0o711,
        args: [`--userns-remap=${spec}`],
      });
      try {
        await importBusybox(other);
        const r = await docker(other, [
          "run",
          "--rm",
          "busybox",
          "cat",
          "/proc/self/uid_map",
          "/proc/self/gid_map",
        ]);
        assert.equal(r.code, 0, r.stderr);
        const maps = r.stdout
          .trim()
          .split("\n")
          .map((l) => l.trim().split(/\s+/));
        const want = ["0", String(range.start), String(range.count)];
        assert.deepEqual(maps, [want, want]);
      } finally {
        await other.stop();
      }
    }
  });
});

test("dockerd 20.10 with --userns-remap gives the docker CLI the same answers", {
  skip: !DOCKERD,
}, async () => {
  const name = `wtremapd${process.pid % 100000}`;
  await withRemapUser(name, async (range) => {
    const dd = await startDockerd("userns", { args: [`--userns-remap=${name}:${name}`], dirMode: 0o711 });
    assert.ok(dd);
    try {
      const theirs = (args: string[]) =>
        exec(DOCKER, ["-H", dd.host, ...args]).then((r) => ({
          code: r.code,
          out: (r.stdout + r.stderr).trim(),
        }));
      const imported = await theirs(["import", "-c", 'CMD ["sh"]', await busyboxTar(), "busybox:latest"]);
      assert.equal(imported.code, 0, imported.out);
      const errorLine = (out: string) => /Error response from daemon: [^\n]*/.exec(out)?.[0];
      for (const flags of [["--privileged"], ["--net=host"], ["--pid=host"]]) {
        const args = ["run", "--rm", ...flags, "busybox", "true"];
        const [w, x] = [await sh(args), await theirs(args)];
        assert.ok(errorLine(x.out), x.out);
        assert.equal(errorLine(w.out), errorLine(x.out));
      }
      const map = ["run", "--rm", "busybox", "sh", "-c", "id -u; cat /proc/self/uid_map"];
      const [wm, xm] = [await sh(map), await theirs(map)];
      assert.deepEqual(wm.out.split(/\s+/), ["0", "0", String(root.uid), "65536"]);
      assert.deepEqual(xm.out.split(/\s+/), ["0", "0", String(range.start), "65536"]);
      const hostMap = ["run", "--rm", "--userns=host", "busybox", "cat", "/proc/self/uid_map"];
      assert.equal(
        (await sh(hostMap)).out.replace(/\s+/g, " "),
        (await theirs(hostMap)).out.replace(/\s+/g, " "),
      );
      const info = async (f: typeof sh) =>
        JSON.parse((await f(["info", "-f", "{{json .}}"])).out) as {
          SecurityOptions: string[];
          DockerRootDir: string;
        };
      const [wi, xi] = [await info(sh), await info(theirs)];
      assert.ok(xi.SecurityOptions.includes("name=userns"));
      assert.ok(wi.SecurityOptions.includes("name=userns"));
      assert.ok(xi.DockerRootDir.endsWith(`/${range.start}.${range.start}`), xi.DockerRootDir);
      assert.ok(wi.DockerRootDir.endsWith(`/${root.uid}.${root.gid}`), wi.DockerRootDir);
      // A volume written as root: owned by each daemon's remapped root on the host.
      const vol = ["run", "--rm", "-v", "cmpvol:/v", "busybox", "sh", "-c", "echo hi > /v/f"];
      assert.equal((await theirs(vol)).code, 0);
      const xmp = (await theirs(["volume", "inspect", "-f", "{{.Mountpoint}}", "cmpvol"])).out;
      assert.equal((await stat(join(xmp, "f"))).uid, range.start);
      // export names the ids the container sees on both.
      const list = (host: string) =>
        exec("sh", [
          "-c",
          `id=$(${DOCKER} -H ${host} create busybox); ${DOCKER} -H ${host} export $id | tar tvn; ${DOCKER} -H ${host} rm $id >/dev/null`,
        ]);
      const [we, xe] = [await list(d.host), await list(dd.host)];
      assert.match(xe.stdout, /\s0\/0\s.* bin\/busybox/);
      assert.match(we.stdout, /\s0\/0\s.* bin\/busybox/);
    } finally {
      await dd.stop();
    }
  });
});

test("start-up errors in dockerd's words: a user without ranges, a bad spec, the flag and the file both", async () => {
  const tmp = await mkdtemp(join(dir, "bad-"));
  const start = (args: string[]) =>
    exec(
      WHARF,
      [
        "daemon",
        "--data-root",
        join(tmp, "data"),
        "--exec-root",
        join(tmp, "exec"),
        "-H",
        `unix://${join(tmp, "s.sock")}`,
        ...args,
      ],
      { timeoutMs: 20_000 },
    );
  const none = await start(["--userns-remap=nobody:nogroup"]);
  assert.notEqual(none.code, 0);
  assert.match(
    none.stderr + none.stdout,
    /Can't create ID mappings: no subuid ranges found for user \\?"nobody\\?"/,
  );
  const bad = await start(["--userns-remap=a:b:c"]);
  assert.match(bad.stderr + bad.stdout, /Invalid user\/group specification in --userns-remap: \\?"a:b:c\\?"/);
  const missing = await start(["--userns-remap=nosuchuser"]);
  assert.match(missing.stderr + missing.stdout, /Error during uid lookup for \\?"nosuchuser\\?"/);
  const file = join(tmp, "daemon.json");
  await writeFile(file, JSON.stringify({ "userns-remap": "default" }));
  const both = await start(["--config-file", file, "--userns-remap=default"]);
  assert.match(
    both.stderr + both.stdout,
    /the following directives are specified both as a flag and in the configuration file: userns-remap/,
  );
});
