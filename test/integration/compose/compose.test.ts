/**
 * `wharf compose` against a real daemon: a project with a named volume, env from .env, a one-shot job the
 * web service waits for, brought up, inspected, changed, scaled, run, and torn down leaving nothing.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PassThrough } from "node:stream";
import { after, before, describe, it } from "node:test";
import { runCompose } from "../../../src/compose/index.ts";
import { api, importBusybox, startDaemon, type TestDaemon, WHARF } from "../../helpers/daemon.ts";
import { SERVICES, writeProject } from "./project.ts";

let d: TestDaemon;
let dir: string;

async function compose(
  args: string[],
  opts: { env?: Record<string, string>; cwd?: string; ttyInput?: string } = {},
) {
  const out = new PassThrough();
  const err = new PassThrough();
  let o = "";
  let e = "";
  out.on("data", (c: Buffer) => {
    o += c.toString();
  });
  err.on("data", (c: Buffer) => {
    e += c.toString();
  });
  const stdin = Object.assign(new PassThrough(), { isTTY: opts.ttyInput !== undefined });
  stdin.end(opts.ttyInput);
  const code = await runCompose(args, {
    out,
    err,
    in: stdin,
    cwd: opts.cwd ?? dir,
    env: { PATH: process.env.PATH, WHARF_HOST: d.host, ...opts.env },
  });
  return { code, out: o, err: e };
}

async function ok(args: string[], opts: { env?: Record<string, string> } = {}) {
  const r = await compose(args, opts);
  assert.equal(r.code, 0, `compose ${args.join(" ")} failed:\n${r.err}\n${d.output().slice(-2000)}`);
  return r;
}

interface Listed {
  Id: string;
  Names: string[];
  State: string;
  Labels: Record<string, string>;
}

async function containers(): Promise<Listed[]> {
  const all = await api<Listed[]>(d, "GET", "/containers/json?all=1");
  return all
    .filter((c) => c.Labels["com.docker.compose.project"] === "shop")
    .sort((a, b) => a.Names[0].localeCompare(b.Names[0]));
}

const COMPOSE = `name: shop\n${SERVICES}`;

before(async () => {
  d = await startDaemon({ name: "compose" });
  await importBusybox(d);
  dir = await mkdtemp(join(tmpdir(), "wharf-compose-int-"));
  await writeProject(dir, { name: "shop" });
});

after(async () => {
  await d?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** Polls a container's logs until `re` matches (the service writes it once it has started). */
async function logsUntil(service: string, re: RegExp): Promise<string> {
  let out = "";
  for (let i = 0; i < 100; i++) {
    out = (await ok(["logs", "--no-color", service])).out;
    if (re.test(out)) return out;
    await new Promise((r) => setTimeout(r, 50));
  }
  assert.match(out, re);
  return out;
}

