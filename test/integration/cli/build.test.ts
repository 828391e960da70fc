/**
 * `wharf build` sends what the docker CLI's classic builder sends (query, .dockerignore'd context,
 * Dockerfile placement) and prints what it prints, both checked against a fake daemon.
 */
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { after, before, describe, test } from "node:test";
import tar from "tar-stream";
import { DOCKER, exec, WHARF } from "../../helpers/daemon.ts";
import { type FakeDaemon, startFake } from "./capture.ts";

let f: FakeDaemon;
let ctx: string;

before(async () => {
  f = await startFake();
  ctx = await mkdtemp(join(tmpdir(), "wcli-build-"));
  await mkdir(join(ctx, "app", "node_modules", "dep"), { recursive: true });
  await mkdir(join(ctx, "logs"), { recursive: true });
  await writeFile(join(ctx, "Dockerfile"), "FROM busybox\nCOPY . /src\n");
  await writeFile(join(ctx, "other.Dockerfile"), "FROM busybox\n");
  await writeFile(
    join(ctx, ".dockerignore"),
    "# comment\n**/node_modules\nlogs\n*.md\n!KEEP.md\nDockerfile\n",
  );
  await writeFile(join(ctx, "app", "main.js"), "1");
  await writeFile(join(ctx, "app", "node_modules", "dep", "x.js"), "2");
  await writeFile(join(ctx, "logs", "a.log"), "3");
  await writeFile(join(ctx, "README.md"), "4");
  await writeFile(join(ctx, "KEEP.md"), "5");
});
after(async () => {
  await f?.close();
  if (ctx) await rm(ctx, { recursive: true, force: true });
});

async function entries(raw: Buffer): Promise<string[]> {
  const names: string[] = [];
  const ex = tar.extract();
  const done = (async () => {
    for await (const e of ex) {
      names.push(e.header.name.replace(/^\.dockerfile\.[0-9a-f]+$/, ".dockerfile.RANDOM"));
      e.resume();
    }
  })();
  Readable.from([raw]).pipe(ex as unknown as NodeJS.WritableStream);
  // Docker's CLI ends a rewritten context (Dockerfile added) without the final padding tar-stream wants.
  await done.catch((err: Error) => {
    if (!/Unexpected end of data/.test(err.message)) throw err;
  });
  return names.sort();
}

async function build(cli: string, args: string[], input?: string) {
  f.requests.length = 0;
  const r =
    cli === DOCKER
      ? await exec(DOCKER, ["-H", f.host, "build", ...args], {
          env: { DOCKER_CONFIG: f.dir, DOCKER_BUILDKIT: "0" },
          input,
        })
      : await exec(WHARF, ["build", ...args], { env: { WHARF_HOST: f.host }, input });
  const req = f.requests.find((q) => q.path === "/build");
  const query = { ...req?.query };
  if (query.dockerfile)
    query.dockerfile = query.dockerfile.map((x) =>
      x.replace(/^\.dockerfile\.[0-9a-f]+$/, ".dockerfile.RANDOM"),
    );
  return { ...r, query, files: req ? await entries(req.raw) : [] };
}

const CASES: string[][] = [
  ["."],
  [
    "-t",
    "a:1",
    "-t",
    "b",
    "--build-arg",
    "X=1",
    "--build-arg",
    "HOME",
    "--build-arg",
    "UNSET_XYZ",
    "--label",
    "l=v",
    "--target",
    "t",
    "--no-cache",
    "--pull",
    ".",
  ],
  ["-f", "other.Dockerfile", "--rm=false", "--force-rm", "--network", "host", "."],
  ["-q", "."],
];

describe("build requests and output match the docker CLI's", { skip: !existsSync(DOCKER) }, () => {
  for (const args of CASES) {
    test(args.join(" "), async () => {
      const k = await build(
        DOCKER,
        args.map((a) => (a === "." ? ctx : a)),
      );
      const w = await build(
        WHARF,
        args.map((a) => (a === "." ? ctx : a)),
      );
      assert.deepEqual(w.query, k.query);
      assert.deepEqual(w.files, k.files);
      assert.equal(w.stdout, k.stdout);
      assert.equal(w.code, k.code);
    });
  }

  test("a Dockerfile outside the context, and one from stdin", async () => {
    const outside = join(tmpdir(), `wcli-df-${process.pid}`);
    await writeFile(outside, "FROM busybox\n");
    try {
      const k = await build(DOCKER, ["-f", outside, ctx]);
      const w = await build(WHARF, ["-f", outside, ctx]);
      assert.deepEqual(w.files, k.files);
      assert.deepEqual(w.query.dockerfile, k.query.dockerfile);
    } finally {
      await rm(outside, { force: true });
    }
    const k = await build(DOCKER, ["-f", "-", ctx], "FROM busybox\n");
    const w = await build(WHARF, ["-f", "-", ctx], "FROM busybox\n");
    assert.deepEqual(w.files, k.files);
    assert.deepEqual(w.query.dockerfile, k.query.dockerfile);
    const k2 = await build(DOCKER, ["-"], "FROM busybox\n");
    const w2 = await build(WHARF, ["-"], "FROM busybox\n");
    assert.deepEqual(w2.files, k2.files);
    assert.deepEqual(w2.query, k2.query);
  });

  test("context errors read as docker's", async () => {
    for (const args of [["/nonexistent/ctx"], ["-f", "/nonexistent/Dockerfile", ctx]]) {
      const k = await build(DOCKER, args);
      const w = await build(WHARF, args);
      assert.equal(w.code, k.code);
      assert.equal(w.stderr, k.stderr.replace(/^DEPRECATED:[\s\S]*?\n\n/, ""));
    }
  });
});
