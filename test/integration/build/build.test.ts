// biome-ignore-all lint/suspicious/noTemplateCurlyInString: Dockerfile text uses ${VAR} literally
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { promisify } from "node:util";
import { api, DOCKER, exec, importBusybox, startDaemon, type TestDaemon } from "../../helpers/daemon.ts";
import { startWharfRegistry } from "../distribution/registries.ts";

const run = promisify(execFile);
let d: TestDaemon;
let ctx: string;

before(async () => {
  d = await startDaemon({ name: "build" });
  await importBusybox(d);
  ctx = await mkdtemp(join(tmpdir(), "wharf-bctx-"));
});
after(async () => {
  await d?.stop();
  await run("rm", ["-rf", ctx]);
});

function build(dir: string, args: string[] = []) {
  return exec(DOCKER, ["-H", d.host, "build", ...args, dir], {
    env: { DOCKER_BUILDKIT: "0", DOCKER_CONFIG: join(d.dir, "docker-config") },
    timeoutMs: 120_000,
  });
}

async function files(dir: string, f: Record<string, string>): Promise<string> {
  const { mkdir } = await import("node:fs/promises");
  await mkdir(dir, { recursive: true });
  for (const [k, v] of Object.entries(f)) {
    await mkdir(join(dir, k, ".."), { recursive: true });
    await writeFile(join(dir, k), v);
  }
  return dir;
}

interface Inspect {
  Id: string;
  Config: {
    Env: string[];
    Labels: Record<string, string>;
    WorkingDir: string;
    User: string;
    Entrypoint: string[] | null;
    Cmd: string[] | null;
    ExposedPorts: Record<string, object>;
  };
}

test("multi-stage build with COPY --from, build args and the image config through inspect", async () => {
  const dir = await files(join(ctx, "multi"), {
    Dockerfile: [
      "ARG BASE=busybox:latest",
      "FROM ${BASE} AS builder",
      "ARG VERSION=1",
      'RUN mkdir /out && echo "v$VERSION" > /out/version',
      "FROM busybox:latest AS unused",
      "RUN exit 3",
      "FROM ${BASE}",
      "LABEL app=demo",
      "ENV MODE=prod",
      "WORKDIR /srv/app",
      "COPY --from=builder /out/version ./",
      "USER 1000:1000",
      'ENTRYPOINT ["cat"]',
      'CMD ["/srv/app/version"]',
      "EXPOSE 8080 53/udp",
      "",
    ].join("\n"),
  });
  const r = await build(dir, ["-t", "multi:1", "--build-arg", "VERSION=7"]);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.match(r.stdout, /Step \d+\/\d+ : RUN mkdir/);
  assert.doesNotMatch(r.stdout, /exit 3/, "a stage the target does not need is skipped");
  assert.match(r.stdout, /Successfully tagged multi:1/);
  const img = await api<Inspect>(d, "GET", "/images/multi:1/json");
  assert.equal(img.Config.Labels.app, "demo");
  assert.ok(img.Config.Env.includes("MODE=prod"));
  assert.equal(img.Config.WorkingDir, "/srv/app");
  assert.equal(img.Config.User, "1000:1000");
  assert.deepEqual(img.Config.Entrypoint, ["cat"]);
  assert.deepEqual(img.Config.Cmd, ["/srv/app/version"]);
  assert.deepEqual(Object.keys(img.Config.ExposedPorts).sort(), ["53/udp", "8080/tcp"]);
  const out = await exec(DOCKER, ["-H", d.host, "run", "--rm", "multi:1"]);
  assert.equal(out.stdout.trim(), "v7");
});

test("second build comes fully from cache; changing one file rebuilds from its COPY on", async () => {
  const dir = await files(join(ctx, "cache"), {
    Dockerfile:
      "FROM busybox:latest\nRUN echo one > /one\nCOPY a.txt /a.txt\nRUN cat /a.txt > /b.txt\nCOPY c.txt /c.txt\n",
    "a.txt": "first\n",
    "c.txt": "c\n",
  });
  const first = await build(dir, ["-t", "cache:1"]);
  assert.equal(first.code, 0, first.stdout + first.stderr);
  const id1 = (await api<Inspect>(d, "GET", "/images/cache:1/json")).Id;
  const second = await build(dir, ["-t", "cache:2"]);
  assert.equal(second.code, 0, second.stderr);
  assert.equal((second.stdout.match(/Using cache/g) ?? []).length, 4);
  assert.equal(
    (await api<Inspect>(d, "GET", "/images/cache:2/json")).Id,
    id1,
    "same image, shared across tags",
  );
  await writeFile(join(dir, "a.txt"), "second\n");
  const third = await build(dir, ["-t", "cache:3"]);
  assert.equal(third.code, 0, third.stderr);
  assert.equal((third.stdout.match(/Using cache/g) ?? []).length, 1, "only the RUN before the changed COPY");
  const out = await exec(DOCKER, ["-H", d.host, "run", "--rm", "cache:3", "cat", "/b.txt"]);
  assert.equal(out.stdout, "second\n");
  // The cache survives a daemon restart.
  await d.restart();
  const fourth = await build(dir, ["-t", "cache:4"]);
  assert.equal((fourth.stdout.match(/Using cache/g) ?? []).length, 4, fourth.stdout);
});