describe("compose against the daemon", { concurrency: false }, () => {
  it("config prints the resolved model", async () => {
    const r = await ok(["config"]);
    assert.match(r.out, /^name: shop\n/);
    assert.match(r.out, /GREETING: world|- GREETING=world|GREETING=world/);
    assert.match(r.out, /name: shop_data/);
  });

  it("up -d builds, creates the volume and starts services as their dependencies allow", async () => {
    const r = await ok(["up", "-d"]);
    assert.match(r.err, /Image shop-app {2}Built/);
    assert.match(r.err, /Volume "shop_data" {2}Created/);
    // web starts only once db has been seen healthy, and db only once init completed.
    const at = (re: RegExp) => r.err.search(re);
    assert.ok(at(/Container shop-init-1 {2}Exited/) >= 0, r.err);
    assert.ok(at(/Container shop-init-1 {2}Exited/) < at(/Container shop-db-1 {2}Started/), r.err);
    assert.ok(at(/Container shop-db-1 {2}Healthy/) >= 0, r.err);
    assert.ok(at(/Container shop-db-1 {2}Healthy/) < at(/Container shop-web-1 {2}Started/), r.err);
    const cs = await containers();
    assert.deepEqual(
      cs.map((c) => `${c.Names[0]}:${c.State}`),
      ["/shop-app-1:running", "/shop-db-1:running", "/shop-init-1:exited", "/shop-web-1:running"],
    );
    const web = cs.find((c) => c.Names[0] === "/shop-web-1") as Listed;
    assert.equal(web.Labels["com.docker.compose.service"], "web");
    assert.equal(web.Labels["com.docker.compose.container-number"], "1");
    assert.equal(web.Labels["com.docker.compose.oneoff"], "False");
    assert.equal(web.Labels["com.docker.compose.project.working_dir"], dir);
    assert.deepEqual(web.Labels["com.docker.compose.depends_on"].split(",").sort(), [
      "app:service_started:false",
      "db:service_healthy:false",
    ]);
    assert.match(web.Labels["com.docker.compose.config-hash"], /^[0-9a-f]{64}$/);
    const vols = await api<{ Volumes: { Name: string; Labels: Record<string, string> }[] }>(
      d,
      "GET",
      "/volumes",
    );
    const vol = vols.Volumes.find((v) => v.Name === "shop_data");
    assert.equal(vol?.Labels?.["com.docker.compose.project"], "shop");
    assert.equal(vol?.Labels?.["com.docker.compose.volume"], "data");
  });

  it("builds the app image from its context: dockerfile path, target, args, labels, .dockerignore", async () => {
    const img = await api<{ Id: string; Config: { Labels: Record<string, string> } }>(
      d,
      "GET",
      "/images/shop-app/json",
    );
    assert.equal(img.Config.Labels["shop.built"], "yes");
    assert.equal((await ok(["exec", "-T", "app", "cat", "/flavour", "/version"])).out, "vanilla\nv1\n");
    // secret.key and node_modules stayed out (.dockerignore); the Dockerfile went although its directory is
    // ignored (whether the builder then drops it from the context, as dockerd does, is the builder's business).
    assert.equal(
      (await ok(["exec", "-T", "app", "ls", "-A", "/ctx"])).out,
      ".dockerignore\ndocker\nversion\n",
    );
    const app = await api<{ Image: string }>(d, "GET", "/containers/shop-app-1/json");
    assert.equal(app.Image, img.Id);
    await logsUntil("app", /v1/);
  });

  it("puts the services on the project network, reachable by service name", async () => {
    const nets = await api<{ Name: string; Id: string; Labels: Record<string, string> }[]>(
      d,
      "GET",
      "/networks",
    );
    const net = nets.find((n) => n.Name === "shop_default");
    assert.equal(net?.Labels?.["com.docker.compose.project"], "shop");
    assert.equal(net?.Labels?.["com.docker.compose.network"], "default");
    const web = await api<{ NetworkSettings: { Networks: Record<string, { Aliases?: string[] }> } }>(
      d,
      "GET",
      "/containers/shop-web-1/json",
    );
    assert.deepEqual(Object.keys(web.NetworkSettings.Networks), ["shop_default"]);
    assert.ok(web.NetworkSettings.Networks.shop_default.Aliases?.includes("web"));
    const r = await ok(["exec", "-T", "web", "nslookup", "db"]);
    assert.match(r.out, /Name:\s+db/);
    // web read db's answer over TCP, by name, once db was healthy.
    await logsUntil("web", /web-1 +\| web got seeded$/m);
    const db = await api<{ State: { Health: { Status: string } } }>(d, "GET", "/containers/shop-db-1/json");
    assert.equal(db.State.Health.Status, "healthy");
  });

  it("ps lists the running services", async () => {
    const r = await ok(["ps"]);
    const lines = r.out.trim().split("\n");
    assert.match(lines[0], /^NAME\s+IMAGE\s+COMMAND\s+SERVICE\s+CREATED\s+STATUS\s+PORTS$/);
    assert.deepEqual(
      lines.slice(1).map((l) => l.split(/\s+/)[0]),
      ["shop-app-1", "shop-db-1", "shop-web-1"],
    );
    assert.match(r.out, /shop-db-1 .*\(healthy\)/);
    assert.deepEqual((await ok(["ps", "-a", "--services"])).out.trim().split("\n"), [
      "app",
      "db",
      "init",
      "web",
    ]);
    assert.equal((await ok(["ps", "-q"])).out.trim().split("\n").length, 3);
  });

  it("logs prefix each line with the container", async () => {
    await logsUntil("web", /hello from web world/);
    const out = (await ok(["logs", "--no-color"])).out;
    // Prefixes are padded to the longest container label (init-1).
    assert.match(out, /^web-1 {3}\| hello from web world$/m);
    assert.match(out, /^db-1 {4}\| db up$/m);
    assert.match((await ok(["logs", "--no-log-prefix", "web"])).out, /^hello from web world$/m);
    assert.match((await ok(["logs", "--tail", "0", "web"])).out, /^$/);
  });

  it("exec runs in the service's container and returns its exit code", async () => {
    const r = await ok(["exec", "-T", "db", "cat", "/data/seed"]);
    assert.equal(r.out, "seeded\n");
    assert.equal((await ok(["exec", "-T", "db", "sh", "-c", "echo $DB_MODE"])).out, "primary\n");
    assert.equal((await compose(["exec", "-T", "web", "sh", "-c", "exit 3"])).code, 3);
    const flags = [
      "exec",
      "-T",
      "-e",
      "X=1",
      "-u",
      "1000",
      "-w",
      "/tmp",
      "web",
      "sh",
      "-c",
      "echo $X $(id -u) $PWD",
    ];
    assert.equal((await ok(flags)).out, "1 1000 /tmp\n");
    const missing = await compose(["exec", "-T", "nope", "true"]);
    assert.equal(missing.code, 1);
    assert.match(missing.err, /service "nope" is not running/);
  });

  it("up again is idempotent; a changed service alone is recreated", async () => {
    const before = await containers();
    const again = await ok(["up", "-d"]);
    assert.match(again.err, /Container shop-web-1 {2}Running/);
    assert.doesNotMatch(again.err, /Building/);
    assert.deepEqual(
      (await containers()).map((c) => c.Id),
      before.map((c) => c.Id),
    );
    await writeFile(join(dir, ".env"), "GREETING=again\nDB_MODE=primary\n");
    const r = await ok(["up", "-d"]);
    assert.match(r.err, /Container shop-web-1 {2}Recreated/);
    const after = await containers();
    const id = (cs: Listed[], n: string) => cs.find((c) => c.Names[0] === n)?.Id;
    assert.notEqual(id(after, "/shop-web-1"), id(before, "/shop-web-1"));
    for (const n of ["/shop-db-1", "/shop-app-1", "/shop-init-1"])
      assert.equal(id(after, n), id(before, n), n);
    assert.equal((await ok(["exec", "-T", "web", "sh", "-c", "echo $GREETING"])).out, "again\n");
  });

  it("up --build rebuilds; a changed image recreates only its service; --no-build and build", async () => {
    const before = await containers();
    const id = (cs: Listed[], n: string) => cs.find((c) => c.Names[0] === n)?.Id;
    await writeFile(join(dir, "app/version"), "v2\n");
    // Without --build the existing image is used as is.
    await ok(["up", "-d", "--no-build"]);
    assert.equal(id(await containers(), "/shop-app-1"), id(before, "/shop-app-1"));
    const r = await ok(["up", "-d", "--build"]);
    assert.match(r.err, /Container shop-app-1 {2}Recreated/);
    const after = await containers();
    assert.notEqual(id(after, "/shop-app-1"), id(before, "/shop-app-1"));
    for (const n of ["/shop-db-1", "/shop-web-1"]) assert.equal(id(after, n), id(before, n), n);
    assert.equal((await ok(["exec", "-T", "app", "cat", "/version"])).out, "v2\n");
    // compose build alone builds (cached now) and tags; nothing is recreated.
    const b = await ok(["build", "app"]);
    assert.match(b.err, /Image shop-app {2}Built/);
    assert.equal(id(await containers(), "/shop-app-1"), id(after, "/shop-app-1"));
  });

  it("up --wait returns once every service is running or healthy", async () => {
    const r = await ok(["up", "-d", "--wait"]);
    assert.match(r.err, /Container shop-db-1 {2}Healthy/);
    assert.match(r.err, /Container shop-web-1 {2}Started/);
  });

  it("scales a service up and down", async () => {
    await ok(["up", "-d", "--scale", "web=3"]);
    assert.deepEqual(
      (await containers())
        .filter((c) => c.Labels["com.docker.compose.service"] === "web")
        .map((c) => c.Names[0]),
      ["/shop-web-1", "/shop-web-2", "/shop-web-3"],
    );
    assert.equal((await ok(["exec", "-T", "--index", "3", "web", "hostname"])).code, 0);
    await ok(["up", "-d", "--scale", "web=1"]);
    assert.deepEqual(
      (await containers())
        .filter((c) => c.Labels["com.docker.compose.service"] === "web")
        .map((c) => c.Names[0]),
      ["/shop-web-1"],
    );
  });

  it("run starts a one-off container and --rm removes it", async () => {
    const r = await compose(["run", "--rm", "-T", "--no-deps", "db", "sh", "-c", "cat /data/seed; exit 4"]);
    assert.equal(r.code, 4, r.err);
    assert.equal(r.out, "seeded\n");
    assert.equal(
      (await containers()).filter((c) => c.Labels["com.docker.compose.oneoff"] === "True").length,
      0,
    );
  });

  it("stop, start and restart act on the project's containers", async () => {
    await ok(["stop", "web"]);
    assert.equal((await containers()).find((c) => c.Names[0] === "/shop-web-1")?.State, "exited");
    await ok(["start", "web"]);
    assert.equal((await containers()).find((c) => c.Names[0] === "/shop-web-1")?.State, "running");
    await ok(["restart", "-t", "1", "db"]);
    assert.equal((await containers()).find((c) => c.Names[0] === "/shop-db-1")?.State, "running");
    // start follows depends_on: db once init completed again, web once db is healthy again.
    await ok(["stop", "-t", "1"]);
    const r = await ok(["start"]);
    const at = (re: RegExp) => r.err.search(re);
    assert.ok(at(/Container shop-db-1 {2}Healthy/) >= 0, r.err);
    assert.ok(at(/Container shop-db-1 {2}Healthy/) < at(/Container shop-web-1 {2}Starting/), r.err);
    assert.ok(at(/Container shop-init-1 {2}Exited/) < at(/Container shop-db-1 {2}Starting/), r.err);
  });

  it("rm asks on a terminal and removes stopped containers only when told yes", async () => {
    await ok(["stop", "web"]);
    const no = await compose(["rm", "web"], { ttyInput: "n\n" });
    assert.equal(no.code, 0, no.err);
    assert.match(no.err, /\? Going to remove shop-web-1 \(y\/N\)/);
    assert.ok((await containers()).some((c) => c.Names[0] === "/shop-web-1"));
    assert.equal((await compose(["rm", "web"])).code, 1);
    assert.equal((await compose(["rm", "web"], { ttyInput: "y\n" })).code, 0);
    assert.equal(
      (await containers()).some((c) => c.Names[0] === "/shop-web-1"),
      false,
    );
    await ok(["up", "-d", "web"]);
  });

  it("reports and removes orphans", async () => {
    await writeFile(join(dir, "compose.yaml"), COMPOSE.replace(/ {2}web:[\s\S]*?(?=volumes:)/, ""));
    const r = await ok(["up", "-d"]);
    assert.match(r.err, /Found orphan containers \(\[shop-web-1\]\)/);
    await ok(["up", "-d", "--remove-orphans"]);
    assert.equal(
      (await containers()).some((c) => c.Names[0] === "/shop-web-1"),
      false,
    );
    await writeFile(join(dir, "compose.yaml"), COMPOSE);
  });

  it("down -v removes what up made and nothing else", async () => {
    await api(d, "POST", "/volumes/create", { Name: "unrelated" });
    const r = await ok(["down", "-v", "-t", "1"]);
    assert.match(r.err, /Volume shop_data {2}Removed/);
    assert.match(r.err, /Network shop_default {2}Removed/);
    const nets = await api<{ Name: string }[]>(d, "GET", "/networks");
    assert.equal(
      nets.some((n) => n.Name.startsWith("shop_")),
      false,
    );
    assert.deepEqual(await containers(), []);
    const vols = await api<{ Volumes: { Name: string }[] }>(d, "GET", "/volumes");
    assert.deepEqual(
      vols.Volumes.map((v) => v.Name).filter((n) => !/^[0-9a-f]{64}$/.test(n)),
      ["unrelated"],
    );
  });

  it("attached up follows the output until the containers exit", async () => {
    const one = await mkdtemp(join(tmpdir(), "wharf-compose-oneshot-"));
    try {
      await writeFile(
        join(one, "compose.yaml"),
        [
          "name: oneshot",
          "services:",
          "  a: {image: busybox, command: [sh, -c, 'echo from a']}",
          "  b: {image: busybox, command: [sh, -c, 'echo from b; exit 2'], depends_on: [a]}",
        ].join("\n"),
      );
      const r = await compose(["up", "--no-color"], { cwd: one });
      assert.equal(r.code, 0, r.err);
      assert.match(r.out, /^a-1 {2}\| from a$/m);
      assert.match(r.out, /^b-1 {2}\| from b$/m);
      assert.match(r.err, /oneshot-b-1 exited with code 2/);
      const x = await compose(["up", "--exit-code-from", "b"], { cwd: one });
      assert.equal(x.code, 2, x.err);
      assert.equal((await compose(["down"], { cwd: one })).code, 0);
    } finally {
      await rm(one, { recursive: true, force: true });
    }
  });
});

