import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { ContainerSummary } from "../apitypes/index.ts";
import { type ContainerAction, type EngineState, planDown, planUp, type UpPlan } from "./plan.ts";
import { testContainer, testProject } from "./testing.ts";

const empty = (containers: ContainerSummary[] = [], extra: Partial<EngineState> = {}): EngineState => ({
  containers,
  networks: [],
  volumes: [],
  ...extra,
});

/** `service:kind:number` for each action, level by level. */
function summary(plan: UpPlan): string[][] {
  return plan.levels.map((l) =>
    l.flatMap((s) =>
      s.actions.map(
        (a: ContainerAction) => `${a.service}:${a.kind}:${"number" in a ? a.number : a.container.number}`,
      ),
    ),
  );
}

const project = testProject(
  {
    web: {
      depends_on: { db: { condition: "service_healthy", required: true } },
      volumes: [{ type: "volume", source: "data", target: "/d" }],
    },
    db: {},
  },
  { volumes: { data: { name: "p_data" }, unused: { name: "p_unused" } } },
);

describe("planUp", () => {
  it("creates everything on an empty engine, dependencies first", () => {
    const plan = planUp(project, empty());
    assert.deepEqual(plan.networks, [{ key: "default", name: "p_default", action: "create" }]);
    assert.deepEqual(
      plan.volumes.map((v) => `${v.name}:${v.action}`),
      ["p_data:create", "p_unused:create"],
    );
    assert.deepEqual(summary(plan), [["db:create:1"], ["web:create:1"]]);
    assert.deepEqual(plan.levels[1][0].waitFor, [
      { service: "db", condition: "service_healthy", required: true },
    ]);
    assert.equal(
      plan.levels[1][0].actions[0].kind === "create" && plan.levels[1][0].actions[0].name,
      "p-web-1",
    );
  });

  it("is idempotent: running, unchanged containers are kept and stopped ones started", () => {
    const state = empty(
      [testContainer(project, "db", 1), testContainer(project, "web", 1, { state: "exited" })],
      {
        networks: [{ Name: "p_default", Id: "n1", Labels: { "com.docker.compose.project": "p" } }],
        volumes: [{ Name: "p_data" }, { Name: "p_unused" }],
      },
    );
    const plan = planUp(project, state);
    assert.deepEqual(summary(plan), [["db:keep:1"], ["web:start:1"]]);
    assert.deepEqual(plan.networks, [{ key: "default", name: "p_default", action: "exists", id: "n1" }]);
    assert.deepEqual(
      plan.volumes.map((v) => v.action),
      ["exists", "exists"],
    );
  });

  it("recreates a container whose config hash changed, unless --no-recreate", () => {
    const state = empty([testContainer(project, "db", 1, { hash: "old" }), testContainer(project, "web", 1)]);
    assert.deepEqual(summary(planUp(project, state)), [["db:recreate:1"], ["web:keep:1"]]);
    assert.deepEqual(summary(planUp(project, state, { noRecreate: true })), [["db:keep:1"], ["web:keep:1"]]);
  });

  it("recreates when the image behind the service changed", () => {
    const state = empty(
      [testContainer(project, "db", 1, { imageId: "sha256:old" }), testContainer(project, "web", 1)],
      {
        images: { "db:latest": "sha256:new" },
      },
    );
    assert.deepEqual(summary(planUp(project, state)), [["db:recreate:1"], ["web:keep:1"]]);
  });

  it("--force-recreate recreates the named services, not their dependencies", () => {
    const state = empty([testContainer(project, "db", 1), testContainer(project, "web", 1)]);
    assert.deepEqual(summary(planUp(project, state, { forceRecreate: true })), [
      ["db:recreate:1"],
      ["web:recreate:1"],
    ]);
    assert.deepEqual(summary(planUp(project, state, { forceRecreate: true, services: ["web"] })), [
      ["db:keep:1"],
      ["web:recreate:1"],
    ]);
    assert.deepEqual(
      summary(planUp(project, state, { forceRecreate: true, services: ["web"], alwaysRecreateDeps: true })),
      [["db:recreate:1"], ["web:recreate:1"]],
    );
  });

  it("--no-deps leaves dependencies out", () => {
    const plan = planUp(project, empty(), { services: ["web"], noDeps: true });
    assert.deepEqual(summary(plan), [["web:create:1"]]);
    assert.deepEqual(plan.levels[0][0].waitFor, []);
  });

  it("scales up with the next numbers and down from the highest", () => {
    const up = planUp(project, empty([testContainer(project, "web", 1), testContainer(project, "db", 1)]), {
      scale: { web: 3 },
    });
    assert.deepEqual(summary(up), [["db:keep:1"], ["web:keep:1", "web:create:2", "web:create:3"]]);
    const down = planUp(
      project,
      empty([
        testContainer(project, "db", 1),
        testContainer(project, "web", 1),
        testContainer(project, "web", 2),
        testContainer(project, "web", 3),
      ]),
      { scale: { web: 1 } },
    );
    assert.deepEqual(summary(down), [["db:keep:1"], ["web:remove:2", "web:remove:3", "web:keep:1"]]);
  });

  it("removes outdated or stopped containers first when scaling down", () => {
    const plan = planUp(
      project,
      empty([
        testContainer(project, "db", 1),
        testContainer(project, "web", 1, { hash: "old" }),
        testContainer(project, "web", 2),
      ]),
      { scale: { web: 1 } },
    );
    assert.deepEqual(summary(plan)[1], ["web:remove:1", "web:keep:2"]);
  });

  it("numbers new containers after the highest existing one", () => {
    const plan = planUp(project, empty([testContainer(project, "web", 4), testContainer(project, "db", 1)]), {
      scale: { web: 2 },
    });
    assert.deepEqual(summary(plan)[1], ["web:keep:4", "web:create:5"]);
  });

  it("reports orphans, and marks them for removal with --remove-orphans", () => {
    const state = empty([
      testContainer(project, "db", 1),
      testContainer(project, "web", 1),
      testContainer(project, "old", 1),
      testContainer(project, "web", 9, { oneoff: true }),
      testContainer(project, "else", 1, { projectName: "other" }),
    ]);
    const plan = planUp(project, state);
    assert.deepEqual(
      plan.orphans.map((c) => c.name),
      ["p-old-1"],
    );
    assert.equal(plan.removeOrphans, false);
    assert.match(plan.warnings[0], /Found orphan containers \(\[p-old-1\]\) for this project/);
    const rm = planUp(project, state, { removeOrphans: true });
    assert.equal(rm.removeOrphans, true);
    assert.deepEqual(rm.warnings, []);
  });

  it("restarts dependents whose depends_on says restart when a dependency is recreated", () => {
    const p = testProject({
      web: { depends_on: { db: { condition: "service_started", required: true, restart: true } } },
      db: {},
    });
    const plan = planUp(p, empty([testContainer(p, "db", 1, { hash: "old" }), testContainer(p, "web", 1)]));
    assert.deepEqual(summary(plan), [["db:recreate:1"], ["web:restart:1"]]);
  });

  it("fails on missing external resources and impossible names", () => {
    const ext = testProject(
      { web: { networks: { outside: null }, volumes: [{ type: "volume", source: "v", target: "/v" }] } },
      {
        networks: { outside: { name: "shared", external: true } },
        volumes: { v: { name: "vol", external: true } },
      },
    );
    assert.throws(() => planUp(ext, empty()), /network shared declared as external, but could not be found/);
    assert.throws(
      () => planUp(ext, empty([], { networks: [{ Name: "shared", Id: "x" }] })),
      /external volume "vol" not found/,
    );
    const plan = planUp(
      ext,
      empty([], { networks: [{ Name: "shared", Id: "x" }], volumes: [{ Name: "vol" }] }),
    );
    assert.deepEqual(
      [...plan.networks, ...plan.volumes].map((r) => r.action),
      ["external", "external"],
    );
    const named = testProject({ web: { container_name: "fixed" } });
    assert.throws(() => planUp(named, empty(), { scale: { web: 2 } }), /container_name/);
    assert.throws(() => planUp(project, empty(), { services: ["nope"] }), /no such service: nope/);
  });
});