test("--cache-from: a saved, removed and loaded image gives every step from cache, with the same layers", async () => {
  const dir = await files(join(ctx, "cachefrom"), {
    Dockerfile: [
      "FROM busybox:latest",
      "ENV X=1",
      "ARG V=2",
      "RUN echo hi-$V > /hi",
      "COPY a.txt /a.txt",
      "WORKDIR /w",
      "LABEL l=1",
      'CMD ["cat", "/a.txt"]',
      "",
    ].join("\n"),
    "a.txt": "a\n",
  });
  const first = await build(dir, ["-t", "cf:1"]);
  assert.equal(first.code, 0, first.stdout + first.stderr);
  const orig = await api<Inspect & { RootFS: { Layers: string[] } }>(d, "GET", "/images/cf:1/json");
  const steps = [...first.stdout.matchAll(/ ---> ([0-9a-f]{12})\n/g)].map((m) => m[1]);
  const tar = join(ctx, "cf.tar");
  for (const args of [
    ["save", "-o", tar, "cf:1"],
    ["rmi", "cf:1"],
    ["load", "-i", tar],
  ]) {
    const r = await exec(DOCKER, ["-H", d.host, ...args]);
    assert.equal(r.code, 0, r.stderr);
  }
  const gone = await exec(DOCKER, ["-H", d.host, "image", "inspect", steps[steps.length - 2]]);
  assert.notEqual(gone.code, 0, "the intermediate images went with rmi, so the local cache cannot answer");
  const noSource = await build(dir, ["-t", "cf:0", "--cache-from", "nosuch:image", "--no-cache"]);
  assert.equal(noSource.code, 0, noSource.stderr);
  assert.doesNotMatch(noSource.stdout, /Using cache/);
  await exec(DOCKER, ["-H", d.host, "rmi", "cf:0"]);

  const again = await build(dir, ["-t", "cf:2", "--cache-from", "nosuch:image", "--cache-from", "cf:1"]);
  assert.equal(again.code, 0, again.stdout + again.stderr);
  assert.equal((again.stdout.match(/Using cache/g) ?? []).length, 7, again.stdout);
  assert.doesNotMatch(again.stdout, /Running in/);
  const rebuilt = await api<Inspect & { RootFS: { Layers: string[] } }>(d, "GET", "/images/cf:2/json");
  assert.equal(rebuilt.Id, orig.Id, "the last step is the cache-from image itself");
  assert.deepEqual(rebuilt.RootFS.Layers, orig.RootFS.Layers);

  // A changed file: the steps before its COPY come from the cache-from image, the rest are built.
  await writeFile(join(dir, "a.txt"), "b\n");
  await exec(DOCKER, ["-H", d.host, "rmi", "cf:2"]);
  const changed = await build(dir, ["-t", "cf:3", "--cache-from", "cf:1"]);
  assert.equal(changed.code, 0, changed.stdout + changed.stderr);
  assert.equal((changed.stdout.match(/Using cache/g) ?? []).length, 3, changed.stdout);
  const out = await exec(DOCKER, ["-H", d.host, "run", "--rm", "cf:3"]);
  assert.equal(out.stdout, "b\n");
});

test("--cache-from an image pushed to and pulled back from a wharf registry", async (t) => {
  const reg = await startWharfRegistry();
  t.after(() => reg.stop());
  const dir = await files(join(ctx, "cfreg"), {
    Dockerfile: "FROM busybox:latest\nRUN echo reg > /reg\nCOPY f /f\nENV R=1\n",
    f: "f\n",
  });
  const ref = `${reg.host}/cf/app:1`;
  assert.equal((await build(dir, ["-t", ref])).code, 0);
  const orig = await api<{ Id: string; RootFS: { Layers: string[] } }>(d, "GET", `/images/${ref}/json`);
  for (const args of [
    ["push", ref],
    ["rmi", ref],
    ["pull", ref],
  ]) {
    const r = await exec(DOCKER, ["-H", d.host, ...args]);
    assert.equal(r.code, 0, `${args[0]}: ${r.stderr}`);
  }
  const r = await build(dir, ["-t", "cfreg:2", "--cache-from", ref]);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.equal((r.stdout.match(/Using cache/g) ?? []).length, 3, r.stdout);
  const again = await api<{ Id: string; RootFS: { Layers: string[] } }>(d, "GET", "/images/cfreg:2/json");
  assert.equal(again.Id, orig.Id);
  assert.deepEqual(again.RootFS.Layers, orig.RootFS.Layers);
});

