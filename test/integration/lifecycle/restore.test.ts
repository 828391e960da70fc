// biome-ignore-all lint/suspicious/noExplicitAny: tests read Docker's JSON documents field by field
/**
 * Live restore: containers outlive a SIGKILLed (or gracefully stopped) daemon, keep logging, and a new
 * daemon on the same roots reconnects to them: state, logs -f, exec, stats, stop, healthchecks, and the
 * exits that happened while it was down.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { api, DOCKER, importBusybox, startDaemon, type TestDaemon } from "../../helpers/daemon.ts";
import { inspect, ok, until } from "./common.ts";

let d: TestDaemon;

before(async () => {
  d = await startDaemon({ name: "restore" });
  await importBusybox(d);
});
after(async () => {
  await d?.stop();
});

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe("live restore", () => {
  test("after SIGKILL of the daemon, containers run on and the new daemon takes them back", async () => {
    const ticker = await ok(d, [
      "run",
      "-d",
      "--name",
      "ticker",
      "--health-cmd",
      "true",
      "--health-interval",
      "200ms",
      "busybox",
      "sh",
      "-c",
      'i=0; while true; do echo "tick $i"; i=$((i+1)); sleep 0.1; done',
    ]);
    const shortLived = await ok(d, [
      "run",
      "-d",
      "--name",
      "short",
      "busybox",
      "sh",
      "-c",
      "sleep 1; exit 7",
    ]);
    const always = await ok(d, [
      "run",
      "-d",
      "--restart",
      "always",
      "busybox",
      "sh",
      "-c",
      "sleep 1; exit 1",
    ]);
    await until(async () => (await inspect(d, ticker)).State.Health?.Status === "healthy");
    const pid = (await inspect(d, ticker)).State.Pid;
    const startedAt = (await inspect(d, ticker)).State.StartedAt;
    const linesAtKill = (await ok(d, ["logs", "ticker"])).split("\n").length;
    await d.restart({ kill: true });
    assert.ok(pidAlive(pid), "container survived the daemon");
    // While the daemon was down the short-lived container exited; give it time to, then look.
    await new Promise((r) => setTimeout(r, 1500));
    const t = await inspect(d, ticker);
    assert.equal(t.State.Running, true);
    assert.equal(t.State.Pid, pid);
    assert.equal(t.State.StartedAt, startedAt);
    const s = await until(async () => {
      const c = await inspect(d, shortLived);
      return c.State.Running ? undefined : c;
    });
    assert.equal(s.State.ExitCode, 7);
    assert.notEqual(s.State.FinishedAt, "0001-01-01T00:00:00Z");
    // The restart policy keeps applying after reconnecting.
    await until(async () => (await inspect(d, always)).RestartCount >= 1);
    // Logs kept flowing while the daemon was away, and follow works on the reconnected container.
    // The log kept growing while no daemon ran (a loaded machine prints fewer than ten lines a second).
    const before = (await ok(d, ["logs", "ticker"])).split("\n").length;
    assert.ok(before > linesAtKill, `${before} lines now, ${linesAtKill} when the daemon was killed`);
    const follow = spawn(DOCKER, ["-H", d.host, "logs", "-f", "--tail", "0", "ticker"], {
      env: { ...process.env, DOCKER_CONFIG: join(d.dir, "docker-config") },
    });
    let followed = "";
    follow.stdout.on("data", (c: Buffer) => {
      followed += c.toString();
    });
    await until(async () => /tick \d+/.test(followed));
    assert.equal(await ok(d, ["exec", "ticker", "echo", "exec-ok"]), "exec-ok");
    const st = await api<Record<string, any>>(
      d,
      "GET",
      `/containers/${ticker}/stats?stream=false&one-shot=1`,
    );
    assert.ok(st.pids_stats.current >= 1);
    assert.ok(st.memory_stats.usage > 0);
    await until(async () => {
      const h = (await inspect(d, ticker)).State.Health;
      return h?.Status === "healthy" && h.Log.length === 5;
    });
    const exited = new Promise((r) => follow.once("exit", r));
    await ok(d, ["stop", "-t", "1", "ticker"]);
    await exited;
    assert.equal((await inspect(d, ticker)).State.Running, false);
    assert.ok(!pidAlive(pid));
    await ok(d, ["rm", "-f", ticker, shortLived, always]);
  });

  test("a graceful daemon stop leaves containers running", async () => {
    const id = await ok(d, ["run", "-d", "busybox", "sleep", "600"]);
    const pid = (await inspect(d, id)).State.Pid;
    await d.restart({ kill: false });
    assert.ok(pidAlive(pid));
    const c = await inspect(d, id);
    assert.equal(c.State.Running, true);
    assert.equal(c.State.Pid, pid);
    await ok(d, ["kill", id]);
    assert.equal((await inspect(d, id)).State.ExitCode, 137);
    await ok(d, ["rm", id]);
  });
});
