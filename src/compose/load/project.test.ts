// biome-ignore-all lint/suspicious/noTemplateCurlyInString: these strings are Compose templates, not JS ones
import assert from "node:assert/strict";
import { rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, it } from "node:test";
import { load, tree } from "./testing.ts";

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
