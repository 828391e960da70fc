/** `wharf build` against a real daemon: classic builder output, exit codes and tags, compared with docker's. */
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import {
  DOCKER,
  exec,
  importBusybox,
  startDaemon,
  type TestDaemon,
  WHARF,
  wharf,
} from "../../helpers/daemon.ts";

let d: TestDaemon;
let ctx: string;

before(async () => {
  d = await startDaemon({ name: "clibld" });
  await importBusybox(d);
  ctx = await mkdtemp(join(tmpdir(), "wcli-bld-"));
  await writeFile(
    join(ctx, "Dockerfile"),
    "FROM busybox\nARG X=def\nCOPY f.txt /f.txt\nRUN echo built-$X\nLABEL a=b\n",
  );
  await writeFile(join(ctx, "fail.Dockerfile"), "FROM busybox\nRUN exit 42\n");
  await writeFile(join(ctx, "f.txt"), "file\n");
});
after(async () => {
  await d?.stop();
  if (ctx) await rm(ctx, { recursive: true, force: true });
});

function dockerBuild(args: string[]) {
  return exec(DOCKER, ["-H", d.host, "build", ...args], {
    env: { DOCKER_CONFIG: join(d.dir, "docker-config"), DOCKER_BUILDKIT: "0" },
  });
}

/** IDs and container IDs vary between builds; the rest must read the same. */
function shape(s: string): string {
  return s.replace(/[0-9a-f]{12,64}/g, "ID");
}

describe("build against the daemon", { skip: !existsSync(DOCKER) }, () => {
  test("output, tags and cache read as docker's classic builder", async () => {
    const w = await wharf(d, ["build", "--no-cache", "-t", "built:w", "--build-arg", "X=1", ctx]);
    const k = await dockerBuild(["--no-cache", "-t", "built:k", "--build-arg", "X=1", ctx]);
    assert.equal(w.code, 0, w.stderr);
    assert.equal(shape(w.stdout).replace(/built:w/g, "built:k"), shape(k.stdout));
    assert.match(w.stdout, /^Successfully tagged built:w$/m);
    const q = await wharf(d, ["build", "-q", "-t", "built:q", ctx]);
    assert.equal(q.code, 0, q.stderr);
    assert.match(q.stdout, /^sha256:[0-9a-f]{64}\n$/);
    const iid = (await wharf(d, ["image", "inspect", "-f", "{{.Id}}", "built:q"])).stdout;
    assert.equal(q.stdout, iid);
  });

  test("a failing RUN exits with its code and docker's message", async () => {
    const w = await wharf(d, ["build", "-f", join(ctx, "fail.Dockerfile"), ctx]);
    const k = await dockerBuild(["-f", join(ctx, "fail.Dockerfile"), ctx]);
    assert.equal(w.code, k.code);
    assert.equal(shape(w.stderr), shape(k.stderr.replace(/^DEPRECATED:[\s\S]*?\n\n/, "")));
  });

  test("a Dockerfile on stdin", async () => {
    const w = await exec(
      "sh",
      ["-c", `printf 'FROM busybox\\nRUN echo piped\\n' | ${WHARF} build -t piped -`],
      {
        env: { WHARF_HOST: d.host },
      },
    );
    assert.equal(w.code, 0, w.stderr);
    assert.match(w.stdout, /^piped$/m);
    assert.match(w.stdout, /^Successfully tagged piped:latest$/m);
  });
});
