import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { chmod, copyFile, mkdir, mkdtemp, rm, symlink, writeFile } from "node:fs/promises";
import { request } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { ProtoReader, ProtoWriter } from "../../../src/buildkit/proto.ts";
import { bcryptHash } from "../../../src/registry/index.ts";
import { api, docker, importBusybox, startDaemon, type TestDaemon } from "../../helpers/daemon.ts";
import { writeTree } from "../../helpers/tree.ts";
import { startWharfRegistry } from "../distribution/registries.ts";
import { abandonBuild, buildkitBuild, controlClient, controlSolve, startSession } from "./buildkit-client.ts";
import { startSshAgent } from "./ssh-agent.ts";

let d: TestDaemon;
let root: string;

before(async () => {
  d = await startDaemon({ name: "buildkit" });
  await importBusybox(d);
  root = await mkdtemp(join(tmpdir(), "wharf-bk-"));
});
after(async () => {
  await d?.stop();
  if (root) await rm(root, { recursive: true, force: true });
});

async function dir(files: Record<string, string>): Promise<string> {
  const p = join(root, randomBytes(4).toString("hex"));
  await writeTree(p, files);
  return p;
}

function fetchPing(socketPath: string): Promise<string | undefined> {
  return new Promise((resolve, reject) => {
    const req = request({ socketPath, method: "HEAD", path: "/_ping" }, (res) => {
      res.resume();
      const v = res.headers["builder-version"];
      resolve(Array.isArray(v) ? v[0] : v);
    });
    req.on("error", reject);
    req.end();
  });
}

async function run(image: string, cmd: string): Promise<string> {
  const r = await docker(d, ["run", "--rm", image, "sh", "-c", cmd]);
  assert.equal(r.code, 0, r.stderr);
  return r.stdout;
}

test("_ping announces BuildKit", async () => {
  const r = await fetchPing(d.socket);
  assert.equal(r, "2");
});

test("ListWorkers and Info answer over /grpc", async () => {
  const c = await controlClient(d.socket);
  try {
    const w = new ProtoReader(await c.unary("/moby.buildkit.v1.Control/ListWorkers", Buffer.alloc(0)));
    const rec = w.messages(1)[0];
    assert.ok(rec.string(1));
    const plat = rec.messages(3)[0];
    assert.equal(plat.string(2), "linux");
    const info = new ProtoReader(await c.unary("/moby.buildkit.v1.Control/Info", Buffer.alloc(0)));
    assert.match(info.message(1)?.string(2) ?? "", /^v0\./);
    await assert.rejects(c.unary("/moby.buildkit.v1.Control/NoSuch", Buffer.alloc(0)), /unknown method/);
  } finally {
    c.close();
  }
});

test("a build through the gateway: context over DiffCopy, steps as vertices, the image tagged", async () => {
  const ctx = await dir({
    Dockerfile:
      'FROM busybox\nARG MSG=none\nRUN echo "built $MSG" > /msg && echo step-output\nCOPY . /ctx/\n',
    "a.txt": "alpha\n",
    "sub/b.txt": "beta\n",
    "skip.log": "ignored\n",
    ".dockerignore": "*.log\n",
  });
  await symlink("a.txt", join(ctx, "link"));
  await writeFile(join(ctx, "suid"), "x");
  await chmod(join(ctx, "suid"), 0o4755);
  const r = await buildkitBuild(d.socket, {
    context: ctx,
    names: "bk-one:v1,bk-one:v2",
    frontendOpt: { "build-arg:MSG": "hello" },
  });
  assert.equal(r.error, undefined);
  assert.match(r.exporterResponse["containerimage.digest"] ?? "", /^sha256:[0-9a-f]{64}$/);
  const names = r.status.vertexes.map((v) => v.name);
  assert.ok(names.includes("[internal] load build context"), names.join("\n"));
  assert.ok(
    names.some((n) => n.includes("RUN echo")),
    names.join("\n"),
  );
  assert.ok(r.status.logs.some((l) => l.msg.includes("step-output")));
  assert.equal(await run("bk-one:v1", "cat /msg"), "built hello\n");
  const listing = await run(
    "bk-one:v2",
    "cd /ctx && ls -A | sort | tr '\\n' ' '; readlink link; stat -c %a suid",
  );
  assert.equal(listing, ".dockerignore Dockerfile a.txt link sub suid a.txt\n4755\n");

  const again = await buildkitBuild(d.socket, {
    context: ctx,
    names: "bk-one:v3",
    frontendOpt: { "build-arg:MSG": "hello" },
  });
  assert.equal(again.exporterResponse["containerimage.digest"], r.exporterResponse["containerimage.digest"]);
  const run1 = again.status.vertexes.filter((v) => v.name.includes("RUN echo") && v.completed);
  assert.ok(run1.length && run1.every((v) => v.cached), "second build uses the cache");
});

