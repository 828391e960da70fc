// biome-ignore-all lint/suspicious/noTemplateCurlyInString: these strings are Compose templates, not JS ones
import assert from "node:assert/strict";
import { join } from "node:path";
import { describe, it } from "node:test";
import { load, tree } from "./testing.ts";

describe("extends", () => {
  it("extends a service of the same file, transitively", async () => {
    const dir = await tree({
      "compose.yaml": [
        "services:",
        "  base:",
        "    image: busybox",
        "    user: root",
        "    environment: {TZ: utc, PORT: '80'}",
        "    security_opt: [label:role:ROLE]",
        "  common:",
        "    extends: base",
        "    volumes: ['common-volume:/var/lib/backup/data:rw']",
        "  cli:",
        "    extends:",
        "      service: common",
        "    environment: {PORT: '8080'}",
        "    security_opt: [label:user:USER]",
        "    volumes: ['cli-volume:/var/lib/backup/data:ro']",
        "volumes: {common-volume: {}, cli-volume: {}}",
      ].join("\n"),
    });
    const { p } = await load(dir);
    const cli = p.services.cli;
    assert.equal(cli.image, "busybox");
    assert.equal(cli.user, "root");
    assert.deepEqual(cli.environment, { PORT: "8080", TZ: "utc" });
    assert.deepEqual(cli.security_opt, ["label:role:ROLE", "label:user:USER"]);
    assert.deepEqual(cli.volumes, [
      { type: "volume", source: "cli-volume", target: "/var/lib/backup/data", read_only: true, volume: {} },
    ]);
    assert.equal(cli.extends, undefined);
  });

  it("extends a service of another file, with that file's relative paths kept", async () => {
    const dir = await tree({
      "compose.yaml": [
        "services:",
        "  web:",
        "    extends:",
        "      file: common/services.yaml",
        "      service: webapp",
        "    ports: ['9000:8000']",
      ].join("\n"),
      "common/services.yaml": [
        "services:",
        "  webapp:",
        "    build: ./app",
        "    ports: ['8000:8000']",
        "    env_file: app.env",
        "    volumes: ['./static:/static']",
      ].join("\n"),
      "common/app.env": "FROM_COMMON=1\n",
    });
    const { p } = await load(dir);
    const web = p.services.web;
    assert.equal(web.build?.context, join(dir, "common/app"));
    assert.equal(web.volumes?.[0].source, join(dir, "common/static"));
    assert.deepEqual(web.environment, { FROM_COMMON: "1" });
    assert.deepEqual(
      web.ports?.map((x) => x.published),
      ["8000", "9000"],
    );
    assert.equal(p.services.webapp, undefined, "the base of another file is not part of the project");
  });

  it("reports cycles and missing bases", async () => {
    const cyc = await tree({
      "compose.yaml": "services:\n  a:\n    extends: b\n  b:\n    extends: a\n",
    });
    await assert.rejects(load(cyc), /circular reference with extends: a -> b -> a/);
    const missing = await tree({ "compose.yaml": "services:\n  a:\n    extends: nobody\n" });
    await assert.rejects(load(missing), /cannot extend service "a" in .*: service "nobody" not found/);
    const noFile = await tree({
      "compose.yaml": "services:\n  a:\n    extends: {file: other.yaml, service: x}\n",
    });
    await assert.rejects(load(noFile), /open .*other\.yaml: no such file or directory/);
  });
});

