/**
 * Container confinement with real containers and the real docker CLI: the built-in seccomp profile, custom
 * profiles, unconfined, no-new-privileges (also for exec sessions), and the daemon's defaults for every
 * container (--seccomp-profile, --no-new-privileges, --default-pids-limit, --default-ulimit).
 */
import assert from "node:assert/strict";
import { chmod, mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { docker, exec, importBusybox, startDaemon, type TestDaemon, wharf } from "../../helpers/daemon.ts";

let d: TestDaemon;
let flags: TestDaemon | undefined;
let dir: string;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), "wt-seccomp-"));
  d = await startDaemon({ name: "seccomp" });
  await importBusybox(d);
});
after(async () => {
  await d?.stop();
  await flags?.stop();
  await rm(dir, { recursive: true, force: true });
});

async function run(t: TestDaemon, args: string[]): Promise<{ code: number; out: string }> {
  const r = await docker(t, ["run", "--rm", ...args]);
  return { code: r.code, out: (r.stdout + r.stderr).trim() };
}

function field(status: string, name: string): string | undefined {
  return new RegExp(`^${name}:\\s*(\\S+)`, "m").exec(status)?.[1];
}

test("containers run under the built-in profile: Seccomp 2, namespace and mount calls refused with EPERM", async () => {
  const status = await run(d, ["busybox", "cat", "/proc/self/status"]);
  assert.equal(status.code, 0, status.out);
  assert.equal(field(status.out, "Seccomp"), "2");
  assert.equal(field(status.out, "NoNewPrivs"), "0");
  // User namespaces need no capability from the kernel: only seccomp refuses them.
  const userns = await run(d, ["busybox", "unshare", "-U", "true"]);
  assert.notEqual(userns.code, 0);
  assert.match(userns.out, /Operation not permitted/);
  const unconfined = await run(d, [
    "--security-opt",
    "seccomp=unconfined",
    "busybox",
    "unshare",
    "-U",
    "true",
  ]);
  assert.equal(unconfined.code, 0, unconfined.out);
  const mount = await run(d, ["busybox", "sh", "-c", "mkdir -p /m && mount -t tmpfs none /m"]);
  assert.notEqual(mount.code, 0);
  // With CAP_SYS_ADMIN the profile lets mount through, as Docker's does.
  const admin = await run(d, [
    "--cap-add",
    "SYS_ADMIN",
    "busybox",
    "sh",
    "-c",
    "mkdir -p /m && mount -t tmpfs none /m",
  ]);
  assert.equal(admin.code, 0, admin.out);
  // Ordinary work still runs: threads, pipes, signals, files, time.
  const work = await run(d, [
    "busybox",
    "sh",
    "-c",
    "echo a | sort | wc -l; date >/dev/null; sleep 0.01 & wait; ls / >/dev/null",
  ]);
  assert.equal(work.code, 0, work.out);
});

test("seccomp=unconfined and --privileged run without a filter", async () => {
  const un = await run(d, ["--security-opt", "seccomp=unconfined", "busybox", "cat", "/proc/self/status"]);
  assert.equal(field(un.out, "Seccomp"), "0", un.out);
  const priv = await run(d, ["--privileged", "busybox", "cat", "/proc/self/status"]);
  assert.equal(field(priv.out, "Seccomp"), "0", priv.out);
});

test("a custom profile file given to the docker CLI is applied", async () => {
  const profile = join(dir, "no-mkdir.json");
  await writeFile(
    profile,
    JSON.stringify({
      defaultAction: "SCMP_ACT_ALLOW",
      syscalls: [{ names: ["mkdir", "mkdirat"], action: "SCMP_ACT_ERRNO", errnoRet: 1 }],
    }),
  );
  const r = await run(d, [
    "--security-opt",
    `seccomp=${profile}`,
    "busybox",
    "sh",
    "-c",
    "grep Seccomp: /proc/self/status; mkdir /x",
  ]);
  assert.notEqual(r.code, 0);
  assert.match(r.out, /Seccomp:\s+2/);
  assert.match(r.out, /Operation not permitted/);
  // The wharf CLI reads the file and sends its content too, as the docker CLI does.
  const w = await wharf(d, ["run", "--rm", "--security-opt", `seccomp=${profile}`, "busybox", "mkdir", "/x"]);
  assert.notEqual(w.code, 0);
  assert.match(w.stdout + w.stderr, /Operation not permitted/);
  const badFile = join(dir, "bad.json");
  await writeFile(badFile, '{"defaultAction": 1}');
  const bad = await docker(d, ["create", "--security-opt", `seccomp=${badFile}`, "busybox"]);
  assert.notEqual(bad.code, 0);
  assert.match(bad.stderr, /Decoding seccomp profile failed/);
  const unknown = await docker(d, ["create", "--security-opt", "bogus=1", "busybox"]);
  assert.match(unknown.stderr, /invalid --security-opt 2: "bogus=1"/);
});