test("a failing step fails the solve with its exit code, tags nothing and leaves no container", async () => {
  const ctx = await dir({ Dockerfile: "FROM busybox\nRUN echo bad; exit 7\n" });
  const r = await buildkitBuild(d.socket, { context: ctx, names: "bk-fail" });
  assert.match(r.error ?? "", /did not complete successfully: exit code: 7/);
  const failed = r.status.vertexes.find((v) => v.error);
  assert.ok(failed?.name.includes("RUN echo bad"));
  await assert.rejects(api(d, "GET", "/images/bk-fail/json"), { status: 404 });
  assert.deepEqual(await api(d, "GET", "/containers/json?all=1"), []);
});

test("a Dockerfile elsewhere with its own .dockerignore", async () => {
  const ctx = await dir({ "keep.txt": "k", "drop.txt": "d", ".dockerignore": "keep.txt\n" });
  const dfDir = await dir({
    Dockerfile: "FROM busybox\nCOPY . /c/\n",
    "Dockerfile.dockerignore": "drop.txt\n",
  });
  const r = await buildkitBuild(d.socket, { context: ctx, dockerfileDir: dfDir, names: "bk-df" });
  assert.equal(r.error, undefined);
  assert.equal(await run("bk-df", "ls -A /c | sort | tr '\\n' ' '"), ".dockerignore keep.txt ");
});

test("an unknown # syntax frontend and other exporters answer clear errors", async () => {
  const ctx = await dir({ Dockerfile: "# syntax=example.com/my/frontend:1\nFROM busybox\n" });
  const r = await buildkitBuild(d.socket, { context: ctx, names: "bk-syntax" });
  assert.match(r.error ?? "", /syntax=example\.com\/my\/frontend:1 frontend is not supported/);
  const ok = await dir({ Dockerfile: "# syntax=docker/dockerfile:1.4\nFROM busybox\nRUN true\n" });
  assert.equal((await buildkitBuild(d.socket, { context: ok, names: "bk-syntax-ok" })).error, undefined);

  const c = await controlClient(d.socket);
  try {
    const req = controlSolve({ ref: "r-oci", session: "none", exporter: "oci" });
    await assert.rejects(c.unary("/moby.buildkit.v1.Control/Solve", req), /exporter "oci" is not supported/);
  } finally {
    c.close();
  }
});

test("Control.Solve with the dockerfile frontend runs it itself (buildctl's way)", async () => {
  const ctx = await dir({ Dockerfile: "FROM busybox\nRUN echo direct > /d\n" });
  const s = await startSession(d.socket, { context: ctx, dockerfileDir: ctx });
  const c = await controlClient(d.socket);
  try {
    const resp = await c.unary(
      "/moby.buildkit.v1.Control/Solve",
      controlSolve({ ref: "direct1", session: s.id, names: "bk-direct", frontend: "dockerfile.v0" }),
    );
    assert.match(new ProtoReader(resp).map(1)["containerimage.digest"] ?? "", /^sha256:/);
  } finally {
    c.close();
    s.close();
  }
  assert.equal(await run("bk-direct", "cat /d"), "direct\n");
});

