/**
 * The docker CLI against wharf and against a dockerd 20.10 of the test's own sees the same confinement: the
 * Seccomp and NoNewPrivs lines of a default, an unconfined and a no-new-privileges container,
 * the same refusal of unshare -U and mount, the same answers to apparmor=/label= and a bad seccomp option, and
 * the same Security Options in docker info. (--privileged is left out on purpose: this host's bounding set
 * lacks capabilities, and dockerd's runc fails 'unable to apply caps' where wharf runs with the set it has;
 * seccomp.test.ts checks it has no filter.)
 */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { DOCKER, docker, exec, type TestDaemon } from "../../helpers/daemon.ts";
import { DOCKERD, type EnginePair, startEnginePair, type TestDockerd } from "../../helpers/dockerd.ts";

let pair: EnginePair | undefined;
let d: TestDaemon | undefined;
let dd: TestDockerd | undefined;

before(async () => {
  pair = await startEnginePair("confine");
  d = pair?.wharf;
  dd = pair?.dockerd;
});
after(async () => {
  await pair?.stop();
});

const status =
  "grep -E '^(Seccomp|NoNewPrivs):' /proc/self/status; unshare -U true 2>/dev/null && echo unshare-ok || echo unshare-refused; mount -t tmpfs t /mnt 2>/dev/null && echo mount-ok || echo mount-refused";

/** What a user reads: stdout, and the daemon's error line (the CLI's wording around it is the same CLI). */
function normal(out: string): string {
  return out
    .split("\n")
    .map((l) => l.replace(/\s+/g, " ").trim())
    .filter((l) => l !== "" && !l.startsWith("See 'docker run --help'"))
    .join("\n");
}

test("seccomp, no-new-privileges, apparmor and label as dockerd 20.10 shows them", {
  skip: !DOCKERD,
}, async (t) => {
  if (!d || !dd) {
    t.skip("dockerd did not start");
    return;
  }
  const theirs = dd;
  const cases: string[][] = [
    [],
    ["--security-opt", "seccomp=unconfined"],
    ["--security-opt", "no-new-privileges"],
    ["--security-opt", "no-new-privileges=true"],
    ["--security-opt", "no-new-privileges=false"],
    ["--security-opt", "apparmor=unconfined"],
    ["--security-opt", "label=disable"],
    ["--security-opt", "seccomp=/nonexistent/profile.json"],
    ["--security-opt", "bogus=1"],
    ["--security-opt", "no-new-privileges=maybe"],
  ];
  for (const flags of cases) {
    const args = ["run", "--rm", ...flags, "busybox", "sh", "-c", status];
    const w = await docker(d, args);
    const x = await exec(DOCKER, ["-H", theirs.host, ...args]);
    assert.equal(
      w.code,
      x.code,
      `${flags.join(" ")}: exit ${w.code} vs dockerd's ${x.code}\n${w.stderr}\n${x.stderr}`,
    );
    assert.equal(normal(w.stdout), normal(x.stdout), `${flags.join(" ")}: stdout`);
    const errLine = (s: string) =>
      /Error response from daemon: [^\n]*|open [^\n]*no such file[^\n]*|invalid [^\n]*/.exec(s)?.[0];
    assert.equal(errLine(w.stderr), errLine(x.stderr), `${flags.join(" ")}: error`);
  }
  const info = ["info", "--format", "{{json .SecurityOptions}}"];
  const wi = JSON.parse((await docker(d, info)).stdout) as string[];
  const xi = JSON.parse((await exec(DOCKER, ["-H", theirs.host, ...info])).stdout) as string[];
  // cgroupns is dockerd's on a cgroup v2 host only; both say what this host is.
  // dockerd 20.10 names its built-in profile "default"; later dockerd (and the issue) say "builtin", as wharf.
  assert.deepEqual(
    wi.filter((o) => o.startsWith("name=seccomp")),
    ["name=seccomp,profile=builtin"],
  );
  assert.deepEqual(
    xi
      .filter((o) => o.startsWith("name=seccomp"))
      .map((o) => o.replace("profile=default", "profile=builtin")),
    ["name=seccomp,profile=builtin"],
  );
  assert.equal(
    wi.some((o) => o.startsWith("name=apparmor")),
    xi.some((o) => o.startsWith("name=apparmor")),
  );
});
