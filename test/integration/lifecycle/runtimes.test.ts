/**
 * OCI runtimes other than runc, through the real docker CLI: gVisor's runsc (set up by default when
 * installed, and once more from a daemon config file with its own runtimeArgs, and a second runc from
 * --add-runtime), `--runtime` and `--isolation=hyperv` picking it, and what a user does with a container
 * under it: logs, exec, a TTY, exit codes, pause, update, a published port, restart, a daemon restart,
 * DNS by name on a user network.
 */
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { release, tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import {
  api,
  docker,
  exec,
  freePort,
  importBusybox,
  startDaemon,
  type TestDaemon,
} from "../../helpers/daemon.ts";
import { inspect, ok, until } from "./common.ts";

const RUNSC = "/usr/bin/runsc";
const skip = existsSync(RUNSC) ? false : "runsc is not installed (scripts/setup.sh installs it)";

let d: TestDaemon;
let cfgDir: string;

before(async () => {
  if (skip) return;
  cfgDir = await mkdtemp(join(tmpdir(), "wt-runtimes-cfg-"));
  const file = join(cfgDir, "daemon.json");
  await writeFile(
    file,
    JSON.stringify({ runtimes: { gvisor: { path: RUNSC, runtimeArgs: ["--platform=ptrace"] } } }),
  );
  d = await startDaemon({
    name: "runtimes",
    args: ["--config-file", file, "--add-runtime", "runc2=/usr/sbin/runc"],
  });
  await importBusybox(d);
});
after(async () => {
  await d?.stop();
  if (cfgDir) await rm(cfgDir, { recursive: true, force: true });
});

describe("OCI runtimes", { skip }, () => {
  test("docker info lists the runtimes and the default", async () => {
    assert.equal(
      await ok(d, ["info", "--format", "{{range $k, $v := .Runtimes}}{{$k}} {{end}}/{{.DefaultRuntime}}"]),
      "gvisor runc runc2 runsc /runc",
    );
    const info = await api<{ Runtimes: Record<string, { path: string; runtimeArgs?: string[] }> }>(
      d,
      "GET",
      "/info",
    );
    assert.deepEqual(info.Runtimes.gvisor, { path: RUNSC, runtimeArgs: ["--platform=ptrace"] });
    assert.equal(info.Runtimes.runc2?.path, "/usr/sbin/runc");
  });

  test("--runtime runsc boots gVisor: its dmesg, its own kernel release; exit codes come through", async () => {
    const [out, exit, viaFile, viaRunc2] = await Promise.all([
      ok(d, ["run", "--rm", "--runtime", "runsc", "busybox", "sh", "-c", "dmesg; uname -r"]),
      docker(d, [
        "run",
        "--rm",
        "--runtime",
        "runsc",
        "busybox",
        "sh",
        "-c",
        "echo out; echo err >&2; exit 7",
      ]),
      ok(d, ["run", "--rm", "--runtime", "gvisor", "busybox", "dmesg"]),
      ok(d, ["run", "--rm", "--runtime", "runc2", "busybox", "uname", "-r"]),
    ]);
    assert.match(out, /Starting gVisor/);
    const kernel = out.split("\n").at(-1);
    assert.notEqual(kernel, release());
    assert.equal(exit.code, 7, exit.stderr);
    assert.equal(exit.stdout, "out\n");
    assert.equal(exit.stderr, "err\n");
    assert.match(viaFile, /Starting gVisor/);
    assert.equal(viaRunc2, release());
  });

  test("--isolation=hyperv lands on runsc; unknown runtimes and isolations get Docker's errors", async () => {
    const id = await ok(d, ["create", "--isolation=hyperv", "busybox", "dmesg"]);
    const c = await inspect(d, id);
    assert.equal(c.HostConfig.Runtime, "runsc");
    assert.equal(c.HostConfig.Isolation, "hyperv");
    assert.match(await ok(d, ["start", "-a", id]), /Starting gVisor/);
    await ok(d, ["rm", id]);
    assert.equal((await inspect(d, await ok(d, ["create", "busybox"]))).HostConfig.Runtime, "runc");

    const bad = await docker(d, ["run", "--rm", "--runtime", "foo", "busybox", "true"]);
    assert.equal(bad.code, 125);
    assert.match(bad.stderr, /Error response from daemon: unknown or invalid runtime name: foo/);
    const iso = await docker(d, ["run", "--rm", "--isolation", "foo", "busybox", "true"]);
    assert.equal(iso.code, 125);
    assert.match(iso.stderr, /Error response from daemon: Invalid isolation: "foo"/);
    await assert.rejects(
      api(d, "POST", "/containers/create", { Image: "busybox", HostConfig: { Runtime: "foo" } }),
      (e: Error & { status?: number }) => e.status === 400,
    );
  });

  test("--privileged under runsc: the capabilities runsc knows, in the container and in exec", async () => {
    const id = await ok(d, ["run", "-d", "--privileged", "--runtime", "runsc", "busybox", "sleep", "60"]);
    assert.match(
      await ok(d, ["exec", "--privileged", id, "grep", "CapEff", "/proc/self/status"]),
      /CapEff:\s+0*3f/,
    );
    await ok(d, ["rm", "-f", id]);
  });

  test("a TTY under runsc", async () => {
    const out = await ok(d, [
      "run",
      "--rm",
      "-t",
      "--runtime",
      "runsc",
      "busybox",
      "sh",
      "-c",
      "test -t 1 && echo tty",
    ]);
    assert.equal(out.replace(/\r/g, ""), "tty");
  });

  test("a published port, exec, logs, top, pause, update and restart of a runsc container", async () => {
    const port = await freePort();
    const id = await ok(d, [
      "run",
      "-d",
      "--runtime",
      "runsc",
      "-p",
      `127.0.0.1:${port}:80`,
      "busybox",
      "sh",
      "-c",
      "echo hello > /index.html; echo started; exec httpd -f -p 80 -h /",
    ]);
    const fetch = () =>
      until(async () => {
        const r = await exec("curl", ["-sf", "-m", "2", `http://127.0.0.1:${port}/index.html`]);
        return r.code === 0 && r.stdout;
      });
    assert.equal(await fetch(), "hello\n");
    assert.equal(await ok(d, ["exec", id, "cat", "/index.html"]), "hello");
    const tty = await ok(d, ["exec", "-t", id, "sh", "-c", "test -t 1 && echo tty"]);
    assert.equal(tty.replace(/\r/g, ""), "tty");
    assert.equal(await ok(d, ["logs", id]), "started");
    assert.match(await ok(d, ["top", id]), /httpd/);
    await ok(d, ["pause", id]);
    assert.equal((await inspect(d, id)).State.Paused, true);
    await ok(d, ["unpause", id]);
    // runsc has no update of its own: the sandbox's cgroup on the host takes the limit.
    await ok(d, ["update", "--memory", "96m", "--memory-swap", "128m", id]);
    assert.equal((await inspect(d, id)).HostConfig.Memory, 96 * 1024 * 1024);
    assert.match(await ok(d, ["stats", "--no-stream", "--format", "{{.MemUsage}}", id]), /\/ 96MiB$/);
    // runsc takes the veth's addresses over: the next start needs a network namespace set up afresh.
    await ok(d, ["restart", "-t", "1", id]);
    assert.equal(await fetch(), "hello\n");
    await ok(d, ["rm", "-f", id]);
  });

  test("a runsc container outlives a daemon restart and is driven by runsc again after it", async () => {
    const id = await ok(d, ["run", "-d", "--runtime", "runsc", "busybox", "sleep", "600"]);
    await d.restart();
    assert.equal((await inspect(d, id)).State.Running, true);
    assert.equal(
      await ok(d, ["exec", id, "uname", "-r"]),
      await ok(d, ["run", "--rm", "--runtime", "runsc", "busybox", "uname", "-r"]),
    );
    assert.match(await ok(d, ["top", id]), /sleep/);
    await ok(d, ["kill", id]);
    assert.equal(await ok(d, ["wait", id]), "137");
    await ok(d, ["rm", id]);
  });

  test("DNS by container name on a user network", async () => {
    await ok(d, ["network", "create", "rtnet"]);
    await ok(d, [
      "run",
      "-d",
      "--name",
      "srv",
      "--network",
      "rtnet",
      "--runtime",
      "runsc",
      "busybox",
      "httpd",
      "-f",
      "-p",
      "80",
      "-h",
      "/etc",
    ]);
    const out = await until(async () => {
      const r = await docker(d, [
        "run",
        "--rm",
        "--network",
        "rtnet",
        "--runtime",
        "runsc",
        "busybox",
        "wget",
        // Not -T: busybox's wget with a timeout dies of SIGSEGV under this runsc.
        "-q",
        "-O-",
        "http://srv/hostname",
      ]);
      return r.code === 0 && r.stdout.trim();
    });
    assert.equal(out, (await inspect(d, "srv")).Config.Hostname);
    await ok(d, ["rm", "-f", "srv"]);
    await ok(d, ["network", "rm", "rtnet"]);
  });
});
