/**
 * The real buildx (v0.10.5, the newest Debian's Go 1.19 builds) against wharf with its default "docker"
 * driver. It is built outside the repo into /work/tools/dockercfg/cli-plugins by hand; CI has none, so these
 * tests skip without it.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { chmod, mkdir, mkdtemp, readFile, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { bcryptHash } from "../../../src/registry/index.ts";
import {
  api,
  DOCKER,
  docker,
  exec,
  importBusybox,
  runSh,
  startDaemon,
  type TestDaemon,
} from "../../helpers/daemon.ts";
import { tempTree } from "../../helpers/tree.ts";
import { startWharfRegistry } from "../distribution/registries.ts";
import { startSshAgent } from "./ssh-agent.ts";

const PLUGINS = "/work/tools/dockercfg/cli-plugins";
const SKIP = existsSync(join(PLUGINS, "docker-buildx"))
  ? false
  : `no buildx at ${PLUGINS}/docker-buildx (built by hand from docker/buildx v0.10.5 outside the repo; CI has none)`;

let d: TestDaemon;
let root: string;
let config: string;

before(async () => {
  if (SKIP) return;
  d = await startDaemon({ name: "buildx" });
  await importBusybox(d);
  root = await mkdtemp(join(tmpdir(), "wharf-bx-"));
  // A private DOCKER_CONFIG per run: logins stay in it, the plugin is linked in.
  config = join(root, "config");
  await mkdir(config);
  await symlink(PLUGINS, join(config, "cli-plugins"));
});
after(async () => {
  await d?.stop();
  if (root) await rm(root, { recursive: true, force: true });
});

function buildx(args: string[], env: Record<string, string> = {}) {
  return exec(DOCKER, ["-H", d.host, "buildx", ...args], {
    env: { DOCKER_CONFIG: config, ...env },
    timeoutMs: 120_000,
  });
}

async function ok(
  args: string[],
  env: Record<string, string> = {},
): Promise<{ stdout: string; stderr: string }> {
  const r = await buildx(args, env);
  assert.equal(r.code, 0, `buildx ${args.join(" ")}:\n${r.stderr}`);
  return r;
}

const MULTI =
  'FROM busybox AS base\nARG MSG=none\nRUN echo "msg=$MSG" > /msg && echo to-out && echo to-err >&2\n' +
  "FROM base AS second\nCOPY a.txt /a.txt\nRUN cat /a.txt\n";

test("buildx ls and inspect: the docker driver, running, linux/amd64", { skip: SKIP }, async () => {
  const ls = await ok(["ls"]);
  assert.match(ls.stdout, /default\s+\*?\s*docker/);
  assert.match(ls.stdout, /running/);
  const ins = await ok(["inspect"]);
  assert.match(ins.stdout, /Driver:\s+docker/);
  assert.match(ins.stdout, /linux\/(amd64|arm64)/);
});

test("plain progress, -t with --load, --target, --build-arg, --iidfile, --metadata-file, cache reuse", {
  skip: SKIP,
}, async () => {
  const ctx = await tempTree({ Dockerfile: MULTI, "a.txt": "alpha\n" });
  const iid = join(root, "iid");
  const meta = join(root, "meta.json");
  const r = await ok([
    "build",
    "--progress=plain",
    "--load",
    "-t",
    "bx-multi:1",
    "--build-arg",
    "MSG=hi",
    "--iidfile",
    iid,
    "--metadata-file",
    meta,
    ctx,
  ]);
  assert.match(r.stderr, /#\d+ transferring dockerfile: \d+B done/);
  // BuildKit's step names: per stage, only the steps that change files (no ARG), FROM in full.
  assert.match(r.stderr, /#\d+ \[base 1\/2\] FROM docker\.io\/library\/busybox:latest\n/);
  assert.match(r.stderr, /#\d+ \[base 2\/2\] RUN echo "msg=\$MSG"/);
  assert.match(r.stderr, /#\d+ \[second 2\/2\] RUN cat \/a\.txt\n/);
  assert.doesNotMatch(r.stderr, /ARG MSG/);
  assert.match(r.stderr, /#\d+ \d+\.\d+ to-out\n/);
  assert.match(r.stderr, /#\d+ \d+\.\d+ to-err\n/);
  assert.match(r.stderr, /naming to docker\.io\/library\/bx-multi:1 done/);
  const id = (await readFile(iid, "utf8")).trim();
  assert.match(id, /^sha256:[0-9a-f]{64}$/);
  const m = JSON.parse(await readFile(meta, "utf8")) as Record<string, string>;
  assert.equal(m["containerimage.digest"], id);
  assert.equal(m["containerimage.config.digest"], id);
  assert.equal(m["image.name"], "docker.io/library/bx-multi:1");
  assert.equal(await runSh(d, "bx-multi:1", "cat /msg /a.txt"), "msg=hi\nalpha\n");

  const again = await ok(["build", "--progress=plain", "-t", "bx-multi:2", "--build-arg", "MSG=hi", ctx]);
  assert.match(again.stderr, /RUN echo "msg=\$MSG"[^\n]*\n#\d+ CACHED/);
  assert.match(again.stderr, new RegExp(`writing image ${id}`));

  const base = await ok(["build", "-q", "--target", "base", "-t", "bx-base", ctx]);
  assert.match(base.stdout, /^sha256:[0-9a-f]{64}\n$/);
  assert.equal(
    await runSh(d, "bx-base", "cat /msg; ls /a.txt 2>&1; true"),
    "msg=none\nls: /a.txt: No such file or directory\n",
  );
});

test("-q prints only the image ID, --progress=quiet nothing, as buildx does against dockerd", {
  skip: SKIP,
}, async () => {
  const ctx = await tempTree({ Dockerfile: "FROM busybox\nRUN echo quiet-step\n" });
  const q = await ok(["build", "-q", ctx]);
  assert.match(q.stdout, /^sha256:[0-9a-f]{64}\n$/);
  assert.equal(q.stderr, "");
  const quiet = await ok(["build", "--progress=quiet", ctx]);
  assert.equal(quiet.stdout + quiet.stderr, "");
  // Not a terminal: buildx refuses tty itself (as against dockerd); auto then prints plain.
  const tty = await buildx(["build", "--progress=tty", ctx]);
  assert.match(tty.stderr, /failed to get console/);
  const auto = await ok(["build", "--progress=auto", ctx]);
  assert.match(auto.stderr, /exporting to image/);
  // On a terminal (script(1) gives it one) tty draws its live view.
  if (existsSync("/usr/bin/script")) {
    const cmd = `${DOCKER} -H ${d.host} buildx build --progress=tty ${ctx}`;
    const term = await exec("/usr/bin/script", ["-qec", cmd, "/dev/null"], {
      env: { DOCKER_CONFIG: config },
    });
    assert.equal(term.code, 0, term.stdout);
    assert.match(term.stdout, /\[\+\] Building [\d.]+s \(\d+\/\d+\) FINISHED/);
    assert.match(term.stdout, /=> => transferring dockerfile: \d+B/);
  }
  const dockerBuild = await exec(DOCKER, ["-H", d.host, "build", "-q", ctx], {
    env: { DOCKER_CONFIG: config },
  });
  assert.equal(dockerBuild.code, 0, dockerBuild.stderr);
  assert.match(dockerBuild.stdout, /^sha256:[0-9a-f]{64}\n$/);
});

test("--secret, COPY --link and -o type=local|tar", { skip: SKIP }, async () => {
  const ctx = await tempTree({
    Dockerfile:
      "FROM busybox\nRUN --mount=type=secret,id=tok cat /run/secrets/tok > /tok\n" +
      "COPY --link a.txt /l/a.txt\nCOPY a.txt /n/a.txt\n",
    "a.txt": "alpha\n",
  });
  const tok = join(root, "tok");
  await writeFile(tok, "s3cret\n");
  const out = join(root, "out");
  await ok(["build", "--secret", `id=tok,src=${tok}`, "-o", `type=local,dest=${out}`, ctx]);
  assert.equal(await readFile(join(out, "tok"), "utf8"), "s3cret\n");
  assert.equal(await readFile(join(out, "l/a.txt"), "utf8"), "alpha\n");
  assert.equal(await readFile(join(out, "n/a.txt"), "utf8"), "alpha\n");
  const tar = join(root, "out.tar");
  await ok(["build", "--secret", `id=tok,src=${tok}`, "-o", `type=tar,dest=${tar}`, ctx]);
  const list = await exec("tar", ["tf", tar]);
  assert.match(list.stdout, /^l\/a\.txt$/m);
  assert.match(list.stdout, /^bin\/sh$/m);
});

test("--ssh default: RUN --mount=type=ssh reaches the client's agent", { skip: SKIP }, async (t) => {
  const agent = await startSshAgent(root);
  if (!agent) return t.skip("ssh-agent is not installed (scripts/setup.sh installs openssh-client)");
  t.after(() => agent.stop());
  const ctx = await tempTree({
    Dockerfile: "FROM busybox\nCOPY x /x\nRUN --mount=type=ssh /x/ld.so --library-path /x /x/ssh-add -l\n",
  });
  await mkdir(join(ctx, "x"));
  for (const f of agent.sshAddFiles) {
    const name = f.endsWith("/ssh-add")
      ? "ssh-add"
      : /ld-linux/.test(f)
        ? "ld.so"
        : (f.split("/").pop() ?? "");
    await writeFile(join(ctx, "x", name), await readFile(f), { mode: 0o755 });
  }
  const r = await ok(["build", "--progress=plain", "--ssh", "default", ctx], { SSH_AUTH_SOCK: agent.socket });
  assert.match(r.stderr, /wharf-test-key \(ED25519\)/);
});

test("FROM a registry that needs a login: the daemon asks the client's credentials", {
  skip: SKIP,
}, async (t) => {
  await writeFile(join(root, "htpasswd"), `alice:${bcryptHash("s3cret", 5)}\n`);
  const reg = await startWharfRegistry(["--htpasswd", join(root, "htpasswd")]);
  t.after(() => reg.stop());
  const name = `${reg.host}/team/box:1`;
  const cli = (args: string[], input?: string) =>
    exec(DOCKER, ["-H", d.host, ...args], { env: { DOCKER_CONFIG: config }, input });
  for (const [args, input] of [
    [["login", "-u", "alice", "--password-stdin", reg.host], "s3cret\n"],
    [["tag", "busybox:latest", name]],
    [["push", name]],
    [["rmi", name]],
  ] as [string[], string?][]) {
    const r = await cli(args, input);
    assert.equal(r.code, 0, r.stderr);
  }
  const ctx = await tempTree({ Dockerfile: `FROM ${name}\nRUN echo pulled > /p\n` });
  await ok(["build", "-t", "bx-auth", ctx]);
  assert.equal(await runSh(d, "bx-auth", "cat /p"), "pulled\n");
  assert.equal((await cli(["logout", reg.host])).code, 0);
  await cli(["rmi", "bx-auth", name]);
  const anon = await buildx(["build", "--no-cache", ctx]);
  assert.notEqual(anon.code, 0);
  assert.match(anon.stderr, /ERROR: failed to solve: .*pull access denied/);
});

test("a failing step: ERROR: failed to solve with the exit code, nothing tagged", {
  skip: SKIP,
}, async () => {
  const ctx = await tempTree({ Dockerfile: "FROM busybox\nRUN echo bad; exit 3\n" });
  const r = await buildx(["build", "-t", "bx-fail", ctx]);
  assert.equal(r.code, 1);
  assert.match(
    r.stderr,
    /ERROR: failed to solve: process "\/bin\/sh -c echo bad; exit 3" did not complete successfully: exit code: 3/,
  );
  const img = await docker(d, ["image", "inspect", "bx-fail"]);
  assert.notEqual(img.code, 0);
});

test("Ctrl-C stops the build at once and leaves no container", { skip: SKIP }, async () => {
  const ctx = await tempTree({ Dockerfile: "FROM busybox\nRUN echo long-step && sleep 60\n" });
  // Its own process group, as a terminal's foreground job: Ctrl-C signals the CLI and its plugin together.
  const p = spawn(DOCKER, ["-H", d.host, "buildx", "build", "--progress=plain", ctx], {
    env: { ...process.env, DOCKER_CONFIG: config },
    detached: true,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let err = "";
  const started = new Promise<void>((resolve) => {
    p.stderr.on("data", (c: Buffer) => {
      err += c.toString();
      if (err.includes("long-step")) resolve();
    });
  });
  const exited = new Promise<number | null>((resolve) => p.once("exit", (code) => resolve(code)));
  await started;
  const t0 = Date.now();
  process.kill(-(p.pid ?? 0), "SIGINT");
  const code = await exited;
  assert.notEqual(code, 0);
  assert.ok(Date.now() - t0 < 10_000, "the build stopped well before its step would have");
  assert.match(err, /context canceled/);
  // The step's container goes with the build.
  const deadline = Date.now() + 10_000;
  for (;;) {
    const left = await api<unknown[]>(d, "GET", "/containers/json?all=1");
    if (left.length === 0) break;
    assert.ok(Date.now() < deadline, `containers left: ${JSON.stringify(left)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
});

test("buildx du lists the build cache and prune -f empties it, as against dockerd", {
  skip: SKIP,
}, async () => {
  const du = await ok(["du"]);
  assert.match(du.stdout, /^ID\s+RECLAIMABLE\s+SIZE\s+LAST ACCESSED/);
  assert.match(du.stdout, /Less than a second ago|seconds? ago|minutes? ago/);
  const pruned = await ok(["prune", "-f"]);
  assert.match(pruned.stdout, /^ID\s+RECLAIMABLE/);
  assert.match(pruned.stdout, /Total:/);
  const after = await ok(["du"]);
  assert.doesNotMatch(after.stdout, /^[0-9a-f]{64}\s/m);
});

test("a 50 MB context of 2000 files, a symlink and a setuid file arrive intact", { skip: SKIP }, async () => {
  const ctx = await tempTree({ Dockerfile: "FROM busybox\nCOPY . /c/\n" });
  for (let i = 0; i < 20; i++) {
    await mkdir(join(ctx, "data", `d${i}`), { recursive: true });
    for (let j = 0; j < 100; j++) await writeFile(join(ctx, "data", `d${i}`, `f${j}`), randomBytes(25 << 10));
  }
  await symlink("data/d0/f0", join(ctx, "link"));
  await writeFile(join(ctx, "suid"), "#!/bin/sh\n");
  await chmod(join(ctx, "suid"), 0o4755);
  const want = await exec("sh", [
    "-c",
    `cd ${ctx}/data && find . -type f | LC_ALL=C sort | xargs sha256sum | sha256sum`,
  ]);
  await ok(["build", "--load", "-t", "bx-big", ctx]);
  assert.equal(
    await runSh(
      d,
      "bx-big",
      "cd /c && find data -type f | wc -l && readlink link && stat -c %a suid && " +
        "cd data && find . -type f | LC_ALL=C sort | xargs sha256sum | sha256sum",
    ),
    `2000\ndata/d0/f0\n4755\n${want.stdout}`,
  );
});

test("two builds at once, heredocs, COPY --chmod/--chown, predefined platform ARGs", {
  skip: SKIP,
}, async () => {
  const mk = (word: string) =>
    tempTree({
      Dockerfile:
        "FROM busybox\nARG TARGETPLATFORM\nCOPY --chmod=0741 --chown=12:34 w /w\n" +
        `RUN <<EOF\nsleep 1\necho "$TARGETPLATFORM ${word}" > /got\nEOF\n`,
      w: `${word}\n`,
    });
  const [a, b] = await Promise.all([mk("left"), mk("right")]);
  await Promise.all([
    ok(["build", "--load", "-t", "bx-left", a]),
    ok(["build", "--load", "-t", "bx-right", b]),
  ]);
  const arch = process.arch === "arm64" ? "arm64" : "amd64";
  assert.equal(
    await runSh(d, "bx-left", "cat /got /w; stat -c '%a %u:%g' /w"),
    `linux/${arch} left\nleft\n741 12:34\n`,
  );
  assert.equal(await runSh(d, "bx-right", "cat /got"), `linux/${arch} right\n`);
});

test("another frontend, another architecture, another exporter: a clear error at once", {
  skip: SKIP,
}, async () => {
  const other = process.arch === "arm64" ? "linux/amd64" : "linux/arm64";
  const ctx = await tempTree({ Dockerfile: "FROM busybox\nRUN true\n" });
  const plat = await buildx(["build", "--platform", other, ctx]);
  assert.equal(plat.code, 1);
  assert.match(plat.stderr, new RegExp(`ERROR: failed to solve: .*platform ${other} cannot be built`));
  const syn = await tempTree({ Dockerfile: "# syntax=example.com/my/frontend:1\nFROM busybox\n" });
  const s = await buildx(["build", syn]);
  assert.equal(s.code, 1);
  assert.match(
    s.stderr,
    /ERROR: failed to solve: .*syntax=example\.com\/my\/frontend:1 frontend is not supported/,
  );
  const oci = await buildx(["build", "-o", `type=oci,dest=${join(root, "x.oci")}`, ctx]);
  assert.equal(oci.code, 1);
  assert.match(oci.stderr, /ERROR: failed to solve: .*exporter "oci" is not supported/);
});
