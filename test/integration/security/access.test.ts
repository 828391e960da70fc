/**
 * Daemon access: plain TCP is refused unless the operator opts out with --tls=false, and the unix socket is
 * 0660 root:<group> (the `--group`, default "docker" when it exists, else root only).
 */
import assert from "node:assert/strict";
import { stat } from "node:fs/promises";
import { after, test } from "node:test";
import { exec, freePort, startDaemon, type TestDaemon, WHARF } from "../../helpers/daemon.ts";

const daemons: TestDaemon[] = [];
after(async () => {
  for (const d of daemons) await d.stop();
});

test("a TCP listener without TLS client verification is refused at start-up", async () => {
  const port = await freePort();
  const r = await exec(
    WHARF,
    [
      "daemon",
      "--data-root",
      "/nonexistent/wt-notls",
      "--exec-root",
      "/nonexistent/wt-notls-exec",
      "-H",
      `tcp://127.0.0.1:${port}`,
    ],
    { timeoutMs: 20_000 },
  );
  assert.notEqual(r.code, 0);
  assert.match(
    r.stdout + r.stderr,
    /refusing to listen on tcp:\/\/127\.0\.0\.1:\d+ without TLS client verification/,
  );
  assert.match(r.stdout + r.stderr, /--tls=false/);
});

test("--tls=false opts out explicitly: the daemon serves TCP and keeps warning", async () => {
  const port = await freePort();
  const d = await startDaemon({ name: "notls", args: ["-H", `tcp://127.0.0.1:${port}`, "--tls=false"] });
  daemons.push(d);
  await d.waitForOutput(/without --tlsverify is insecure/);
  const r = await exec("/usr/local/bin/docker", [
    "-H",
    `tcp://127.0.0.1:${port}`,
    "version",
    "--format",
    "{{.Server.APIVersion}}",
  ]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout.trim(), "1.47");
});

test("the unix socket is 0660, root's group by default here, the --group one when given", async () => {
  const hasDocker = (await exec("getent", ["group", "docker"])).code === 0;
  const d = await startDaemon({ name: "sockdef" });
  daemons.push(d);
  const st = await stat(d.socket);
  assert.equal(st.mode & 0o777, 0o660);
  assert.equal(st.uid, 0);
  if (!hasDocker) assert.equal(st.gid, 0);
  const g = await startDaemon({ name: "sockgrp", args: ["--group", "daemon"] });
  daemons.push(g);
  const gid = Number((await exec("getent", ["group", "daemon"])).stdout.split(":")[2]);
  const gs = await stat(g.socket);
  assert.equal(gs.gid, gid);
  assert.equal(gs.mode & 0o777, 0o660);
  const missing = await exec(
    WHARF,
    ["daemon", "--data-root", "/nonexistent/x", "--group", "no-such-group-wt"],
    {
      timeoutMs: 20_000,
    },
  );
  assert.notEqual(missing.code, 0);
});
