import assert from "node:assert/strict";
import { test } from "node:test";
import { FakeHost } from "../host/index.ts";
import type { OciProcess } from "../oci/index.ts";
import { execWrapperScript, gvisorProcess, netnsWrapperScript, parseRunscPs, probeFlavor } from "./gvisor.ts";

test("capabilities runsc does not know are left out of its processes", () => {
  const all = ["CAP_CHOWN", "CAP_PERFMON", "CAP_BPF", "CAP_CHECKPOINT_RESTORE", "CAP_SYS_ADMIN"];
  const p = {
    args: ["sh"],
    cwd: "/",
    user: { uid: 0, gid: 0 },
    capabilities: { bounding: all, effective: all },
  };
  assert.deepEqual(gvisorProcess(p as OciProcess).capabilities, {
    bounding: ["CAP_CHOWN", "CAP_SYS_ADMIN"],
    effective: ["CAP_CHOWN", "CAP_SYS_ADMIN"],
  });
});

test("runsc ps's table comes back in ps -ef's columns", () => {
  const out = [
    "UID       PID       PPID      C         TTY       STIME     TIME      CMD",
    "0         1         0         28        ?         10:41     30ms      sleep",
    "0         7         1         0         pts/0     10:42     0s        sh -c echo hi",
    "",
  ].join("\n");
  assert.deepEqual(parseRunscPs(out), {
    titles: ["UID", "PID", "PPID", "C", "STIME", "TTY", "TIME", "CMD"],
    processes: [
      ["0", "1", "0", "28", "10:41", "?", "30ms", "sleep"],
      ["0", "7", "1", "0", "10:42", "pts/0", "0s", "sh -c echo hi"],
    ],
  });
});

test("runsc is told apart by its version; the wrapper hides /proc/sys/net and execs runsc", async () => {
  const host = new FakeHost();
  host.programs.set("runsc", () => "runsc version 0.0~20221219.0\nspec: 1.0.2-dev\n");
  host.programs.set("runc", () => "runc version 1.1.5\n");
  assert.equal(await probeFlavor("/usr/bin/runsc", host), "gvisor");
  assert.equal(await probeFlavor("/usr/sbin/runc", host), "runc");
  const s = netnsWrapperScript("/usr/bin/runsc");
  assert.match(s, /^#!\/bin\/sh\n/);
  assert.match(s, /unshare --mount --propagation slave/);
  assert.match(
    execWrapperScript("/usr/bin/runsc"),
    /"--tty" \] \|\| set -- "\$@" "\$a"; done\nexec '\/usr\/bin\/runsc' "\$@"\n$/,
  );
  assert.match(s, /mount -t tmpfs .* \/proc\/sys\/net && exec "\$0" "\$@"' '\/usr\/bin\/runsc' "\$@"\n$/);
});
