// biome-ignore-all lint/suspicious/noTemplateCurlyInString: these strings are Compose templates, not JS ones
import assert from "node:assert/strict";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { after, describe, it } from "node:test";
import { type LoadOptions, loadProject } from "./project.ts";

const roots: string[] = [];
after(async () => {
  for (const r of roots) await rm(r, { recursive: true, force: true });
});

/** Writes files (path → content) under a new temp dir and returns it. */
async function tree(files: Record<string, string>, name = "proj"): Promise<string> {
  const root = await mkdtemp(join(tmpdir(), "wharf-compose-"));
  roots.push(root);
  const dir = join(root, name);
  await mkdir(dir, { recursive: true });
  for (const [p, text] of Object.entries(files)) {
    await mkdir(dirname(join(dir, p)), { recursive: true });
    await writeFile(join(dir, p), text);
  }
  return dir;
}

function load(dir: string, opts: LoadOptions = {}) {
  const warnings: string[] = [];
  return loadProject({ cwd: dir, env: {}, onWarning: (m) => warnings.push(m), ...opts }).then((p) => ({
    p,
    warnings,
  }));
}

describe("finding files", () => {
  it("finds compose.yaml from a subdirectory and merges compose.override.yaml beside it", async () => {
    const dir = await tree({
      "compose.yaml": "services:\n  web:\n    image: nginx\n    environment: [A=1]\n",
      "compose.override.yaml": "services:\n  web:\n    environment: [B=2]\n",
      "sub/deeper/.keep": "",
    });
    const { p } = await load(join(dir, "sub/deeper"));
    assert.equal(p.workingDir, dir);
    assert.deepEqual(p.configFiles, [join(dir, "compose.yaml"), join(dir, "compose.override.yaml")]);
    assert.deepEqual(p.services.web.environment, { A: "1", B: "2" });
    assert.equal(p.name, "proj");
  });

  it("prefers compose.yaml over docker-compose.yml and warns", async () => {
    const dir = await tree({
      "compose.yaml": "services:\n  a:\n    image: a\n",
      "docker-compose.yml": "services:\n  b:\n    image: b\n",
    });
    const { p, warnings } = await load(dir);
    assert.deepEqual(Object.keys(p.services), ["a"]);
    assert.match(warnings[0], /Found multiple config files/);
  });

  it("reads docker-compose.yml when it is the only one", async () => {
    const dir = await tree({ "docker-compose.yml": "services:\n  b:\n    image: b\n" });
    const { p } = await load(dir);
    assert.deepEqual(Object.keys(p.services), ["b"]);
  });

  it("fails when there is no file", async () => {
    const dir = await tree({ "readme.txt": "" });
    await assert.rejects(load(dir), /no configuration file provided: not found/);
  });

  it("takes COMPOSE_FILE from the environment or .env", async () => {
    const dir = await tree({
      "one.yaml": "services:\n  a:\n    image: a\n",
      "two.yaml": "services:\n  a:\n    image: b\n",
      ".env": "COMPOSE_FILE=one.yaml:two.yaml\n",
    });
    const { p } = await load(dir);
    assert.equal(p.services.a.image, "b");
    assert.deepEqual(p.configFiles, [join(dir, "one.yaml"), join(dir, "two.yaml")]);
  });

  it("names a missing -f file", async () => {
    const dir = await tree({ "compose.yaml": "services: {}\n" });
    await assert.rejects(load(dir, { files: ["nope.yaml"] }), /open .*nope\.yaml: no such file or directory/);
  });

  it("reads -f - from stdin", async () => {
    const dir = await tree({});
    const { p } = await load(dir, { files: ["-"], readStdin: async () => "services:\n  s:\n    image: x\n" });
    assert.equal(p.services.s.image, "x");
    assert.equal(p.workingDir, dir);
  });
});

