import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  COMPOSE_VERSION,
  checkCycles,
  configHash,
  containerLabels,
  containerName,
  dependents,
  dependsOnLabel,
  desiredReplicas,
  imageName,
  networkName,
  startLevels,
  stopLevels,
  volumeName,
  withDependencies,
} from "./model.ts";
import { testProject } from "./testing.ts";

describe("naming", () => {
  const p = testProject(
    { web: {}, named: { container_name: "custom" }, built: { image: undefined, build: { context: "/x" } } },
    {
      networks: { default: { name: "p_default" }, ext: { name: "shared", external: true } },
      volumes: { data: { name: "p_data" }, outside: { name: "real", external: true } },
    },
  );

  it("names containers, images, networks and volumes as docker compose does", () => {
    assert.equal(containerName("p", p.services.web, 1), "p-web-1");
    assert.equal(containerName("p", p.services.named, 1), "custom");
    assert.equal(imageName("p", p.services.built), "p-built");
    assert.equal(imageName("p", p.services.web), "web:latest");
    assert.equal(networkName(p, "default"), "p_default");
    assert.equal(networkName(p, "ext"), "shared");
    assert.equal(volumeName(p, "data"), "p_data");
    assert.equal(volumeName(p, "outside"), "real");
  });

  it("labels containers with the compose keys", () => {
    const svc = {
      ...p.services.web,
      depends_on: { db: { condition: "service_healthy" as const, required: true, restart: true } },
    };
    const l = containerLabels(p, svc, { number: 2, imageId: "sha256:abc" });
    assert.deepEqual(l, {
      "com.docker.compose.project": "p",
      "com.docker.compose.service": "web",
      "com.docker.compose.container-number": "2",
      "com.docker.compose.oneoff": "False",
      "com.docker.compose.config-hash": configHash(svc),
      "com.docker.compose.project.working_dir": "/src/p",
      "com.docker.compose.project.config_files": "/src/p/compose.yaml",
      "com.docker.compose.version": COMPOSE_VERSION,
      "com.docker.compose.depends_on": "db:service_healthy:true",
      "com.docker.compose.image": "sha256:abc",
    });
    assert.equal(
      containerLabels(p, p.services.web, { number: 1, oneoff: true })["com.docker.compose.oneoff"],
      "True",
    );
  });

  it("writes depends_on as name:condition:restart", () => {
    assert.equal(
      dependsOnLabel({
        name: "x",
        depends_on: {
          a: { condition: "service_started", required: true },
          b: { condition: "service_completed_successfully", required: false, restart: true },
        },
      }),
      "a:service_started:false,b:service_completed_successfully:true",
    );
  });
});

describe("configHash", () => {
  it("is stable across key order and ignores scale, build and depends_on", () => {
    const a = configHash({ name: "s", image: "x", environment: { A: "1", B: "2" } });
    const b = configHash({ environment: { B: "2", A: "1" }, image: "x", name: "s" });
    assert.equal(a, b);
    assert.match(a, /^[0-9a-f]{64}$/);
    assert.equal(
      configHash({
        name: "s",
        image: "x",
        environment: { A: "1", B: "2" },
        scale: 3,
        deploy: { replicas: 3 },
      }),
      a,
    );
    assert.equal(
      configHash({
        name: "s",
        image: "x",
        environment: { A: "1", B: "2" },
        build: { context: "/y" },
        depends_on: { d: { condition: "service_started", required: true } },
      }),
      a,
    );
  });

  it("changes with anything the container is made from", () => {
    const base = configHash({ name: "s", image: "x" });
    assert.notEqual(configHash({ name: "s", image: "y" }), base);
    assert.notEqual(configHash({ name: "s", image: "x", command: ["a"] }), base);
    assert.notEqual(
      configHash({ name: "s", image: "x", deploy: { resources: { limits: { memory: 1 } } } }),
      base,
    );
  });
});

describe("dependency graph", () => {
  const p = testProject({
    web: { depends_on: { api: { condition: "service_started", required: true } } },
    api: {
      depends_on: {
        db: { condition: "service_healthy", required: true },
        cache: { condition: "service_started", required: true },
      },
    },
    db: {},
    cache: {},
    worker: { network_mode: "service:api", networks: undefined },
    tool: { links: ["db:database"] },
  });

  it("orders starts level by level and stops in reverse", () => {
    assert.deepEqual(startLevels(p), [
      ["cache", "db"],
      ["api", "tool"],
      ["web", "worker"],
    ]);
    assert.deepEqual(stopLevels(p), [
      ["web", "worker"],
      ["api", "tool"],
      ["cache", "db"],
    ]);
    assert.deepEqual(startLevels(p, ["web", "api"]), [["api"], ["web"]]);
  });

  it("closes a selection over its dependencies and finds dependents", () => {
    assert.deepEqual(withDependencies(p, ["web"]), ["api", "cache", "db", "web"]);
    assert.deepEqual(withDependencies(p, ["tool"]), ["db", "tool"]);
    assert.deepEqual(withDependencies(p, []), ["api", "cache", "db", "tool", "web", "worker"]);
    assert.deepEqual(dependents(p, ["db"]), ["api", "tool", "web", "worker"]);
  });

  it("detects cycles and names them", () => {
    const c = testProject({
      a: { depends_on: { b: { condition: "service_started", required: true } } },
      b: { depends_on: { c: { condition: "service_started", required: true } } },
      c: { depends_on: { a: { condition: "service_started", required: true } } },
    });
    assert.throws(() => checkCycles(c), /dependency cycle detected: a -> b -> c -> a/);
    assert.throws(() => startLevels(c), /dependency cycle/);
  });

  it("counts replicas from --scale, scale, deploy.replicas", () => {
    assert.equal(desiredReplicas({ name: "s" }), 1);
    assert.equal(desiredReplicas({ name: "s", deploy: { replicas: 2 } }), 2);
    assert.equal(desiredReplicas({ name: "s", scale: 3 }), 3);
    assert.equal(desiredReplicas({ name: "s", scale: 3 }, { s: 0 }), 0);
  });
});
