import assert from "node:assert/strict";
import { test } from "node:test";
import { FakeEngine } from "./fakes.ts";

test("inspect and list are views of the container's one state", async (t) => {
  const e = await FakeEngine.create();
  t.after(() => e.close());
  t.mock.timers.enable({ apis: ["setTimeout"] });
  const c = await e.createContainer({ RestartPolicy: { Name: "always" } });
  const row = () => e.queries.list({ all: true }).find((s) => s.Id === c.id);
  assert.equal(row()?.State, "created");
  assert.equal(row()?.Status, "Created");
  await e.lifecycle.start(c.id);
  assert.equal(row()?.State, "running");
  assert.match(row()?.Status ?? "", /^Up /);
  await e.supervisor.pause(c.id);
  assert.equal(row()?.State, "paused");
  assert.match(row()?.Status ?? "", /\(Paused\)$/);
  assert.deepEqual(e.queries.counts(), { total: 1, running: 0, paused: 1, stopped: 0 });
  await e.supervisor.unpause(c.id);
  e.runtime.exit(c.id, 3);
  await c.exitHandled;
  assert.equal(row()?.State, "restarting");
  assert.match(row()?.Status ?? "", /^Restarting \(3\) /);
  assert.deepEqual(e.queries.list({ filters: { status: ["restarting"] } }).length, 1);
  await e.lifecycle.stop(c.id, {});
  assert.match(row()?.Status ?? "", /^Exited \(3\) /);
  assert.deepEqual(e.queries.list({ all: true, filters: { exited: ["3"] } }).length, 1);
  assert.deepEqual(e.queries.list({}), [], "stopped containers only with -a");

  const inspect = e.queries.inspect(c.id);
  assert.equal(inspect.State.Status, "exited");
  assert.equal(inspect.State.ExitCode, 3);
  assert.equal(inspect.RestartCount, 0);
  assert.equal(inspect.ExecIDs, null);
  // The view is a copy: changing it changes nothing.
  inspect.State.Running = true;
  assert.equal(e.queries.inspect(c.id).State.Running, false);

  c.state.setRemovalInProgress();
  assert.equal(row()?.State, "removing");
  assert.equal(row()?.Status, "Removal In Progress");
});

test("the list's kept JSON is the JSON of the list, through changes of state, name and networking", async (t) => {
  const e = await FakeEngine.create();
  t.after(() => e.close());
  t.mock.timers.enable({ apis: ["Date", "setTimeout"], now: Date.now() });
  const same = (opts: Parameters<typeof e.queries.list>[0] = { all: true }) =>
    assert.equal(e.queries.listJson(opts).toString(), `${JSON.stringify(e.queries.list(opts))}\n`);
  same();
  const [a, b] = [await e.createContainer(), await e.createContainer()];
  same();
  await e.lifecycle.start(a.id);
  same();
  same({});
  t.mock.timers.tick(65_000); // "Up About a minute": the status follows the clock, the rest is kept
  same();
  await e.registry.rename(b.id, "renamed");
  same();
  assert.match(e.queries.listJson({ all: true }).toString(), /"\/renamed"/);
  await e.supervisor.pause(a.id);
  same();
  await e.supervisor.unpause(a.id);
  e.runtime.exit(a.id, 3);
  await a.exitHandled;
  same();
  same({ limit: 1 });
  same({ all: true, filters: { exited: ["3"] } });

  const port = { PrivatePort: 80, PublicPort: 8080, Type: "tcp" as const, IP: "0.0.0.0" };
  e.network.summaries.set(b.id, { ports: [port], networks: {} });
  assert.doesNotMatch(e.queries.listJson({ all: true }).toString(), /8080/, "kept until the version moves");
  e.network.version++;
  same();
  assert.match(e.queries.listJson({ all: true }).toString(), /"PublicPort":8080/);
});