test("DiskUsage lists the build cache", async () => {
  const c = await controlClient(d.socket);
  try {
    const du = new ProtoReader(await c.unary("/moby.buildkit.v1.Control/DiskUsage", Buffer.alloc(0)));
    assert.ok(du.messages(1).length > 0);
  } finally {
    c.close();
  }
});

test("RUN --mount: cache persists across builds, secrets come from the session, tmpfs and binds; none in the layer", async () => {
  const ctx = await dir({
    Dockerfile:
      "FROM busybox\n" +
      "RUN --mount=type=cache,target=/cache echo x >> /cache/n && wc -l < /cache/n\n" +
      "RUN --mount=type=secret,id=tok cp /run/secrets/tok /copied\n" +
      "RUN --mount=type=tmpfs,target=/t --mount=type=bind,source=sub,target=/ctx cat /ctx/f && touch /t/x\n",
    "sub/f": "bound\n",
  });
  const first = await buildkitBuild(d.socket, { context: ctx, names: "bk-mnt", secrets: { tok: "s3cret" } });
  assert.equal(first.error, undefined);
  assert.ok(first.status.logs.some((l) => l.msg.includes("bound")));
  assert.equal(
    await run("bk-mnt", "cat /copied; ls -d /cache /t /ctx /run/secrets/tok /run/secrets 2>/dev/null; true"),
    "s3cret",
  );
  const again = await buildkitBuild(d.socket, {
    context: ctx,
    names: "bk-mnt",
    secrets: { tok: "s3cret" },
    frontendOpt: { "no-cache": "" },
  });
  assert.equal(again.error, undefined);
  assert.ok(
    again.status.logs.some((l) => l.msg.trim() === "2"),
    "the cache mount kept the first build's file",
  );
});

test("RUN --mount=type=bind,from=<stage|image>: the stage's files, read-only, redone when the stage changes", async () => {
  const dockerfile = (word: string) =>
    "FROM busybox AS tools\n" +
    `RUN mkdir -p /opt/t && echo ${word} > /opt/t/word && ln -s /etc/hostname /opt/t/escape\n` +
    "FROM busybox AS unused\nRUN false\n" +
    "FROM busybox\n" +
    "RUN --mount=type=bind,from=tools,source=/opt/t,target=/t cp /t/word /got && ! touch /t/new\n" +
    "RUN --mount=type=bind,from=busybox,target=/b test -x /b/bin/sh && echo image-ok > /img\n";
  const ctx = await dir({ Dockerfile: dockerfile("first") });
  const r = await buildkitBuild(d.socket, { context: ctx, names: "bk-from" });
  assert.equal(r.error, undefined);
  // The unused stage (RUN false) is not built: only stages the target reads are.
  assert.equal(await run("bk-from", "cat /got /img; ls -d /t /b 2>/dev/null; true"), "first\nimage-ok\n");
  await writeFile(join(ctx, "Dockerfile"), dockerfile("second"));
  const again = await buildkitBuild(d.socket, { context: ctx, names: "bk-from" });
  assert.equal(again.error, undefined);
  assert.equal(await run("bk-from", "cat /got"), "second\n");
});

test("-o type=local and type=tar send the image's files back over the session", async () => {
  const ctx = await dir({ Dockerfile: "FROM busybox\nRUN echo exported > /out.txt\n" });
  const local = await buildkitBuild(d.socket, { context: ctx, exporter: "local" });
  assert.equal(local.error, undefined);
  assert.equal(local.exported.files?.get("out.txt")?.toString(), "exported\n");
  const tarred = await buildkitBuild(d.socket, { context: ctx, exporter: "tar" });
  assert.equal(tarred.error, undefined);
  const bytes = tarred.exported.bytes ?? Buffer.alloc(0);
  assert.ok(bytes.length > 1024);
  assert.ok(bytes.includes(Buffer.from("exported\n")));
});

