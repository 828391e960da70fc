/**
 * Integration tests against the real runc and conmon (needs root, /usr/sbin/runc, /usr/bin/conmon and
 * Debian's busybox-static). Every container is deleted, every conmon killed and every temp dir removed,
 * also when a test fails.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readdir, readFile, rm, rmdir } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Readable } from "node:stream";
import { after, afterEach, before, describe, it } from "node:test";
import { makeBusyboxRootfs } from "../../test/fixtures/runtime/busybox.ts";
import { isConflict, isInvalidParameter } from "../errdefs/index.ts";
import type { OciSpec } from "../oci/index.ts";
import { type ContainerRuntime, createRuntime } from "./conmon.ts";
import { isOciRuntimeError } from "./errors.ts";
import { readLog } from "./logfile.ts";
import { procStat } from "./procfs.ts";
import { daemonRlimits } from "./rlimits.ts";
import { buildSpec, type SpecInput } from "./spec.ts";
import { ensureWorkdir, resolveUser } from "./user.ts";

const CGROUP_PARENT = `/wharf-int-${process.pid}`;
const usable =
  process.getuid?.() === 0 &&
  existsSync("/usr/sbin/runc") &&
  existsSync("/usr/bin/conmon") &&
  existsSync("/bin/busybox");

describe("conmon/runc runtime", { skip: usable ? false : "needs root, runc, conmon and busybox" }, () => {
  let tmp: string;
  let rootfs: string;
  let execRoot: string;
  let rt: ContainerRuntime;
  let seq = 0;
  const created: string[] = [];
  const conmons = new Set<number>();

  before(async () => {
    tmp = await mkdtemp(join(tmpdir(), "wharf-rt-"));
    rootfs = makeBusyboxRootfs(tmp);
    execRoot = join(tmp, "run");
    rt = createRuntime({ execRoot });
  });

  afterEach(async () => {
    for (const id of created.splice(0)) {
      await rt.delete(id, { force: true }).catch(() => {});
    }
    for (const pid of conmons) {
      try {
        process.kill(pid, "SIGKILL");
      } catch {}
    }
    conmons.clear();
  });

  after(async () => {
    rt.close();
    await rm(tmp, { recursive: true, force: true });
    for (const ctl of await readdir("/sys/fs/cgroup").catch(() => [])) {
      await rmdir(`/sys/fs/cgroup/${ctl}${CGROUP_PARENT}`).catch(() => {});
    }
  });

  async function make(
    input: Partial<SpecInput> & { args: string[] },
    o: { tty?: boolean; openStdin?: boolean; stdinOnce?: boolean } = {},
  ): Promise<{ id: string; pid: number; conmonPid: number; logPath: string; bundleDir: string }> {
    const id = `t${process.pid}-${++seq}`;
    const bundleDir = join(tmp, `b-${id}`);
    await mkdir(bundleDir);
    const spec = buildSpec({
      id,
      rootfs,
      defaultRlimits: daemonRlimits(),
      cgroupParent: CGROUP_PARENT,
      terminal: o.tty === true,
      ...input,
    });
    const logPath = join(bundleDir, "ctr.log");
    created.push(id);
    const r = await rt.create(id, {
      bundleDir,
      spec,
      logPath,
      tty: o.tty === true,
      openStdin: o.openStdin === true,
      stdinOnce: o.stdinOnce === true,
    });
    conmons.add(r.conmonPid);
    return { id, ...r, logPath, bundleDir };
  }

  function collect(stream: Readable): Promise<string> {
    return new Promise((resolve) => {
      let s = "";
      stream.on("data", (d: Buffer) => {
        s += d.toString();
      });
      stream.on("end", () => resolve(s));
    });
  }

  it("runs echo: output in the log and on attach, stdout and stderr apart, exit code 3", async () => {
    const c = await make({ args: ["sh", "-c", "echo hello; echo oops >&2; exit 3"] });
    assert.equal((await rt.state(c.id))?.status, "created");
    assert.ok(await rt.isAlive(c.id));
    const a = await rt.attach(c.id);
    const out = collect(a.stdout);
    const err = collect(a.stderr);
    await rt.start(c.id);
    const exit = await rt.waitExit(c.id);
    assert.equal(exit.exitCode, 3);
    assert.equal(exit.oomKilled, false);
    assert.match(exit.exitedAt, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/);
    assert.equal(await out, "hello\n");
    assert.equal(await err, "oops\n");
    const lines = [];
    for await (const l of readLog(c.logPath)) lines.push(`${l.stream}:${l.line.toString()}`);
    assert.deepEqual(lines.sort(), ["stderr:oops", "stdout:hello"]);
    assert.match(await readFile(c.logPath, "utf8"), /^\S+ stdout F hello$/m);
    assert.equal((await rt.state(c.id))?.status, "stopped");
    // The same exit, read again, is the same.
    assert.deepEqual(await rt.waitExit(c.id), exit);
    await rt.delete(c.id);
    assert.equal(await rt.state(c.id), undefined);
    assert.ok(!existsSync(join(c.bundleDir, "attach")));
  });

  it("pipes stdin through attach; closing it ends cat", async () => {
    const c = await make({ args: ["cat"] }, { openStdin: true, stdinOnce: true });
    const a = await rt.attach(c.id);
    const out = collect(a.stdout);
    await rt.start(c.id);
    a.stdin.write("ping\n");
    a.stdin.write("pong\n");
    a.stdin.end();
    const exit = await rt.waitExit(c.id);
    assert.equal(exit.exitCode, 0);
    assert.equal(await out, "ping\npong\n");
  });

  it("stops a container with SIGTERM when it handles it, and with SIGKILL when it does not", async () => {
    const t = await make({
      args: ["sh", "-c", "trap 'exit 143' TERM; echo ready; while :; do sleep 0.05; done"],
    });
    const a = await rt.attach(t.id);
    await rt.start(t.id);
    await new Promise<void>((resolve) => a.stdout.once("data", () => resolve()));
    assert.equal((await rt.state(t.id))?.status, "running");
    await assert.rejects(rt.delete(t.id), isConflict);
    await assert.rejects(rt.start(t.id), isConflict);
    await rt.kill(t.id, "SIGTERM");
    assert.equal((await rt.waitExit(t.id)).exitCode, 143);
    a.close();

    // PID 1 ignores SIGTERM without a handler; SIGKILL always works.
    const k = await make({ args: ["sleep", "100"] });
    await rt.start(k.id);
    await rt.kill(k.id, 9);
    assert.equal((await rt.waitExit(k.id)).exitCode, 137);
    await assert.rejects(rt.kill(k.id, "KILL"));
  });

  it("applies user, groups, working dir and env; the process is pid 1 in its own pid namespace", async () => {
    const user = await resolveUser(rootfs, "alice");
    await ensureWorkdir(rootfs, "/home/alice/work", user);
    const c = await make({
      args: ["sh", "-c", 'echo "$(id -u) $(id -g) $(id -G)"; pwd; echo "$FOO $HOME"; echo $$; hostname'],
      user,
      cwd: "/home/alice/work",
      env: ["FOO=bar"],
      hostname: "boxy",
    });
    const a = await rt.attach(c.id);
    const out = collect(a.stdout);
    await rt.start(c.id);
    assert.equal((await rt.waitExit(c.id)).exitCode, 0);
    const [ids, ...rest] = (await out).split("\n");
    assert.deepEqual(ids?.split(" ").slice(0, 2), ["1000", "1000"]);
    assert.deepEqual(ids?.split(" ").slice(2).sort(), ["10", "1000", "50"]);
    assert.deepEqual(rest, ["/home/alice/work", "bar /home/alice", "1", "boxy", ""]);
  });

  it("runs a TTY container: output through the pty, resize through the ctl fifo", async () => {
    const c = await make(
      {
        // Waits (bounded) for the last resize to reach the terminal: it travels through two fifos in conmon,
        // slower than a fixed pause on a loaded machine.
        args: [
          "sh",
          "-c",
          'tty; i=0; while [ "$(stty size)" != "40 100" ] && [ $i -lt 1000 ]; do i=$((i+1)); sleep 0.01; done; read line; stty size; echo got $line',
        ],
      },
      { tty: true, openStdin: true, stdinOnce: true },
    );
    const a = await rt.attach(c.id);
    const out = collect(a.stdout);
    let seen = "";
    a.stdout.on("data", (d: Buffer) => {
      seen += d.toString();
    });
    await rt.start(c.id);
    while (!seen.includes("/dev/pts/0")) await new Promise((r) => setTimeout(r, 10));
    // Several at once, as a client dragging a window sends them: the last one wins.
    await Promise.all([
      rt.resize(c.id, { height: 10, width: 20 }),
      rt.resize(c.id, { height: 30, width: 60 }),
      rt.resize(c.id, { height: 40, width: 100 }),
    ]);
    a.stdin.write("hi\n");
    assert.equal((await rt.waitExit(c.id)).exitCode, 0);
    const text = await out;
    assert.match(text, /\/dev\/pts\/0\r\n/);
    assert.match(text, /40 100\r\n/);
    assert.match(text, /got hi\r\n/);
  });

  it("reports runc's error for a missing executable as a typed error", async () => {
    await assert.rejects(make({ args: ["/nope"] }), (e: unknown) => {
      assert.ok(isOciRuntimeError(e));
      assert.ok(isInvalidParameter(e));
      assert.equal(e.exitCode, 127);
      assert.match(e.runtimeMessage, /no such file or directory|not found/);
      return true;
    });
  });

  /** Pids of the processes whose command line names `id` and whose program is conmon. */
  async function conmonsOf(id: string): Promise<number[]> {
    const out: number[] = [];
    for (const d of await readdir("/proc")) {
      if (!/^\d+$/.test(d)) continue;
      const argv = (await readFile(`/proc/${d}/cmdline`, "utf8").catch(() => "")).split("\0");
      if (argv[0]?.endsWith("conmon") && argv.includes(id)) out.push(Number(d));
    }
    return out;
  }

  /** Resolves once `cond` holds, checking every 10 ms for at most `ms`. */
  async function until(cond: () => Promise<boolean>, ms = 10_000): Promise<void> {
    const deadline = Date.now() + ms;
    while (!(await cond())) {
      if (Date.now() > deadline) throw new Error("condition not met in time");
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  it("starts conmon before the spec is made; runc runs once it is written", async () => {
    const id = `t${process.pid}-${++seq}`;
    const bundleDir = join(tmp, `b-${id}`);
    await mkdir(bundleDir);
    let give!: (s: OciSpec) => void;
    const spec = new Promise<OciSpec>((r) => {
      give = r;
    });
    created.push(id);
    const made = rt.create(id, {
      bundleDir,
      spec,
      logPath: join(bundleDir, "ctr.log"),
      tty: false,
      openStdin: false,
      stdinOnce: false,
    });
    await until(async () => (await conmonsOf(id)).length > 0);
    // Held on its start pipe: it has not daemonized (that writes conmon.pid) nor run runc.
    assert.equal(existsSync(join(execRoot, "containers", id, "conmon.pid")), false);
    assert.equal(existsSync(join(bundleDir, "config.json")), false);
    give(
      buildSpec({
        id,
        rootfs,
        defaultRlimits: daemonRlimits(),
        cgroupParent: CGROUP_PARENT,
        terminal: false,
        args: ["sh", "-c", "exit 4"],
      }),
    );
    const r = await made;
    conmons.add(r.conmonPid);
    await rt.start(id);
    assert.equal((await rt.waitExit(id)).exitCode, 4);
  });

  it("fails the create with the spec's error and leaves no conmon when the spec cannot be made", async () => {
    const id = `t${process.pid}-${++seq}`;
    const bundleDir = join(tmp, `b-${id}`);
    await mkdir(bundleDir);
    let fail!: (e: Error) => void;
    const spec = new Promise<OciSpec>((_, reject) => {
      fail = reject;
    });
    created.push(id);
    const made = rt.create(id, {
      bundleDir,
      spec,
      logPath: join(bundleDir, "ctr.log"),
      tty: false,
      openStdin: false,
      stdinOnce: false,
    });
    await until(async () => (await conmonsOf(id)).length > 0);
    const why = new Error("the rootfs would not mount");
    fail(why);
    await assert.rejects(made, (e: unknown) => e === why);
    await until(async () => (await conmonsOf(id)).length === 0);
    assert.equal(existsSync(join(execRoot, "runc", id)), false);
    assert.equal(existsSync(join(execRoot, "containers", id)), false);
  });

  it("follows the log until the container exits", async () => {
    const c = await make({
      args: ["sh", "-c", "for i in 1 2 3; do echo line$i; sleep 0.05; done; printf end"],
    });
    await rt.start(c.id);
    const lines: string[] = [];
    for await (const l of readLog(c.logPath, { follow: rt.waitExit(c.id) })) {
      lines.push(`${l.line.toString()}${l.partial ? "…" : ""}`);
    }
    assert.deepEqual(lines, ["line1", "line2", "line3", "end…"]);
  });

  it("reconnects from a fresh runtime: alive, attach, kill", async () => {
    const c = await make(
      { args: ["sh", "-c", "read x; echo got $x; sleep 100"] },
      { openStdin: true, stdinOnce: true },
    );
    await rt.start(c.id);
    const rt2 = createRuntime({ execRoot });
    try {
      assert.ok(await rt2.isAlive(c.id));
      assert.equal((await rt2.state(c.id))?.pid, c.pid);
      const a = await rt2.attach(c.id);
      const got = new Promise<string>((resolve) =>
        a.stdout.once("data", (d: Buffer) => resolve(d.toString())),
      );
      a.stdin.write("x1\n");
      assert.equal(await got, "got x1\n");
      await rt2.kill(c.id, "SIGKILL");
      assert.equal((await rt2.waitExit(c.id)).exitCode, 137);
      assert.equal((await rt.waitExit(c.id)).exitCode, 137);
    } finally {
      rt2.close();
    }
  });

  it("attaches when the socket path is longer than sockaddr_un allows", async () => {
    const longRoot = join(tmp, "x".repeat(100), "run");
    const rtLong = createRuntime({ execRoot: longRoot });
    const id = `t${process.pid}-${++seq}`;
    const bundleDir = join(tmp, `b-${id}`);
    await mkdir(bundleDir);
    const spec = buildSpec({
      id,
      rootfs,
      cgroupParent: CGROUP_PARENT,
      args: ["sh", "-c", "read x; echo $x"],
    });
    try {
      const r = await rtLong.create(id, {
        bundleDir,
        spec,
        logPath: join(bundleDir, "log"),
        tty: false,
        openStdin: true,
        stdinOnce: true,
      });
      conmons.add(r.conmonPid);
      const a = await rtLong.attach(id);
      const out = collect(a.stdout);
      await rtLong.start(id);
      a.stdin.end("long\n");
      assert.equal((await rtLong.waitExit(id)).exitCode, 0);
      assert.equal(await out, "long\n");
    } finally {
      await rtLong.delete(id, { force: true }).catch(() => {});
      rtLong.close();
    }
  });

  it("records an OOM kill", async () => {
    const c = await make({
      args: ["sh", "-c", "head -c 200000000 /dev/zero | tail"],
      resources: { memory: 16 * 1024 * 1024, memorySwap: 16 * 1024 * 1024 },
    });
    await rt.start(c.id);
    const exit = await rt.waitExit(c.id);
    assert.equal(exit.oomKilled, true);
    assert.equal(exit.exitCode, 137);
  });

  it("keeps a container running and its exit recorded after its creator is SIGKILLed", async () => {
    const id = `t${process.pid}-${++seq}`;
    const bundleDir = join(tmp, `b-${id}`);
    await mkdir(bundleDir);
    const spec = buildSpec({
      id,
      rootfs,
      cgroupParent: CGROUP_PARENT,
      // Ends with 7 when told (TERM), not after a pause: a loaded machine can take longer than any pause.
      args: ["sh", "-c", "trap 'exit 7' TERM; sleep 100000 & wait"],
    });
    created.push(id);
    const child = spawn(
      process.execPath,
      [
        join(import.meta.dirname, "../../test/fixtures/runtime/create-child.ts"),
        execRoot,
        id,
        bundleDir,
        join(bundleDir, "log"),
        JSON.stringify(spec),
      ],
      { stdio: ["ignore", "pipe", "inherit"] },
    );
    const line = await new Promise<string>((resolve, reject) => {
      let s = "";
      child.stdout.on("data", (d: Buffer) => {
        s += d.toString();
        if (s.includes("\n")) resolve(s);
      });
      child.on("exit", (code) => reject(new Error(`child exited ${code} before reporting`)));
    });
    const r = JSON.parse(line) as { pid: number; conmonPid: number };
    conmons.add(r.conmonPid);
    const exited = new Promise((resolve) => child.on("exit", resolve));
    child.kill("SIGKILL");
    await exited;
    // conmon is not the child's child any more (it double-forked), so it lives on.
    assert.ok(await rt.isAlive(id));
    assert.notEqual((await procStat(r.conmonPid))?.state, "Z");
    assert.equal((await rt.state(id))?.status, "running");
    // A fresh runtime, as after a daemon restart, still learns the exit.
    const rt2 = createRuntime({ execRoot });
    try {
      await rt2.kill(id, "SIGTERM");
      const exit = await rt2.waitExit(id);
      assert.equal(exit.exitCode, 7);
    } finally {
      rt2.close();
    }
    assert.ok(existsSync(join(execRoot, "exits", id)));
    // conmon writes the exit file a moment before it exits; no event tells us when a non-child ends.
    for (let i = 0; i < 100 && (await rt.isAlive(id)); i++) await new Promise((r) => setTimeout(r, 10));
    assert.equal(await rt.isAlive(id), false);
  });
});
