// biome-ignore-all lint/suspicious/noExplicitAny: tests read Docker's JSON documents field by field
/**
 * Healthchecks (from --health-* and from the image), restart policies, --log-driver none and the events
 * stream's since/until/filters, with real containers through the docker CLI.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { api, docker, importBusybox, startDaemon, type TestDaemon } from "../../helpers/daemon.ts";
import { eventsBetween, inspect, ok, until } from "./common.ts";

let d: TestDaemon;

before(async () => {
  d = await startDaemon({ name: "health" });
  await importBusybox(d);
});
after(async () => {
  await d?.stop();
});

describe("healthchecks", () => {
  test("a healthcheck goes healthy, then unhealthy, with events, ps status and the health filter", async () => {
    const since = (Date.now() / 1000).toFixed(3);
    const id = await ok(d, [
      "run",
      "-d",
      "--name",
      "probed",
      "--health-cmd",
      "cat /ok",
      "--health-interval",
      "200ms",
      "--health-timeout",
      "2s",
      "--health-retries",
      "2",
      "busybox",
      "sh",
      "-c",
      "echo up > /ok; sleep 600",
    ]);
    const hc = (await inspect(d, id)).Config.Healthcheck;
    assert.deepEqual(hc.Test, ["CMD-SHELL", "cat /ok"]);
    assert.equal(hc.Interval, 200_000_000);
    assert.equal(hc.Timeout, 2e9);
    assert.equal(hc.Retries, 2);
    await until(async () => (await inspect(d, id)).State.Health?.Status === "healthy");
    assert.match(await ok(d, ["ps", "--filter", "name=probed", "--format", "{{.Status}}"]), /\(healthy\)$/);
    assert.equal(await ok(d, ["ps", "-q", "--no-trunc", "--filter", "health=healthy"]), id);
    const good = (await inspect(d, id)).State.Health;
    assert.equal(good.FailingStreak, 0);
    assert.equal(good.Log.at(-1).ExitCode, 0);
    assert.equal(good.Log.at(-1).Output, "up\n");
    assert.match(good.Log.at(-1).Start, /^\d{4}-\d\d-\d\dT.*Z$/);
    await ok(d, ["exec", id, "rm", "/ok"]);
    await until(async () => (await inspect(d, id)).State.Health?.Status === "unhealthy");
    const bad = (await inspect(d, id)).State.Health;
    assert.ok(bad.FailingStreak >= 2);
    assert.ok(bad.Log.length <= 5);
    assert.equal(bad.Log.at(-1).ExitCode, 1);
    assert.match(bad.Log.at(-1).Output, /No such file/);
    assert.match(await ok(d, ["ps", "--filter", "name=probed", "--format", "{{.Status}}"]), /\(unhealthy\)$/);
    const ev = await eventsBetween(d, since, { container: [id], event: ["health_status"] });
    assert.deepEqual(
      ev.map((e) => e.Action),
      ["health_status: healthy", "health_status: unhealthy"],
    );
    await ok(d, ["rm", "-f", id]);
  });

  test("a probe over its timeout fails with Docker's message", async () => {
    const id = await ok(d, [
      "run",
      "-d",
      "--health-cmd",
      "sleep 5",
      "--health-interval",
      "100ms",
      "--health-timeout",
      "200ms",
      "--health-retries",
      "1",
      "busybox",
      "sleep",
      "600",
    ]);
    await until(async () => (await inspect(d, id)).State.Health?.Status === "unhealthy");
    const log = (await inspect(d, id)).State.Health.Log;
    assert.equal(log[0].ExitCode, -1);
    assert.match(log[0].Output, /Health check exceeded timeout \(200ms\)/);
    await ok(d, ["rm", "-f", id]);
  });

  test("the image's healthcheck applies; --no-healthcheck and NONE turn it off; start period", async () => {
    const img = await api<{ Id: string }>(
      d,
      "POST",
      "/commit?repo=busybox-health&tag=latest&changes=" +
        encodeURIComponent('HEALTHCHECK --interval=100ms --retries=1 CMD ["true"]') +
        `&container=${await ok(d, ["create", "busybox"])}`,
    ).catch(() => undefined);
    if (img) {
      const id = await ok(d, ["run", "-d", "busybox-health", "sleep", "600"]);
      await until(async () => (await inspect(d, id)).State.Health?.Status === "healthy");
      const off = await ok(d, ["run", "-d", "--no-healthcheck", "busybox-health", "sleep", "600"]);
      assert.equal((await inspect(d, off)).State.Health, undefined);
      await ok(d, ["rm", "-f", id, off]);
    }
    // Failures within the start period do not count: still "starting", streak 0.
    const s = await ok(d, [
      "run",
      "-d",
      "--health-cmd",
      "false",
      "--health-interval",
      "10s",
      "--health-start-period",
      "30s",
      "--health-start-interval",
      "100ms",
      "busybox",
      "sleep",
      "600",
    ]);
    await until(async () => ((await inspect(d, s)).State.Health?.Log?.length ?? 0) >= 2);
    const h = (await inspect(d, s)).State.Health;
    assert.equal(h.Status, "starting");
    assert.equal(h.FailingStreak, 0);
    assert.match(
      await ok(d, ["ps", "--filter", `id=${s}`, "--format", "{{.Status}}"]),
      /\(health: starting\)$/,
    );
    await ok(d, ["rm", "-f", s]);
  });
});

describe("restart policies and logs", () => {
  test("on-failure:2 restarts twice, then stays exited", async () => {
    const since = (Date.now() / 1000).toFixed(3);
    const id = await ok(d, ["run", "-d", "--restart", "on-failure:2", "busybox", "sh", "-c", "exit 3"]);
    await until(async () => {
      const c = await inspect(d, id);
      return c.RestartCount === 2 && !c.State.Running && !c.State.Restarting ? c : undefined;
    });
    await new Promise((r) => setTimeout(r, 1000));
    const c = await inspect(d, id);
    assert.equal(c.RestartCount, 2);
    assert.equal(c.State.Status, "exited");
    assert.equal(c.State.ExitCode, 3);
    const ev = await eventsBetween(d, since, { container: [id], event: ["start", "die"] });
    assert.deepEqual(
      ev.map((e) => e.Action),
      ["start", "die", "start", "die", "start", "die"],
    );
    assert.ok(ev.filter((e) => e.Action === "die").every((e) => e.Actor.Attributes.exitCode === "3"));
    await ok(d, ["rm", id]);
  });

  test("--log-driver none keeps no log and logs says the driver cannot read", async () => {
    const id = await ok(d, ["run", "-d", "--log-driver", "none", "busybox", "echo", "hidden"]);
    await api(d, "POST", `/containers/${id}/wait`);
    const r = await docker(d, ["logs", id]);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /configured logging driver does not support reading/);
    assert.equal((await inspect(d, id)).HostConfig.LogConfig.Type, "none");
    const bad = await docker(d, ["create", "--log-driver", "bogus", "busybox"]);
    assert.match(bad.stderr, /no log driver named 'bogus'/);
    await ok(d, ["rm", id]);
  });
});

describe("events", () => {
  test("docker events --since/--until replays Docker's actions and attributes, filtered", async () => {
    const since = (Date.now() / 1000).toFixed(3);
    const id = await ok(d, ["create", "--name", "evt", "--label", "team=blue", "busybox", "sleep", "600"]);
    await ok(d, ["start", id]);
    await ok(d, ["exec", id, "true"]);
    await ok(d, ["pause", id]);
    await ok(d, ["unpause", id]);
    await ok(d, ["rename", "evt", "evt2"]);
    await ok(d, ["kill", "-s", "USR1", id]);
    await ok(d, ["restart", "-t", "0", id]);
    await ok(d, ["stop", "-t", "0", id]);
    await ok(d, ["rm", id]);
    const until_ = ((Date.now() + 50) / 1000).toFixed(3);
    await new Promise((r) => setTimeout(r, 100));
    const out = await ok(d, [
      "events",
      "--since",
      since,
      "--until",
      until_,
      "--filter",
      `container=${id}`,
      "--format",
      "{{.Action}} {{.Actor.Attributes.name}} {{.Actor.Attributes.exitCode}}{{.Actor.Attributes.signal}}",
    ]);
    const lines = out.split("\n").map((l) => l.replaceAll("<no value>", "").trim());
    for (const want of [
      "create evt",
      "start evt",
      "exec_create: true evt",
      "exec_start: true evt",
      "exec_die evt 0",
      "pause evt",
      "unpause evt",
      "rename evt2",
      "kill evt2 10",
      "restart evt2",
      "stop evt2",
      "destroy evt2",
    ])
      assert.ok(lines.includes(want), `missing "${want}" in\n${out}`);
    assert.ok(lines.includes("kill evt2 15") && lines.includes("die evt2 137"), out);
    const filtered = await ok(d, [
      "events",
      "--since",
      since,
      "--until",
      until_,
      "--filter",
      "event=pause",
      "--filter",
      "label=team=blue",
      "--format",
      "{{.Action}} {{.Actor.Attributes.team}}",
    ]);
    assert.equal(filtered, "pause blue");
    const ev = await eventsBetween(d, since, { container: [id], event: ["rename"] });
    assert.equal(ev[0].Actor.Attributes.oldName, "/evt");
    const until0 = await docker(d, ["events", "--since", since, "--until", since], { timeoutMs: 10_000 });
    assert.equal(until0.code, 0, "until in the past ends the stream");
  });
});