describe("profiles", () => {
  const spec = [
    "services:",
    "  foo: {image: foo}",
    "  bar: {image: bar, profiles: [test]}",
    "  baz: {image: baz, depends_on: [bar], profiles: [test]}",
    "  zot: {image: zot, depends_on: [bar], profiles: [debug]}",
  ].join("\n");

  it("follows the spec's example", async () => {
    const dir = await tree({ "compose.yaml": spec });
    assert.deepEqual(Object.keys((await load(dir)).p.services), ["foo"]);
    assert.deepEqual(Object.keys((await load(dir, { profiles: ["test"] })).p.services), [
      "bar",
      "baz",
      "foo",
    ]);
    await assert.rejects(
      load(dir, { profiles: ["debug"] }),
      /service "zot" depends on undefined service "bar": invalid compose project/,
    );
    assert.deepEqual(Object.keys((await load(dir, { profiles: ["debug", "test"] })).p.services).length, 4);
    assert.deepEqual(Object.keys((await load(dir, { services: ["bar"] })).p.services), ["bar", "baz", "foo"]);
    await assert.rejects(load(dir, { services: ["zot"] }), /depends on undefined service "bar"/);
    assert.deepEqual(Object.keys((await load(dir, { services: ["zot"], profiles: ["test"] })).p.services), [
      "bar",
      "baz",
      "foo",
      "zot",
    ]);
  });

  it("reads COMPOSE_PROFILES and *", async () => {
    const dir = await tree({ "compose.yaml": spec });
    assert.deepEqual(Object.keys((await load(dir, { env: { COMPOSE_PROFILES: "test" } })).p.services), [
      "bar",
      "baz",
      "foo",
    ]);
    const all = await load(dir, { profiles: ["*"] });
    assert.equal(Object.keys(all.p.services).length, 4);
  });

  it("keeps disabled services aside", async () => {
    const dir = await tree({ "compose.yaml": spec });
    assert.deepEqual(Object.keys((await load(dir)).p.disabledServices), ["bar", "baz", "zot"]);
  });

  it("drops an optional dependency on a disabled service with a warning", async () => {
    const dir = await tree({
      "compose.yaml":
        "services:\n  a:\n    image: a\n    depends_on:\n      b: {condition: service_started, required: false}\n  b:\n    image: b\n    profiles: [x]\n",
    });
    const { p, warnings } = await load(dir);
    assert.deepEqual(p.services.a.depends_on, {});
    assert.match(warnings.join("\n"), /not required/);
  });
});

describe("validation", () => {
  async function invalid(yaml: string, pattern: RegExp, namesFile = true) {
    const dir = await tree({ "compose.yaml": yaml });
    await assert.rejects(load(dir), (e: Error) => {
      assert.match(e.message, pattern);
      if (namesFile) assert.ok(e.message.includes(join(dir, "compose.yaml")), `names the file: ${e.message}`);
      return true;
    });
  }

  it("names the file and the path of the problem", async () => {
    await invalid(
      "services:\n  web:\n    image: x\n    ports: [[80]]\n",
      /^validating .*compose\.yaml: services\.web\.ports\[0\] must be a number, string or object$/,
    );
    await invalid(
      "services:\n  web:\n    imag: x\n",
      /services\.web additional properties 'imag' not allowed/,
    );
    await invalid("servics: {}\n", /\(root\) additional properties 'servics' not allowed/);
    await invalid(
      "services:\n  web:\n    image: x\n    ports: [{target: 80, bogus: 1}]\n",
      /services\.web\.ports\[0\] additional properties 'bogus' not allowed/,
    );
    await invalid(
      "services:\n  web:\n    image: x\n    depends_on: {db: {condition: sometimes}}\n  db: {image: y}\n",
      /services\.web\.depends_on\.db\.condition must be one of "service_started", "service_healthy", "service_completed_successfully"/,
    );
    await invalid("services:\n  web:\n    image: [x]\n", /services\.web\.image must be a string/);
    await invalid(
      "services:\n  web:\n    volumes: [{source: a}]\n",
      /services\.web\.volumes\[0\] missing property 'type'/,
    );
    await invalid(
      "services:\n  web:\n    build: {context: 1}\n",
      /services\.web\.build\.context must be a string/,
    );
  });

  it("reports YAML syntax errors with the file", async () => {
    await invalid("services:\n  web:\n   image: x\n  - bad\n", /compose\.yaml: yaml: line \d+/);
  });

  it("checks references to services, networks, volumes and secrets", async () => {
    await invalid(
      "services:\n  web:\n    image: x\n    depends_on: [db]\n",
      /service "web" depends on undefined service "db": invalid compose project/,
      false,
    );
    await invalid(
      "services:\n  web:\n    image: x\n    networks: [front]\n",
      /service "web" refers to undefined network front/,
      false,
    );
    await invalid(
      "services:\n  web:\n    image: x\n    volumes: ['data:/d']\n",
      /service "web" refers to undefined volume data/,
      false,
    );
    await invalid(
      "services:\n  web:\n    image: x\n    secrets: [s]\n",
      /service "web" refers to undefined secret s/,
      false,
    );
  });
});