describe("project name and directory", () => {
  it("normalises the directory name", async () => {
    const dir = await tree({ "compose.yaml": "services: {}\n" }, "My.App_Dir-2");
    const { p } = await load(dir);
    assert.equal(p.name, "myapp_dir-2");
  });

  it("takes -p over COMPOSE_PROJECT_NAME over name: over the directory", async () => {
    const dir = await tree({ "compose.yaml": "name: fromfile\nservices: {}\n" });
    assert.equal((await load(dir)).p.name, "fromfile");
    assert.equal((await load(dir, { env: { COMPOSE_PROJECT_NAME: "fromenv" } })).p.name, "fromenv");
    assert.equal(
      (await load(dir, { projectName: "flag", env: { COMPOSE_PROJECT_NAME: "fromenv" } })).p.name,
      "flag",
    );
  });

  it("interpolates name: and rejects invalid explicit names", async () => {
    const dir = await tree({ "compose.yaml": "name: ${N:-dflt}\nservices: {}\n" });
    assert.equal((await load(dir, { env: { N: "given" } })).p.name, "given");
    await assert.rejects(load(dir, { projectName: "Bad Name" }), /invalid project name "Bad Name"/);
    await assert.rejects(load(dir, { projectName: "" }), /project name must not be empty/);
  });

  it("resolves relative paths against --project-directory and reads .env from it", async () => {
    const dir = await tree({
      "files/compose.yaml":
        "services:\n  web:\n    build: ./ctx\n    volumes: [./data:/data]\n    image: i:${TAG}\n",
      "elsewhere/.env": "TAG=fromdotenv\n",
    });
    const { p } = await load(dir, { files: ["files/compose.yaml"], projectDirectory: "elsewhere" });
    assert.equal(p.workingDir, join(dir, "elsewhere"));
    assert.equal(p.name, "elsewhere");
    assert.equal(p.services.web.build?.context, join(dir, "elsewhere/ctx"));
    assert.equal(p.services.web.volumes?.[0].source, join(dir, "elsewhere/data"));
    assert.equal(p.services.web.image, "i:fromdotenv");
  });

  it("uses the first file's directory as the project directory", async () => {
    const dir = await tree({ "sub/compose.yaml": "services:\n  web:\n    build: .\n" });
    const { p } = await load(dir, { files: ["sub/compose.yaml"] });
    assert.equal(p.workingDir, join(dir, "sub"));
    assert.equal(p.services.web.build?.context, join(dir, "sub"));
  });
});