const EDGE = `
name: edge
services:
  inline:
    build:
      context: .
      dockerfile_inline: |
        FROM busybox
        ARG WHO=nobody
        RUN echo $$WHO > /who
    command: [cat, /who]
  outside:
    build: {context: ./ctx, dockerfile: ../outside.Dockerfile}
    pull_policy: build
    command: [cat, /marker]
  sick:
    image: busybox
    command: [sleep, "1000"]
    stop_grace_period: 0s
    healthcheck: {test: [CMD, "false"], interval: 100ms, retries: 2}
  waiter:
    image: busybox
    command: [sleep, "1000"]
    depends_on: {sick: {condition: service_healthy}}
  failing:
    image: busybox
    command: [sh, -c, "exit 3"]
  after_failing:
    image: busybox
    command: [sleep, "1000"]
    depends_on: {failing: {condition: service_completed_successfully}}
  optional:
    image: busybox
    command: [sleep, "1000"]
    stop_grace_period: 0s
    depends_on: {sick: {condition: service_healthy, required: false}}
  ghost:
    image: nothere:1
    pull_policy: never
  named:
    image: 127.0.0.1:1/edge-named:1
    build: {context: ./ctx, dockerfile: ../outside.Dockerfile}
    command: [cat, /marker]
  periodic: {image: busybox, pull_policy: daily, command: [echo, periodic]}
  base: {image: busybox, command: [sleep, "1000"], stop_grace_period: 0s}
  follower:
    image: busybox
    command: [sleep, "1000"]
    stop_grace_period: 0s
    depends_on: {base: {condition: service_started, restart: true}}
`;

