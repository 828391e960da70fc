/**
 * Exec sessions against the real runc and conmon (root only). Every container, conmon and temp dir is
 * removed, also when a test fails.
 */
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { after, afterEach, before, describe, it } from "node:test";
import { collect, Harness, runtimeSkip, waitFor } from "../../test/fixtures/runtime/harness.ts";
import { isConflict } from "../errdefs/index.ts";
import { createRuntime } from "./conmon.ts";
import { procStat } from "./procfs.ts";
import { resolveUser } from "./user.ts";

describe("exec sessions", { skip: runtimeSkip, timeout: 60_000 }, () => {
  const h = new Harness("exec");
  before(() => h.setup());
  afterEach(() => h.cleanup());
  after(() => h.close());

  it("runs a command attached: stdout and stderr apart, nothing lost, exit code", async () => {
    const c = await h.running({ env: ["FOO=ctr", "KEEP=1"] });
    const s = await h.rt.exec(c.id, "e1", {
      args: ["sh", "-c", 'echo "out $FOO $KEEP $BAR"; echo err >&2; exit 5'],
      env: ["FOO=exec", "BAR=2"],
      attach: true,
    });
    assert.ok(s.pid > 0);
    const a = await s.attach();
    const [out, err, exit] = await Promise.all([collect(a.stdout), collect(a.stderr), s.exit]);
    assert.equal(out, "out exec 1 2\n");
    assert.equal(err, "err\n");
    assert.deepEqual(exit, { exitCode: 5 });
    // The session's files go once it has ended (just after exit resolves); the container runs on.
    const sessionDir = join(h.execRoot, "containers", c.id, "exec", "e1");
    for (const deadline = Date.now() + 30_000; existsSync(sessionDir) && Date.now() < deadline; )
      await new Promise((r) => setImmediate(r));
    assert.ok(!existsSync(sessionDir));
    assert.equal((await h.rt.state(c.id))?.status, "running");
  });

  it("reports 127 for a missing command and 126 for one that cannot run, without throwing", async () => {
    const c = await h.running();
    const missing = await h.rt.exec(c.id, "e-missing", { args: ["nope-not-here"], attach: true });
    assert.equal(missing.pid, 0);
    const m = await missing.exit;
    assert.equal(m.exitCode, 127);
    assert.match(m.error ?? "", /^OCI runtime exec failed: .*executable file not found.*: unknown$/);
    const denied = await h.rt.exec(c.id, "e-denied", { args: ["/etc/passwd"] });
    assert.equal((await denied.exit).exitCode, 126);
    const tty = await h.rt.exec(c.id, "e-missing-tty", {
      args: ["nope"],
      tty: true,
      stdin: true,
      attach: true,
    });
    assert.equal((await tty.exit).exitCode, 127);
    // A detached one too.
    const d = await h.rt.exec(c.id, "e-missing2", { args: ["/bin/nope"] });
    assert.equal((await d.exit).exitCode, 127);
  });

  it("records the exit code of a detached session", async () => {
    const c = await h.running();
    // Long enough to be seen alive after exec returns on a starved machine (0.1 s was not, under CI load).
    const s = await h.rt.exec(c.id, "e-det", { args: ["sh", "-c", "sleep 2; exit 9"] });
    assert.ok(s.pid > 0);
    assert.ok(await procStat(s.pid));
    assert.deepEqual(await s.exit, { exitCode: 9 });
  });

  it("pipes stdin; closing it gives the process EOF while output keeps flowing", async () => {
    const c = await h.running();
    const s = await h.rt.exec(c.id, "e-in", {
      args: ["sh", "-c", "cat; echo done"],
      stdin: true,
      attach: true,
    });
    const a = await s.attach();
    const out = collect(a.stdout);
    a.stdin.write("one\n");
    a.stdin.end("two\n");
    assert.equal((await s.exit).exitCode, 0);
    assert.equal(await out, "one\ntwo\ndone\n");
  });

  it("applies user, working dir and privileges; defaults come from the container", async () => {
    const user = await resolveUser(h.rootfs, "alice");
    const c = await h.running({ cwd: "/tmp" });
    const run = async (execId: string, o: Parameters<typeof h.rt.exec>[2]): Promise<string> => {
      const s = await h.rt.exec(c.id, execId, { ...o, attach: true });
      const a = await s.attach();
      const out = collect(a.stdout);
      assert.equal((await s.exit).exitCode, 0);
      return out;
    };
    const script = 'echo "$(id -u) $(id -g) $(pwd) $HOME"; grep CapEff /proc/self/status';
    assert.match(
      await run("u0", { args: ["sh", "-c", script] }),
      /^0 0 \/tmp \/root\nCapEff:\s+00000000a80425fb\n$/,
    );
    assert.match(
      await run("u1", { args: ["sh", "-c", script], user, cwd: "/home/alice" }),
      /^1000 1000 \/home\/alice \/home\/alice\nCapEff:\s+0000000000000000\n$/,
    );
    const priv = await run("u2", { args: ["sh", "-c", script], privileged: true });
    assert.doesNotMatch(priv, /CapEff:\s+00000000a80425fb/);
  });

  it("runs with a TTY and resizes it", async () => {
    const c = await h.running();
    const s = await h.rt.exec(c.id, "e-tty", {
      args: ["sh", "-c", "tty; stty size; read x; stty size; echo $TERM"],
      tty: true,
      stdin: true,
      consoleSize: { height: 12, width: 34 },
      attach: true,
    });
    const a = await s.attach();
    const out = collect(a.stdout);
    await waitFor(a.stdout, "12 34");
    await s.resize({ height: 40, width: 100 });
    await new Promise((r) => setTimeout(r, 100));
    a.stdin.write("go\n");
    assert.equal((await s.exit).exitCode, 0);
    const text = await out;
    assert.match(text, /\/dev\/pts\/\d+\r\n12 34\r\n/);
    assert.match(text, /40 100\r\nxterm\r\n/);
    await assert.rejects(s.resize({ height: 1, width: 1 }), isConflict);
  });

  it("works from a fresh runtime, as after a daemon restart: exec, stats, pause, top", async () => {
    const c = await h.running();
    const rt2 = createRuntime({ execRoot: h.execRoot });
    try {
      const s = await rt2.exec(c.id, "e-fresh", { args: ["echo", "again"], attach: true });
      const a = await s.attach();
      assert.equal(await collect(a.stdout), "again\n");
      assert.equal((await s.exit).exitCode, 0);
      assert.ok(((await rt2.stats(c.id))?.pids.current ?? 0) >= 1);
      await rt2.pause(c.id);
      assert.equal((await h.rt.state(c.id))?.status, "paused");
      await rt2.unpause(c.id);
      assert.deepEqual(await rt2.pids(c.id), [c.pid]);
      assert.equal((await rt2.top(c.id)).processes.length, 1);
    } finally {
      rt2.close();
    }
  });

  it("kills a session; a paused or stopped container refuses exec", async () => {
    const c = await h.running();
    const s = await h.rt.exec(c.id, "e-kill", { args: ["sleep", "100"] });
    await s.kill("KILL");
    assert.equal((await s.exit).exitCode, 137);
    await h.rt.pause(c.id);
    await assert.rejects(h.rt.exec(c.id, "e-paused", { args: ["true"] }), (e: unknown) => {
      assert.ok(isConflict(e));
      assert.match((e as Error).message, /is paused, unpause the container before exec/);
      return true;
    });
    await h.rt.unpause(c.id);
    await h.rt.kill(c.id, "KILL");
    await h.rt.waitExit(c.id);
    await assert.rejects(h.rt.exec(c.id, "e-late", { args: ["true"] }), isConflict);
  });
});
