/**
 * BuildKit builds through our own protocol client (test/integration/build/buildkit-client.ts): a big context
 * over DiffCopy, special files arriving intact, two builds at once, the Dockerfile features BuildKit users
 * write (heredocs, COPY --link/--chmod/--chown, --target), and a foreign --platform refused without a hang.
 */
import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import { chmod, link, mkdir, mkdtemp, rm, symlink, utimes, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { api, importBusybox, runSh, startDaemon, type TestDaemon } from "../../helpers/daemon.ts";
import { tempTree } from "../../helpers/tree.ts";
import { abandonBuild, buildkitBuild } from "./buildkit-client.ts";

let d: TestDaemon;
let root: string;

before(async () => {
  d = await startDaemon({ name: "bkctx" });
  await importBusybox(d);
  root = await mkdtemp(join(tmpdir(), "wharf-bkctx-"));
});
after(async () => {
  await d?.stop();
  if (root) await rm(root, { recursive: true, force: true });
});

test("a 50 MB context of 2000 files arrives whole", async () => {
  const ctx = await tempTree({ Dockerfile: "FROM busybox\nCOPY data /data\n" });
  // sha256sum's own listing of every file, as the container prints it: the two must agree byte for byte.
  const lines: string[] = [];
  for (let i = 0; i < 20; i++) {
    await mkdir(join(ctx, "data", `d${i}`), { recursive: true });
    for (let j = 0; j < 100; j++) {
      const body = randomBytes(25 << 10);
      const rel = `./d${i}/f${j}`;
      await writeFile(join(ctx, "data", rel), body);
      lines.push(`${createHash("sha256").update(body).digest("hex")}  ${rel}`);
    }
  }
  lines.sort((a, b) => (a.slice(66) < b.slice(66) ? -1 : 1));
  const want = createHash("sha256")
    .update(`${lines.join("\n")}\n`)
    .digest("hex");
  const r = await buildkitBuild(d.socket, { context: ctx, names: "bkctx-big" });
  assert.equal(r.error, undefined);
  const got = await runSh(
    d,
    "bkctx-big",
    "cd /data && find . -type f | wc -l && find . -type f | LC_ALL=C sort | xargs sha256sum | sha256sum",
  );
  assert.equal(got, `2000\n${want}  -\n`);
});

test("special files arrive intact: setuid, setgid, sticky, symlinks, empty dirs, mtimes, hard links (kept as links)", async () => {
  const ctx = await tempTree({
    Dockerfile: "FROM busybox\nCOPY . /c/\n",
    "plain.txt": "p\n",
    "sub/x": "x\n",
  });
  await writeFile(join(ctx, "suid"), "#!/bin/sh\n");
  await chmod(join(ctx, "suid"), 0o4755);
  await writeFile(join(ctx, "sgid"), "g");
  await chmod(join(ctx, "sgid"), 0o2750);
  await mkdir(join(ctx, "sticky"));
  await chmod(join(ctx, "sticky"), 0o1777);
  await writeFile(join(ctx, "private"), "s");
  await chmod(join(ctx, "private"), 0o600);
  await mkdir(join(ctx, "empty"));
  await symlink("plain.txt", join(ctx, "rel-link"));
  await symlink("sub", join(ctx, "dir-link"));
  await symlink("/nowhere/at/all", join(ctx, "dangling"));
  await link(join(ctx, "plain.txt"), join(ctx, "hard"));
  await utimes(join(ctx, "plain.txt"), 1_500_000_000, 1_500_000_000);
  const r = await buildkitBuild(d.socket, { context: ctx, names: "bkctx-special" });
  assert.equal(r.error, undefined);
  const out = await runSh(
    d,
    "bkctx-special",
    "cd /c && stat -c '%n %a' suid sgid sticky private empty && readlink rel-link && readlink dir-link && readlink dangling && " +
      "cat dir-link/x && stat -c %Y plain.txt hard && cat hard && " +
      // One inode, as BuildKit keeps it: the same inode number and a link count of 2.
      '[ "$(stat -c %i plain.txt)" = "$(stat -c %i hard)" ] && stat -c %h hard',
  );
  assert.equal(
    out,
    "suid 4755\nsgid 2750\nsticky 1777\nprivate 600\nempty 755\nplain.txt\nsub\n/nowhere/at/all\nx\n1500000000\n1500000000\np\n2\n",
  );
});

test("two builds at once both finish, each with its own context and image", async () => {
  const mk = (word: string) =>
    tempTree({
      Dockerfile: `FROM busybox\nCOPY w /w\nRUN sleep 1 && cat /w > /got && echo ${word}-ran\n`,
      w: `${word}\n`,
    });
  const [a, b] = await Promise.all([mk("left"), mk("right")]);
  const [ra, rb] = await Promise.all([
    buildkitBuild(d.socket, { context: a, names: "bkctx-left" }),
    buildkitBuild(d.socket, { context: b, names: "bkctx-right" }),
  ]);
  assert.equal(ra.error, undefined);
  assert.equal(rb.error, undefined);
  // Each client sees its own build's logs only.
  const logs = (x: typeof ra) => x.status.logs.map((l) => l.msg).join("");
  assert.match(logs(ra), /left-ran/);
  assert.doesNotMatch(logs(ra), /right-ran/);
  assert.match(logs(rb), /right-ran/);
  assert.doesNotMatch(logs(rb), /left-ran/);
  assert.equal(await runSh(d, "bkctx-left", "cat /got"), "left\n");
  assert.equal(await runSh(d, "bkctx-right", "cat /got"), "right\n");
});

test("heredocs, COPY --link/--chmod/--chown and --target", async () => {
  const ctx = await tempTree({
    Dockerfile:
      "FROM busybox AS base\n" +
      "RUN <<EOF\necho one > /h1\necho two >> /h1\nEOF\n" +
      "RUN <<-EOT sh\n\techo tabbed > /h2\n\tEOT\n" +
      "ENV WHO=world\n" +
      "COPY <<EOF /etc/greeting\nhello $WHO\nEOF\n" +
      "COPY <<'EOF' /etc/raw\nraw $WHO\nEOF\n" +
      "COPY --chmod=0741 --chown=123:456 a.txt /a.txt\n" +
      "COPY --link b.txt /linked/b.txt\n" +
      "FROM base AS final\nRUN echo final > /final\n",
    "a.txt": "alpha\n",
    "b.txt": "beta\n",
  });
  const r = await buildkitBuild(d.socket, {
    context: ctx,
    names: "bkctx-feat",
    frontendOpt: { target: "base" },
  });
  assert.equal(r.error, undefined);
  assert.ok(!r.status.vertexes.some((v) => v.name.includes("echo final")), "the final stage is not built");
  assert.equal(
    await runSh(
      d,
      "bkctx-feat",
      "cat /h1 /h2 /etc/greeting /etc/raw /linked/b.txt && stat -c '%a %u:%g' /a.txt && ls /final 2>&1; true",
    ),
    "one\ntwo\ntabbed\nhello world\nraw $WHO\nbeta\n741 123:456\nls: /final: No such file or directory\n",
  );
});

test("--platform for another architecture fails at once with a clear error, nothing left behind", async () => {
  const other = process.arch === "arm64" ? "linux/amd64" : "linux/arm64";
  const ctx = await tempTree({ Dockerfile: "FROM busybox\nRUN true\n" });
  const r = await buildkitBuild(d.socket, {
    context: ctx,
    names: "bkctx-arm",
    frontendOpt: { platform: other },
  });
  assert.match(r.error ?? "", new RegExp(`platform ${other} cannot be built`));
  await assert.rejects(api(d, "GET", "/images/bkctx-arm/json"), { status: 404 });
  const multi = await buildkitBuild(d.socket, {
    context: ctx,
    names: "bkctx-multi",
    frontendOpt: { platform: `linux/amd64,${other}` },
  });
  assert.match(multi.error ?? "", /multi-platform builds .* are not supported/);
  const inFrom = await tempTree({ Dockerfile: `FROM --platform=${other} busybox\nRUN true\n` });
  const r2 = await buildkitBuild(d.socket, { context: inFrom, names: "bkctx-from" });
  assert.match(r2.error ?? "", new RegExp(`platform ${other} cannot be built`));
  const host = await tempTree({ Dockerfile: "FROM --platform=$BUILDPLATFORM busybox\nRUN true\n" });
  assert.equal((await buildkitBuild(d.socket, { context: host, names: "bkctx-host" })).error, undefined);
  assert.deepEqual(await api(d, "GET", "/containers/json?all=1"), []);
});

test("refused builds in a burst leave the daemon serving (their context streams end with an error)", async () => {
  // Three at once, five times: the refusal resets the sessions while the context tar is being written, and
  // an entry destroyed without an error listener once threw out of the daemon (seen on CI).
  const other = process.arch === "arm64" ? "linux/amd64" : "linux/arm64";
  const ctx = await tempTree({ Dockerfile: "FROM busybox\nRUN true\n" });
  for (let i = 0; i < 5; i++) {
    const rs = await Promise.all(
      [0, 1, 2].map(() =>
        buildkitBuild(d.socket, { context: ctx, names: "bkctx-burst", frontendOpt: { platform: other } }),
      ),
    );
    for (const r of rs) assert.match(r.error ?? "", new RegExp(`platform ${other} cannot be built`));
  }
  assert.equal(d.proc.exitCode, null);
  await api(d, "GET", "/_ping");
});

test("a client gone in the middle of sending its context leaves the daemon serving", async () => {
  const ctx = await tempTree({ Dockerfile: "FROM busybox\nCOPY big /big\n" });
  await writeFile(join(ctx, "big"), randomBytes(48 << 20));
  // Gone once the context's bytes start to flow: the daemon is then mid-file in its tar of the context.
  await abandonBuild(d.socket, ctx, (m) =>
    m.messages(2).some((st) => st.string(1).startsWith("transferring context") && st.int(4) > 0),
  );
  const again = await tempTree({ Dockerfile: "FROM busybox\nRUN echo still-here\n" });
  const r = await buildkitBuild(d.socket, { context: again, names: "bkctx-after" });
  assert.equal(r.error, undefined);
  const deadline = Date.now() + 10_000;
  while ((await api<unknown[]>(d, "GET", "/containers/json?all=1")).length) {
    assert.ok(Date.now() < deadline, "a container was left behind");
    await new Promise((res) => setTimeout(res, 100));
  }
});

test("a refused exporter ends the build: the client's gateway Solve runs no step", async () => {
  const ctx = await tempTree({ Dockerfile: "FROM busybox\nRUN echo never-run\n" });
  const r = await buildkitBuild(d.socket, { context: ctx, exporter: "oci" });
  assert.match(r.error ?? "", /exporter "oci" is not supported by wharf/);
  assert.ok(!r.status.vertexes.some((v) => v.name.includes("never-run")));
  assert.ok(!r.status.logs.some((l) => l.msg.includes("never-run")));
});