describe("environment", () => {
  it("lets the shell override .env, and --env-file replace .env", async () => {
    const dir = await tree({
      "compose.yaml": "services:\n  web:\n    image: ${IMG}:${TAG}\n",
      ".env": "IMG=fromdotenv\nTAG=one\n",
      "other.env": "IMG=fromother\nTAG=two\n",
      "third.env": "TAG=three\n",
    });
    assert.equal((await load(dir)).p.services.web.image, "fromdotenv:one");
    assert.equal((await load(dir, { env: { TAG: "shell" } })).p.services.web.image, "fromdotenv:shell");
    assert.equal((await load(dir, { envFiles: ["other.env"] })).p.services.web.image, "fromother:two");
    assert.equal(
      (await load(dir, { envFiles: ["other.env", "third.env"] })).p.services.web.image,
      "fromother:three",
    );
    await assert.rejects(load(dir, { envFiles: ["missing.env"] }), /env file .*missing\.env not found/);
  });

  it("fills environment from env_file, environment winning, key-only entries from the shell", async () => {
    const dir = await tree({
      "compose.yaml": [
        "services:",
        "  web:",
        "    image: x",
        "    env_file: [a.env, {path: optional.env, required: false}]",
        "    environment:",
        "      B: from-environment",
        "      FROM_SHELL:",
        "      NOT_SET:",
        "      NUM: 5",
        "      BOOL: true",
      ].join("\n"),
      "a.env": "A=1\nB=from-file\n",
    });
    const { p } = await load(dir, { env: { FROM_SHELL: "s" } });
    assert.deepEqual(p.services.web.environment, {
      A: "1",
      B: "from-environment",
      BOOL: "true",
      FROM_SHELL: "s",
      NOT_SET: null,
      NUM: "5",
    });
    assert.deepEqual(p.services.web.env_file, [
      { path: join(dir, "a.env"), required: true },
      { path: join(dir, "optional.env"), required: false },
    ]);
  });

  it("reads label_file entries under labels, labels winning", async () => {
    const dir = await tree({
      "compose.yaml": [
        "services:",
        "  web:",
        "    image: x",
        "    label_file: [a.labels, ./b.labels]",
        "    labels: {shared: from-labels}",
      ].join("\n"),
      "a.labels": "# team labels\nteam=core\nshared=from-a\ntier=one\n",
      "b.labels": "tier=two\n",
    });
    const { p } = await load(dir);
    assert.deepEqual(p.services.web.labels, { shared: "from-labels", team: "core", tier: "two" });
    await writeFile(join(dir, "a.labels"), "");
    await rm(join(dir, "b.labels"));
    await assert.rejects(load(dir), /b\.labels not found/);
  });

  it("fails on a missing required env_file", async () => {
    const dir = await tree({ "compose.yaml": "services:\n  web:\n    image: x\n    env_file: gone.env\n" });
    await assert.rejects(load(dir), /env file .*gone\.env not found/);
  });

  it("reports required variables and unset ones", async () => {
    const dir = await tree({
      "compose.yaml": "services:\n  web:\n    image: ${IMAGE:?set IMAGE}\n    command: echo ${UNSET}\n",
    });
    await assert.rejects(
      load(dir),
      /error while interpolating services\.web\.image: required variable IMAGE is missing a value: set IMAGE/,
    );
    const { p, warnings } = await load(dir, { env: { IMAGE: "busybox" } });
    assert.deepEqual(p.services.web.command, ["echo"]);
    assert.deepEqual(warnings, ['The "UNSET" variable is not set. Defaulting to a blank string.']);
  });

  it("keeps $$ literal through to the model", async () => {
    const dir = await tree({
      "compose.yaml": "services:\n  web:\n    image: x\n    command: sh -c 'echo $$HOME'\n",
    });
    assert.deepEqual((await load(dir)).p.services.web.command, ["sh", "-c", "echo $HOME"]);
  });

  it("casts interpolated numbers and booleans", async () => {
    const dir = await tree({
      "compose.yaml":
        "services:\n  web:\n    image: x\n    scale: ${N}\n    privileged: ${P}\n    healthcheck:\n      retries: ${N}\n      test: [CMD, 'true']\n",
    });
    const { p } = await load(dir, { env: { N: "3", P: "yes" } });
    assert.equal(p.services.web.scale, 3);
    assert.equal(p.services.web.privileged, true);
    assert.equal(p.services.web.healthcheck?.retries, 3);
    await assert.rejects(
      load(dir, { env: { N: "x", P: "true" } }),
      /^LoadError: validating .*compose\.yaml: services\.web\.scale: invalid integer/,
    );
  });
});