test("context sent raw over the API: .dockerignore applied, globs and symlinked paths resolved, cache by content", async () => {
  const dir = await files(join(ctx, "raw"), {
    Dockerfile: "FROM busybox:latest\nCOPY . /all/\nCOPY lnk/in.txt s*.txt /picked/\n",
    ".dockerignore": "secret*\n!secret-ok.txt\nskip/\n",
    "secret.txt": "no\n",
    "secret-ok.txt": "ok\n",
    "skip/x.txt": "no\n",
    "real/in.txt": "in\n",
    "sub/a.txt": "a\n",
  });
  await run("ln", ["-s", "real", join(dir, "lnk")]);
  const tarFile = join(ctx, "raw.tar");
  const post = async () => {
    await run("tar", ["-C", dir, "-cf", tarFile, "."]);
    const r = await exec("curl", [
      "-sf",
      "--unix-socket",
      d.socket,
      "-X",
      "POST",
      "-H",
      "Content-Type: application/x-tar",
      "--data-binary",
      `@${tarFile}`,
      "http://docker/v1.47/build?t=raw:1",
    ]);
    assert.equal(r.code, 0, r.stderr);
    assert.doesNotMatch(r.stdout, /errorDetail/, r.stdout);
    return r.stdout;
  };
  await post();
  const ls = await exec(DOCKER, [
    "-H",
    d.host,
    "run",
    "--rm",
    "raw:1",
    "sh",
    "-c",
    "cd /all && find . | sort; ls /picked",
  ]);
  const seen = ls.stdout.split("\n");
  for (const want of ["./secret-ok.txt", "./real/in.txt", "./sub/a.txt", "./lnk", "in.txt", "secret-ok.txt"])
    assert.ok(seen.includes(want), `${want} in ${ls.stdout}`);
  for (const not of ["./secret.txt", "./skip", "./skip/x.txt"])
    assert.ok(!seen.includes(not), `${not} left out`);
  assert.equal((await post()).match(/Using cache/g)?.length, 2, "unchanged context: all from cache");
  await writeFile(join(dir, "real/in.txt"), "changed\n");
  assert.equal((await post()).match(/Using cache/g)?.length ?? 0, 0, "a changed file misses the cache");
  await writeFile(join(dir, "secret.txt"), "still ignored\n");
  assert.equal((await post()).match(/Using cache/g)?.length, 2, "an ignored file does not count");
});

test("POST /build/prune forgets the cache entries of removed images; docker builder prune reaches it", async () => {
  const dir = await files(join(ctx, "prune"), {
    Dockerfile: "FROM busybox:latest\nRUN echo prune-me > /p\nLABEL prune=1\n",
  });
  assert.equal((await build(dir, ["-t", "prune:1"])).code, 0);
  await api(d, "POST", "/build/prune");
  const kept = await build(dir, ["-t", "prune:1"]);
  assert.equal(kept.stdout.match(/Using cache/g)?.length, 2, "entries of live images stay");
  assert.equal((await exec(DOCKER, ["-H", d.host, "rmi", "prune:1"])).code, 0);
  const r = await api<{ CachesDeleted: string[]; SpaceReclaimed: number }>(d, "POST", "/build/prune");
  assert.ok(r.CachesDeleted.length >= 2, JSON.stringify(r));
  assert.equal(r.SpaceReclaimed, 0);
  assert.deepEqual((await api<{ CachesDeleted: string[] }>(d, "POST", "/build/prune")).CachesDeleted, []);
  const cli = await exec(DOCKER, ["-H", d.host, "builder", "prune", "-f", "--all"], {
    env: { DOCKER_BUILDKIT: "0" },
  });
  assert.equal(cli.code, 0, cli.stderr);
  assert.match(cli.stdout, /Total reclaimed space/);
  const after = await build(dir, ["-t", "prune:2"]);
  assert.doesNotMatch(after.stdout, /Using cache/, "--all forgot every entry");
});