describe("compose builds and dependency failures", { concurrency: false }, () => {
  let edge: string;
  const run = (args: string[]) => compose(args, { cwd: edge });
  const state = async (name: string) =>
    (await api<{ State: string; Names: string[] }[]>(d, "GET", "/containers/json?all=1")).find(
      (c) => c.Names[0] === `/${name}`,
    )?.State;

  before(async () => {
    edge = await mkdtemp(join(tmpdir(), "wharf-compose-edge-"));
    await writeFile(join(edge, "compose.yaml"), EDGE);
    await mkdir(join(edge, "ctx"));
    await writeFile(join(edge, "ctx/marker"), "marker\n");
    await writeFile(join(edge, "outside.Dockerfile"), "FROM busybox\nCOPY marker /marker\n");
  });

  after(async () => {
    if (edge) await rm(edge, { recursive: true, force: true });
  });

  it("builds an inline Dockerfile and one outside the context; build --build-arg", async () => {
    const b = await run(["build", "--build-arg", "WHO=me", "inline"]);
    assert.equal(b.code, 0, b.err);
    const r = await run(["run", "--rm", "-T", "inline"]);
    assert.equal(r.out, "me\n", r.err);
    assert.doesNotMatch(r.err, /Building/);
    // pull_policy: build builds on every up/run.
    for (let i = 0; i < 2; i++) {
      const o = await run(["run", "--rm", "-T", "outside"]);
      assert.equal(o.out, "marker\n", o.err);
      assert.match(o.err, /Image edge-outside {2}Built/);
    }
  });

  it("an image that cannot be pulled is built when the service can be; periodic pull policies", async () => {
    const r = await run(["run", "--rm", "-T", "named"]);
    assert.equal(r.out, "marker\n", r.err);
    assert.match(r.err, /named: pull failed, building 127\.0\.0\.1:1\/edge-named:1/);
    const p = await run(["run", "--rm", "-T", "periodic"]);
    assert.equal(p.out, "periodic\n", p.err);
  });

  it("a dependency that turns unhealthy fails up, naming it, and its dependent does not start", async () => {
    const r = await run(["up", "-d", "waiter"]);
    assert.equal(r.code, 1, r.err);
    assert.match(r.err, /dependency failed to start: container edge-sick-1 is unhealthy/);
    assert.match(r.err, /Service waiter {2}Error/);
    assert.notEqual(await state("edge-waiter-1"), "running");
  });

  it("an optional dependency's failure is a warning", async () => {
    const r = await run(["up", "-d", "optional"]);
    assert.equal(r.code, 0, r.err);
    assert.match(r.err, /optional dependency "sick" of "optional" failed/);
    assert.equal(await state("edge-optional-1"), "running");
  });

  it("a one-shot dependency exiting non-zero fails up, naming the service", async () => {
    const r = await run(["up", "-d", "after_failing"]);
    assert.equal(r.code, 1, r.err);
    assert.match(r.err, /service "failing" didn't complete successfully: exit 3/);
    assert.notEqual(await state("edge-after_failing-1"), "running");
  });

  it("restart of a dependency restarts dependents marked restart: true, unless --no-deps", async () => {
    assert.equal((await run(["up", "-d", "follower"])).code, 0);
    const r = await run(["restart", "base"]);
    assert.equal(r.code, 0, r.err);
    assert.match(r.err, /Container edge-follower-1 {2}Restarting/);
    const n = await run(["restart", "--no-deps", "base"]);
    assert.doesNotMatch(n.err, /follower/);
  });

  it("Ctrl-C in attached up stops the services gracefully", async () => {
    const one = await mkdtemp(join(tmpdir(), "wharf-compose-sigint-"));
    try {
      await writeFile(
        join(one, "compose.yaml"),
        [
          "name: sigint",
          "services:",
          "  loop:",
          "    image: busybox",
          "    command: [sh, -c, 'trap \"echo bye; exit 0\" TERM; echo ready; while true; do sleep 0.1; done']",
        ].join("\n"),
      );
      const child = spawn(WHARF, ["compose", "up", "--no-color"], {
        cwd: one,
        env: { PATH: process.env.PATH, WHARF_HOST: d.host },
      });
      let out = "";
      let err = "";
      child.stderr.on("data", (c: Buffer) => {
        err += c;
      });
      const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
      await new Promise<void>((resolve, reject) => {
        child.stdout.on("data", (c: Buffer) => {
          out += c;
          if (out.includes("ready")) resolve();
        });
        child.on("exit", () => reject(new Error(`compose up ended early:\n${err}`)));
      });
      child.kill("SIGINT");
      assert.equal(await exited, 130, err);
      assert.match(err, /Gracefully stopping\.\.\./);
      assert.match(out, /loop-1 {2}\| bye/);
      assert.equal(await state("sigint-loop-1"), "exited");
      assert.equal((await compose(["down"], { cwd: one })).code, 0);
    } finally {
      await rm(one, { recursive: true, force: true });
    }
  });

  it("pull_policy never fails on a missing image; down --rmi local removes the built images", async () => {
    const r = await run(["up", "-d", "ghost"]);
    assert.equal(r.code, 1);
    assert.match(r.err, /No such image: nothere:1/);
    const down = await run(["down", "-v", "-t", "0", "--rmi", "local"]);
    assert.equal(down.code, 0, down.err);
    const images = await api<{ RepoTags: string[] }[]>(d, "GET", "/images/json");
    assert.equal(
      images.some((i) => i.RepoTags.some((t) => t.startsWith("edge-"))),
      false,
    );
    const left = await api<{ Labels: Record<string, string> }[]>(d, "GET", "/containers/json?all=1");
    assert.equal(
      left.some((c) => c.Labels["com.docker.compose.project"] === "edge"),
      false,
    );
  });
});