/** A static setuid-root program printing its effective uid (busybox drops setuid itself, so it cannot tell). */
async function setuidEuid(): Promise<string | undefined> {
  const src = join(dir, "euid.c");
  await writeFile(
    src,
    '#include <stdio.h>\n#include <unistd.h>\nint main(void){printf("%d\\n",(int)geteuid());return 0;}\n',
  );
  const bin = join(dir, "suid", "euid");
  await mkdir(join(dir, "suid"), { recursive: true });
  const cc = await exec("gcc", ["-static", "-O1", "-o", bin, src]).catch(() => ({
    code: -1,
    stderr: "no gcc",
  }));
  if (cc.code !== 0) return undefined;
  await chmod(bin, 0o4755);
  return join(dir, "suid");
}

test("no-new-privileges sets NoNewPrivs and a setuid binary gains nothing; exec sessions inherit it", async (t) => {
  const suid = await setuidEuid();
  if (!suid) t.diagnostic("gcc -static unavailable: setuid check skipped");
  else {
    const args = ["--user", "65534", "-v", `${suid}:/suid:ro`, "busybox", "/suid/euid"];
    const plain = await run(d, args);
    assert.equal(plain.out, "0", "without the flag the setuid bit works");
    const nnp = await run(d, ["--security-opt", "no-new-privileges", ...args]);
    assert.equal(nnp.out, "65534");
  }
  const id = (
    await docker(d, ["run", "-d", "--security-opt", "no-new-privileges:true", "busybox", "sleep", "60"])
  ).stdout.trim();
  const ex = await docker(d, ["exec", id, "cat", "/proc/self/status"]);
  assert.equal(field(ex.stdout, "NoNewPrivs"), "1", ex.stderr);
  assert.equal(field(ex.stdout, "Seccomp"), "2");
  const priv = await docker(d, ["exec", "--privileged", id, "grep", "Seccomp:", "/proc/self/status"]);
  assert.match(priv.stdout, /Seccomp:\s+2/);
  await docker(d, ["rm", "-f", id]);
});

test("apparmor= and label= are accepted and reported as on a host without AppArmor or SELinux", async () => {
  const id = (
    await docker(d, [
      "create",
      "--security-opt",
      "apparmor=unconfined",
      "--security-opt",
      "label=disable",
      "busybox",
    ])
  ).stdout.trim();
  assert.ok(id);
  const r = await docker(d, ["inspect", "-f", "{{.AppArmorProfile}} {{json .HostConfig.SecurityOpt}}", id]);
  assert.equal(r.stdout.trim(), 'unconfined ["apparmor=unconfined","label=disable"]');
  await docker(d, ["rm", id]);
});

test("docker info lists seccomp with its profile", async () => {
  const r = await docker(d, ["info"]);
  assert.match(r.stdout, /Security Options:\n\s+seccomp\n\s+Profile: builtin\n/);
});

test("daemon flags apply to every container", async () => {
  const profile = join(dir, "daemon.json");
  await writeFile(
    profile,
    JSON.stringify({
      defaultAction: "SCMP_ACT_ALLOW",
      syscalls: [{ names: ["chmod", "fchmodat", "fchmodat2"], action: "SCMP_ACT_ERRNO" }],
    }),
  );
  flags = await startDaemon({
    name: "secflags",
    args: [
      "--seccomp-profile",
      profile,
      "--no-new-privileges",
      "--default-pids-limit",
      "77",
      "--default-ulimit",
      "nofile=512:512",
    ],
  });
  await importBusybox(flags);
  const r = await run(flags, [
    "busybox",
    "sh",
    "-c",
    "grep -E '^(Seccomp|NoNewPrivs):' /proc/self/status; cat /sys/fs/cgroup/pids/pids.max; ulimit -n; chmod 700 /tmp",
  ]);
  assert.notEqual(r.code, 0);
  assert.match(r.out, /Seccomp:\s+2/);
  assert.match(r.out, /NoNewPrivs:\s+1/);
  assert.match(r.out, /^77$/m);
  assert.match(r.out, /^512$/m);
  assert.match(r.out, /Operation not permitted/);
  // A container's own settings win over the daemon's.
  const own = await run(flags, [
    "--pids-limit",
    "33",
    "--ulimit",
    "nofile=256:256",
    "busybox",
    "sh",
    "-c",
    "cat /sys/fs/cgroup/pids/pids.max; ulimit -n",
  ]);
  assert.equal(own.out, "33\n256");
  const info = await docker(flags, ["info"]);
  assert.match(info.stdout, new RegExp(`seccomp\\n\\s+Profile: ${profile.replace(/[.]/g, "\\.")}`));
  assert.match(info.stdout, /no-new-privileges/);
  assert.match(info.stderr, /WARNING: daemon is not using the default seccomp profile/);
});