test("metadata steps and WORKDIR commit from an intermediate container as Docker's do; COPY has none", async () => {
  const dir = await files(join(ctx, "meta"), {
    Dockerfile: "FROM busybox:latest\nENV META=1\nWORKDIR /meta\nCOPY Dockerfile /d\n",
  });
  const r = await build(dir, ["--no-cache", "-t", "meta:1"]);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  for (const step of ["ENV META=1", "WORKDIR /meta"]) {
    const re = new RegExp(
      `: ${step}\\n ---> Running in ([0-9a-f]{12})\\n ---> Removed intermediate container \\1\\n ---> [0-9a-f]{12}\\n`,
    );
    assert.match(r.stdout, re, r.stdout);
  }
  assert.match(r.stdout, /: COPY Dockerfile \/d\n ---> [0-9a-f]{12}\n/);
  const kept = await build(dir, ["--no-cache", "--rm=false", "-t", "meta:2"]);
  assert.equal(kept.code, 0, kept.stderr);
  const ids = [...kept.stdout.matchAll(/Running in ([0-9a-f]{12})/g)].map((m) => m[1]);
  assert.equal(ids.length, 2);
  assert.doesNotMatch(kept.stdout, /Removed intermediate/);
  const ps = await exec(DOCKER, ["-H", d.host, "ps", "-a", "--no-trunc", "--format", "{{.ID}} {{.Command}}"]);
  for (const id of ids) assert.match(ps.stdout, new RegExp(`^${id}[0-9a-f]* .*#\\(nop\\)`, "m"), ps.stdout);
  await exec(DOCKER, ["-H", d.host, "rm", ...ids]);
});

test("a failing RUN reports its exit code and fails the build; bad syntax fails before any step", async () => {
  const dir = await files(join(ctx, "fail"), {
    Dockerfile: "FROM busybox:latest\nRUN echo before\nRUN exit 42\n",
  });
  const r = await build(dir);
  assert.notEqual(r.code, 0);
  assert.match(r.stdout + r.stderr, /The command '\/bin\/sh -c exit 42' returned a non-zero code: 42/);
  const bad = await files(join(ctx, "bad"), {
    Dockerfile: "FROM busybox:latest\nRUN echo x\nFROBNICATE y\n",
  });
  const rb = await build(bad);
  assert.notEqual(rb.code, 0);
  assert.match(rb.stderr, /dockerfile parse error on line 3: unknown instruction: FROBNICATE/);
  assert.doesNotMatch(rb.stdout, /Step 1/);
});

test("ADD unpacks a local tar; --chown and --chmod set owners and modes; heredocs", async () => {
  const dir = await files(join(ctx, "add"), {
    "payload/inner/file.txt": "inside\n",
    "own.txt": "mine\n",
    Dockerfile: [
      "FROM busybox:latest",
      "ADD payload.tar.gz /opt/",
      "COPY --chown=nobody:nogroup --chmod=600 own.txt /own.txt",
      "COPY <<EOF /etc/greeting",
      "hello heredoc",
      "EOF",
      "RUN <<EOF",
      "echo from heredoc > /hd",
      "EOF",
      "",
    ].join("\n"),
  });
  await run("tar", ["-czf", join(dir, "payload.tar.gz"), "-C", join(dir, "payload"), "inner"]);
  const r = await build(dir, ["-t", "add:1"]);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  const out = await exec(DOCKER, [
    "-H",
    d.host,
    "run",
    "--rm",
    "add:1",
    "sh",
    "-c",
    "cat /opt/inner/file.txt; stat -c '%U:%G %a' /own.txt; cat /etc/greeting /hd",
  ]);
  assert.equal(out.stdout, "inside\nnobody:nogroup 600\nhello heredoc\nfrom heredoc\n");
});

test("POST /commit of a running container, with changes, author and message", async () => {
  const c = await api<{ Id: string }>(d, "POST", "/containers/create", {
    Image: "busybox:latest",
    Cmd: ["sh", "-c", "echo changed > /marker; rm /bin/zcat; sleep 300"],
  });
  await api(d, "POST", `/containers/${c.Id}/start`);
  for (let i = 0; i < 100; i++) {
    const r = await exec(DOCKER, ["-H", d.host, "exec", c.Id, "cat", "/marker"]);
    if (r.code === 0) break;
    await new Promise((res) => setTimeout(res, 50));
  }
  const q = `container=${c.Id}&repo=committed&tag=v1&author=me&comment=snap&changes=${encodeURIComponent("ENV X=1")}`;
  const res = await api<{ Id: string }>(d, "POST", `/commit?${q}`);
  assert.match(res.Id, /^sha256:/);
  const img = await api<Inspect & { Author: string; Comment: string }>(d, "GET", "/images/committed:v1/json");
  assert.equal(img.Author, "me");
  assert.ok(img.Config.Env.includes("X=1"));
  const out = await exec(DOCKER, [
    "-H",
    d.host,
    "run",
    "--rm",
    "committed:v1",
    "sh",
    "-c",
    "cat /marker; ls /bin/zcat",
  ]);
  assert.match(out.stdout, /changed/);
  assert.match(out.stderr, /No such file/, "the deletion is a whiteout in the new layer");
  const st = await api<{ State: { Running: boolean; Paused: boolean } }>(
    d,
    "GET",
    `/containers/${c.Id}/json`,
  );
  assert.equal(st.State.Running, true);
  assert.equal(st.State.Paused, false);
});