describe("planDown", () => {
  const state = empty(
    [
      testContainer(project, "db", 1),
      testContainer(project, "web", 1),
      testContainer(project, "web", 2),
      testContainer(project, "web", 7, { oneoff: true }),
      testContainer(project, "gone", 1),
      testContainer(project, "x", 1, { projectName: "other" }),
    ],
    {
      networks: [
        { Name: "p_default", Id: "n1", Labels: { "com.docker.compose.project": "p" } },
        { Name: "bridge", Id: "b" },
      ],
      volumes: [
        { Name: "p_data", Labels: { "com.docker.compose.project": "p" } },
        { Name: "p_unused", Labels: { "com.docker.compose.project": "someone-else" } },
      ],
    },
  );

  it("removes dependents first, then the project network; volumes only with -v", () => {
    const plan = planDown(project, state);
    assert.deepEqual(
      plan.levels.map((l) => l.map((c) => c.name)),
      [["p-web-1", "p-web-2", "p-web-7"], ["p-db-1"]],
    );
    assert.deepEqual(plan.networks, [{ key: "default", name: "p_default", id: "n1" }]);
    assert.deepEqual(plan.volumes, []);
    assert.match(plan.warnings[0], /orphan containers \(\[p-gone-1\]\)/);
    const v = planDown(project, state, { volumes: true, removeOrphans: true });
    assert.deepEqual(v.volumes, [{ key: "data", name: "p_data" }], "another project's volume is left alone");
    assert.deepEqual(
      v.levels[0].map((c) => c.name),
      ["p-gone-1"],
    );
  });

  it("lists images for --rmi local (built ones) and all", () => {
    const p = testProject({ web: { image: undefined, build: { context: "/x" } }, db: {} });
    assert.deepEqual(planDown(p, empty(), { rmi: "local" }).images, ["p-web"]);
    assert.deepEqual(planDown(p, empty(), { rmi: "all" }).images, ["db:latest", "p-web"]);
  });

  it("leaves external networks and volumes alone", () => {
    const p = testProject(
      { web: { networks: { ext: null } } },
      {
        networks: { ext: { name: "shared", external: true } },
        volumes: { v: { name: "vol", external: true } },
      },
    );
    const plan = planDown(p, empty([], { networks: [{ Name: "shared" }], volumes: [{ Name: "vol" }] }), {
      volumes: true,
    });
    assert.deepEqual(plan.networks, []);
    assert.deepEqual(plan.volumes, []);
  });
});
