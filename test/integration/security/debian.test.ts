/**
 * A full Debian userland (debootstrap minbase) works under the built-in seccomp profile: dpkg, apt, perl,
 * shells, users and setuid tools — what real images do — while refused calls still fail with EPERM.
 */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { docker, startDaemon, type TestDaemon } from "../../helpers/daemon.ts";
import { debianTar, importDebian } from "../../helpers/debian.ts";

let d: TestDaemon | undefined;
let skip: string | undefined;

before(async () => {
  const tar = await debianTar();
  if (typeof tar !== "string") {
    skip = tar.skip;
    return;
  }
  d = await startDaemon({ name: "debian" });
  await importDebian(d, tar);
});
after(async () => {
  await d?.stop();
});

test("Debian's userland runs under the built-in profile", async (t) => {
  if (skip || !d) {
    t.skip(skip);
    return;
  }
  const script = [
    "set -e",
    "grep '^Seccomp:' /proc/self/status",
    "apt-get --version | head -1",
    "dpkg -l | grep -c '^ii'",
    "dpkg --audit",
    "apt-config dump | grep -c APT",
    "perl -e 'my $p = fork; if ($p) { waitpid($p, 0); print qq(perl fork ok\\n) } else { exit 0 }'",
    "useradd -m tester && su tester -s /bin/bash -c 'id -un; touch ~/f && ls ~'",
    "tar -C /etc -cf /tmp/etc.tar . && mkdir /tmp/x && tar -C /tmp/x -xf /tmp/etc.tar && test -f /tmp/x/passwd",
    "sort /etc/passwd | sha256sum >/dev/null; date -u +%Y >/dev/null",
    "if command -v python3 >/dev/null; then python3 -c 'import os, threading; print(\"python ok\")'; fi",
    "if unshare -U true 2>/dev/null; then echo userns-allowed; else echo userns-refused; fi",
  ].join("\n");
  const r = await docker(d, ["run", "--rm", "debian:minbase", "bash", "-c", script], { timeoutMs: 120_000 });
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.match(r.stdout, /Seccomp:\s+2/);
  assert.match(r.stdout, /^apt \d/m);
  assert.match(r.stdout, /perl fork ok/);
  assert.match(r.stdout, /^tester$/m);
  assert.match(r.stdout, /userns-refused/);
});
