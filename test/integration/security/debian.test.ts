/**
 * A full Debian userland (debootstrap minbase) works under the built-in seccomp profile: dpkg, apt, perl,
 * shells, users and setuid tools — what real images do — while refused calls still fail with EPERM.
 */
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
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

/** A dependency-free package from the machine's apt cache, for apt-get to install offline. */
const LOCAL_DEB = "/var/cache/apt/archives/libnumber-compare-perl_0.03-3_all.deb";

test("apt-get installs a package, gcc builds and runs a threaded program, python runs, all under the profile", async (t) => {
  if (skip || !d) {
    t.skip(skip);
    return;
  }
  if (!existsSync(LOCAL_DEB) || !existsSync("/usr/bin/gcc") || !existsSync("/usr/bin/python3")) {
    t.skip("the host has no cached .deb, gcc or python3 to offer the container");
    return;
  }
  // apt-get: a real install (its _apt sandbox user, dpkg's unpack and triggers) with no network.
  const apt = await docker(
    d,
    [
      "run",
      "--rm",
      "-v",
      `${LOCAL_DEB}:/tmp/pkg.deb:ro`,
      "debian:minbase",
      "bash",
      "-c",
      "set -e; grep '^Seccomp:' /proc/self/status; apt-get install -y /tmp/pkg.deb; dpkg -s libnumber-compare-perl | grep '^Status'",
    ],
    { timeoutMs: 180_000 },
  );
  assert.equal(apt.code, 0, apt.stdout + apt.stderr);
  assert.match(apt.stdout, /Seccomp:\s+2/);
  assert.match(apt.stdout, /Status: install ok installed/);
  // gcc and python are not in a minbase; the host is the same Debian release, so its /usr (read-only) serves
  // them: what is tested is the calls a compiler, a linker, threads, fork/exec and python make under the filter.
  const c = [
    "#include <pthread.h>",
    "#include <stdio.h>",
    "#include <unistd.h>",
    "#include <sys/wait.h>",
    "static void *work(void *a) { return a; }",
    "int main(void) { pthread_t t; pthread_create(&t, 0, work, 0); pthread_join(t, 0);",
    "  pid_t p = fork(); if (p == 0) _exit(7); int st; waitpid(p, &st, 0);",
    '  printf("c ok %d\\n", WEXITSTATUS(st)); return 0; }',
  ].join("\n");
  const py = [
    "import asyncio, multiprocessing, socket, subprocess, threading",
    "def sq(x): return x * x",
    "if __name__ == '__main__':",
    "    with multiprocessing.Pool(2) as p: assert p.map(sq, [1, 2, 3]) == [1, 4, 9]",
    "    a, b = socket.socketpair(); a.send(b'x'); assert b.recv(1) == b'x'",
    "    assert subprocess.run(['true']).returncode == 0",
    "    asyncio.run(asyncio.sleep(0))",
    "    print('python ok')",
  ].join("\n");
  const script = [
    "set -e",
    "grep '^Seccomp:' /proc/self/status",
    `printf '%s\\n' '${c.replaceAll("'", "'\\''")}' > /tmp/t.c`,
    "gcc -O1 -pthread -o /tmp/t /tmp/t.c && /tmp/t",
    `printf '%s\\n' '${py.replaceAll("'", "'\\''")}' > /tmp/t.py`,
    "python3 /tmp/t.py",
    "if unshare -U true 2>/dev/null; then echo userns-allowed; else echo userns-refused; fi",
  ].join("\n");
  const r = await docker(d, ["run", "--rm", "-v", "/usr:/usr:ro", "debian:minbase", "bash", "-c", script], {
    timeoutMs: 180_000,
  });
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.match(r.stdout, /Seccomp:\s+2/);
  assert.match(r.stdout, /^c ok 7$/m);
  assert.match(r.stdout, /^python ok$/m);
  assert.match(r.stdout, /userns-refused/);
});