describe("merging several files", () => {
  const base = [
    "services:",
    "  web:",
    "    image: web:1",
    "    command: [echo, base]",
    "    entrypoint: /base.sh",
    "    ports: ['8080:80', '443:443']",
    "    volumes: ['data:/data', './logs:/logs']",
    "    environment: {A: a, B: b}",
    "    labels: [l1=one]",
    "    dns: 1.1.1.1",
    "    cap_add: [NET_ADMIN]",
    "    secrets: [s1]",
    "    healthcheck: {test: [CMD, base], interval: 10s}",
    "    logging: {driver: json-file, options: {max-size: 1m}}",
    "    ulimits: {nofile: {soft: 1, hard: 2}}",
    "volumes: {data: {}}",
    "secrets: {s1: {file: ./s1.txt}}",
  ].join("\n");
  const over = [
    "services:",
    "  web:",
    "    image: web:2",
    "    command: [echo, over]",
    "    ports: ['8080:80', '9090:90']",
    "    volumes: ['other:/data']",
    "    environment: [B=B2, C=c]",
    "    labels: {l2: two}",
    "    dns: [8.8.8.8]",
    "    cap_add: [NET_ADMIN, SYS_TIME]",
    "    secrets: [{source: s1, target: /run/secrets/s1, mode: 0400}]",
    "    healthcheck: {test: [CMD, over]}",
    "    logging: {options: {max-file: '3'}}",
    "    ulimits: {nofile: 5}",
    "  extra:",
    "    image: extra",
    "volumes: {other: {}}",
  ].join("\n");

  it("applies the spec's rules per field", async () => {
    const dir = await tree({ "a.yaml": base, "b.yaml": over });
    const { p } = await load(dir, { files: ["a.yaml", "b.yaml"] });
    const w = p.services.web;
    assert.equal(w.image, "web:2");
    assert.deepEqual(w.command, ["echo", "over"], "command replaced");
    assert.deepEqual(w.entrypoint, ["/base.sh"], "entrypoint kept when not overridden");
    assert.deepEqual(
      w.ports?.map((x) => `${x.published}:${x.target}`),
      ["8080:80", "443:443", "9090:90"],
      "ports merged by {ip, target, published, protocol}",
    );
    assert.deepEqual(
      w.volumes?.map((v) => `${v.source}:${v.target}`),
      ["other:/data", `${join(dir, "logs")}:/logs`],
      "volumes merged by target",
    );
    assert.deepEqual(w.environment, { A: "a", B: "B2", C: "c" }, "environment merged by key");
    assert.deepEqual(w.labels, { l1: "one", l2: "two" });
    assert.deepEqual(w.dns, ["1.1.1.1", "8.8.8.8"], "dns appended");
    assert.deepEqual(w.cap_add, ["NET_ADMIN", "SYS_TIME"], "cap_add without duplicates");
    assert.deepEqual(
      w.secrets,
      [{ source: "s1", target: "/run/secrets/s1", mode: 0o400 }],
      "secrets by target, 0400 octal",
    );
    assert.deepEqual(w.healthcheck, { test: ["CMD", "over"], interval: "10s" }, "healthcheck.test replaced");
    assert.deepEqual(w.logging, { driver: "json-file", options: { "max-size": "1m", "max-file": "3" } });
    assert.deepEqual(w.ulimits, { nofile: 5 });
    assert.equal(p.services.extra.image, "extra");
    assert.deepEqual(Object.keys(p.volumes), ["data", "other"]);
  });

  it("resolves relative paths of every file against the project directory", async () => {
    const dir = await tree({
      "compose.yaml": "services:\n  web:\n    image: x\n",
      "overrides/dev.yaml": "services:\n  web:\n    volumes: ['./src:/src']\n",
    });
    const { p } = await load(dir, { files: ["compose.yaml", "overrides/dev.yaml"] });
    assert.equal(p.services.web.volumes?.[0].source, join(dir, "src"));
  });

  it("drops values with !reset and replaces them with !override", async () => {
    const dir = await tree({
      "a.yaml": base,
      "c.yaml": [
        "services:",
        "  web:",
        "    ports: !reset []",
        "    environment:",
        "      A: !reset null",
        "    volumes: !override ['fresh:/fresh']",
        "    cap_add: !override [CHOWN]",
        "volumes: {fresh: {}}",
      ].join("\n"),
    });
    const { p } = await load(dir, { files: ["a.yaml", "c.yaml"] });
    const w = p.services.web;
    assert.equal(w.ports, undefined);
    assert.deepEqual(w.environment, { B: "b" });
    assert.deepEqual(
      w.volumes?.map((v) => `${v.source}:${v.target}`),
      ["fresh:/fresh"],
    );
    assert.deepEqual(w.cap_add, ["CHOWN"]);
  });

  it("reads anchors, aliases and << merge keys", async () => {
    const dir = await tree({
      "compose.yaml": [
        "x-base: &base",
        "  image: shared",
        "  environment: {A: '1'}",
        "services:",
        "  one:",
        "    <<: *base",
        "  two:",
        "    <<: *base",
        "    image: own",
      ].join("\n"),
    });
    const { p } = await load(dir);
    assert.equal(p.services.one.image, "shared");
    assert.equal(p.services.two.image, "own");
    assert.deepEqual(p.services.two.environment, { A: "1" });
    assert.deepEqual(p.extensions["x-base"], { image: "shared", environment: { A: "1" } });
  });
});

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