test("a step's stderr is logged apart from its stdout; platform ARGs are predefined", async () => {
  const ctx = await dir({
    Dockerfile:
      "FROM busybox\nARG TARGETARCH\nARG BUILDPLATFORM\n" +
      'RUN echo "out-$TARGETARCH" && echo "err-$BUILDPLATFORM" >&2\n',
  });
  const r = await buildkitBuild(d.socket, { context: ctx, names: "bk-streams" });
  assert.equal(r.error, undefined);
  const arch = process.arch === "arm64" ? "arm64" : "amd64";
  const out = r.status.logs.find((l) => l.msg.includes(`out-${arch}`));
  const err = r.status.logs.find((l) => l.msg.includes(`err-linux/${arch}`));
  assert.equal(out?.stream, 1);
  assert.equal(err?.stream, 2);
});

test("RUN --mount=type=ssh: a socket that forwards to the client's agent; required without one fails", async (t) => {
  const agent = await startSshAgent(root);
  if (!agent) return t.skip("ssh-agent is not installed (scripts/setup.sh installs openssh-client)");
  t.after(() => agent.stop());
  // busybox has no unix-socket client: the host's ssh-add and its libraries go in the context.
  const ctx = await dir({
    Dockerfile:
      "FROM busybox\nCOPY x /x\n" +
      "RUN --mount=type=ssh echo sock=$SSH_AUTH_SOCK && /x/ld.so --library-path /x /x/ssh-add -l\n" +
      "RUN --mount=type=ssh,id=other,target=/agent,required=true SSH_AUTH_SOCK=/agent /x/ld.so --library-path /x /x/ssh-add -l\n",
  });
  await mkdir(join(ctx, "x"));
  for (const lib of agent.sshAddFiles)
    await copyFile(
      lib,
      join(
        ctx,
        "x",
        lib.endsWith("ssh-add") ? "ssh-add" : /ld-linux/.test(lib) ? "ld.so" : (lib.split("/").pop() ?? ""),
      ),
    );
  const r = await buildkitBuild(d.socket, {
    context: ctx,
    names: "bk-ssh",
    sshAgents: { default: agent.socket, other: agent.socket },
  });
  assert.equal(r.error, undefined);
  const logs = r.status.logs.map((l) => l.msg).join("");
  assert.match(logs, /sock=\/run\/buildkit\/ssh_agent\.0/);
  assert.equal(logs.match(/wharf-test-key \(ED25519\)/g)?.length, 2, logs);
  assert.equal(
    await run("bk-ssh", "ls /run/buildkit /agent 2>&1; true"),
    "ls: /run/buildkit: No such file or directory\nls: /agent: No such file or directory\n",
  );

  const none = await dir({ Dockerfile: 'FROM busybox\nRUN --mount=type=ssh test -z "$SSH_AUTH_SOCK"\n' });
  assert.equal((await buildkitBuild(d.socket, { context: none, names: "bk-ssh-none" })).error, undefined);
  const req = await dir({ Dockerfile: "FROM busybox\nRUN --mount=type=ssh,required=true true\n" });
  const failed = await buildkitBuild(d.socket, { context: req, names: "bk-ssh-req" });
  assert.match(failed.error ?? "", /no SSH key "default" forwarded from the client/);
});

test("a base image from a registry with credentials pulls with the session's Auth/Credentials", async (t) => {
  await writeFile(join(root, "htpasswd"), `alice:${bcryptHash("s3cret", 5)}\n`);
  const reg = await startWharfRegistry(["--htpasswd", join(root, "htpasswd")]);
  t.after(() => reg.stop());
  const name = `${reg.host}/team/box:1`;
  const login = await docker(d, ["login", "-u", "alice", "--password-stdin", reg.host], {
    input: "s3cret\n",
  });
  assert.equal(login.code, 0, login.stderr);
  for (const args of [
    ["tag", "busybox:latest", name],
    ["push", name],
    ["logout", reg.host],
    ["rmi", name],
  ]) {
    const r = await docker(d, args);
    assert.equal(r.code, 0, r.stderr);
  }
  const ctx = await dir({ Dockerfile: `FROM ${name}\nRUN echo pulled > /p\n` });
  const anon = await buildkitBuild(d.socket, { context: ctx, names: "bk-auth" });
  assert.match(anon.error ?? "", /pull access denied/);
  const r = await buildkitBuild(d.socket, {
    context: ctx,
    names: "bk-auth",
    credentials: { [reg.host]: { username: "alice", secret: "s3cret" } },
  });
  assert.equal(r.error, undefined);
  assert.ok(r.credentialHosts.includes(reg.host), r.credentialHosts.join(","));
  assert.equal(await run("bk-auth", "cat /p"), "pulled\n");
});