describe("normalisation", () => {
  it("produces long syntax, resolved paths, names and defaults", async () => {
    const dir = await tree({
      "compose.yaml": [
        "services:",
        "  web:",
        "    build: {context: web, args: [A=1, FROM_ENV]}",
        "    command: echo 'a b'",
        "    ports: ['127.0.0.1:8080:80/udp']",
        "    volumes: ['~/x:/x', 'named:/n', '/anon']",
        "    depends_on: {db: {condition: service_healthy}}",
        "    tmpfs: /run",
        "    stop_grace_period: 90s",
        "    mem_limit: 1g",
        "    extra_hosts: ['somehost:162.242.195.82', 'v6=::1']",
        "    networks: {front: {aliases: [w]}}",
        "  db:",
        "    image: postgres",
        "    healthcheck: {test: pg_isready, interval: 1500ms, timeout: '3'}",
        "networks: {front: {}, ext: {external: true}, named: {name: custom}}",
        "volumes: {named: {}, outside: {external: true, name: real}}",
        "secrets: {s: {file: ./secret.txt}}",
      ].join("\n"),
    });
    const { p } = await load(dir, { env: { FROM_ENV: "e", HOME: "/home/u" } });
    const web = p.services.web;
    assert.deepEqual(web.build, {
      context: join(dir, "web"),
      args: { A: "1", FROM_ENV: "e" },
      dockerfile: "Dockerfile",
    });
    assert.deepEqual(web.command, ["echo", "a b"]);
    assert.deepEqual(web.ports, [
      { mode: "ingress", host_ip: "127.0.0.1", target: 80, published: "8080", protocol: "udp" },
    ]);
    assert.equal(web.volumes?.[0].type, "bind");
    assert.ok(web.volumes?.[0].source?.endsWith("/x") && !web.volumes?.[0].source?.startsWith("~"));
    assert.deepEqual(web.depends_on, { db: { condition: "service_healthy", required: true } });
    assert.deepEqual(web.tmpfs, ["/run"]);
    assert.equal(web.stop_grace_period, "1m30s");
    assert.equal(web.mem_limit, 1024 ** 3);
    assert.deepEqual(web.extra_hosts, { somehost: "162.242.195.82", v6: "::1" });
    assert.deepEqual(web.networks, { front: { aliases: ["w"] } });
    assert.deepEqual(p.services.db.networks, { default: null });
    assert.deepEqual(p.services.db.healthcheck, {
      test: ["CMD-SHELL", "pg_isready"],
      interval: "1.5s",
      timeout: "3s",
    });
    assert.deepEqual(p.networks, {
      default: { name: "proj_default" },
      ext: { external: true, name: "ext" },
      front: { name: "proj_front" },
      named: { name: "custom" },
    });
    assert.deepEqual(p.volumes, { named: { name: "proj_named" }, outside: { external: true, name: "real" } });
    assert.deepEqual(p.secrets, { s: { file: join(dir, "secret.txt"), name: "proj_s" } });
  });

  it("rejects scale and deploy.replicas that disagree", async () => {
    const dir = await tree({
      "compose.yaml": "services:\n  a:\n    image: a\n    scale: 2\n    deploy: {replicas: 3}\n",
    });
    await assert.rejects(load(dir), /can't set distinct values on 'scale' and 'deploy.replicas'/);
  });
});