test("vertices are named as BuildKit's: per stage, file-changing steps only, statuses the client sizes", async () => {
  const ctx = await dir({
    Dockerfile:
      "FROM busybox AS base\nARG X=1\nENV Y=2\nRUN echo one\nFROM base\nWORKDIR /w\nCOPY f /w/\nLABEL a=b\n",
    f: "x",
  });
  const r = await buildkitBuild(d.socket, { context: ctx, names: "bk-names" });
  assert.equal(r.error, undefined);
  const names = [...new Set(r.status.vertexes.map((v) => v.name))];
  assert.deepEqual(
    names.filter((n) => n.startsWith("[") && !n.startsWith("[internal]")),
    [
      "[base 1/2] FROM docker.io/library/busybox:latest",
      "[base 2/2] RUN echo one",
      "[stage-1 1/2] WORKDIR /w",
      "[stage-1 2/2] COPY f /w/",
    ],
  );
  assert.ok(names.includes("exporting to image"));
  assert.equal(
    names.filter((n) => n === "[internal] load metadata for docker.io/library/busybox:latest").length,
    1,
  );
  // The client prints the id and then the size itself ("transferring dockerfile: 84B done").
  const df = r.status.statuses.find((st) => st.id.startsWith("transferring dockerfile"));
  assert.equal(df?.id, "transferring dockerfile:");
  assert.ok((df?.current ?? 0) > 0);
  assert.ok(r.status.statuses.some((st) => st.id === "naming to docker.io/library/bk-names"));
});

test("a client that goes mid-step cancels the build: its container is killed and removed at once", async () => {
  const ctx = await dir({ Dockerfile: "FROM busybox\nRUN echo long-step && sleep 60\n" });
  // Gone the moment the step's first line arrives: the container is still starting then, or just started.
  await abandonBuild(d.socket, ctx, (m) =>
    m.messages(3).some((l) => l.bytes(4).toString().includes("long-step")),
  );
  const deadline = Date.now() + 10_000;
  for (;;) {
    const left = await api<unknown[]>(d, "GET", "/containers/json?all=1");
    if (left.length === 0) break;
    assert.ok(Date.now() < deadline, `containers left: ${JSON.stringify(left)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
});

test("Control.Prune forgets every build cache record, as BuildKit's prune without filters", async () => {
  const ctx = await dir({ Dockerfile: "FROM busybox\nRUN echo prune-me > /p\n" });
  assert.equal((await buildkitBuild(d.socket, { context: ctx, names: "bk-prune" })).error, undefined);
  const c = await controlClient(d.socket);
  try {
    const du = async () =>
      new ProtoReader(await c.unary("/moby.buildkit.v1.Control/DiskUsage", Buffer.alloc(0))).messages(1)
        .length;
    assert.ok((await du()) > 0);
    const call = c.call("/moby.buildkit.v1.Control/Prune");
    // As buildx sends it: its filters joined into one string field, empty when there are none.
    await call.send(new ProtoWriter().bytes(1, Buffer.alloc(0), { always: true }).finish());
    call.end();
    let deleted = 0;
    for await (const _ of call.messages()) deleted++;
    await call.done;
    assert.ok(deleted > 0);
    assert.equal(await du(), 0);
  } finally {
    c.close();
  }
  const again = await buildkitBuild(d.socket, { context: ctx, names: "bk-prune" });
  assert.ok(!again.status.vertexes.some((v) => v.name.includes("RUN echo prune-me") && v.cached));
});
