/**
 * The rootless daemon, end to end: a user made for this file (prepared by `scripts/setup.sh --rootless`)
 * starts `wharf daemon` with no flags, and the real docker CLI, run as that user, uses it: run, exec,
 * logs, a classic build, a volume whose files belong on the host to the user (container root) and to their
 * subordinate ids (container uid 1000), a published port reached on the host's 127.0.0.1, limits answered
 * with Docker's rootless warnings. The user, their subordinate ranges, runtime dir and files go afterwards.
 */
import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { chmod, mkdir, mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { request } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { DOCKER, exec, freePort, importBusybox, ROOT, WHARF } from "../../helpers/daemon.ts";

const tools = ["/usr/bin/newuidmap", "/usr/bin/newgidmap", "/usr/bin/slirp4netns", "/usr/bin/unshare"];
const skip =
  process.getuid?.() !== 0
    ? "needs root to create a user"
    : tools.find((t) => !existsSync(t))
      ? `needs ${tools.find((t) => !existsSync(t))} (packages uidmap, slirp4netns)`
      : !existsSync(DOCKER)
        ? "needs the docker CLI"
        : false;

/** GET http://127.0.0.1:port/path from the host (this root process), retried while nothing answers yet. */
async function fetchLoopback(port: number, path: string): Promise<string> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    try {
      return await new Promise<string>((resolve, reject) => {
        const req = request({ host: "127.0.0.1", port, path, timeout: 3000 }, (res) => {
          let body = "";
          res.on("data", (c: Buffer) => {
            body += c.toString();
          });
          res.on("end", () =>
            res.statusCode === 200 ? resolve(body) : reject(new Error(`${res.statusCode}`)),
          );
        });
        req.on("timeout", () => req.destroy(new Error("timeout")));
        req.on("error", reject);
        req.end();
      });
    } catch (e) {
      if (Date.now() > deadline) throw e;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

function ping(socket: string): Promise<boolean> {
  return new Promise((resolve) => {
    const req = request({ socketPath: socket, path: "/_ping" }, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.on("error", () => resolve(false));
    req.end();
  });
}

describe("rootless daemon", { skip, timeout: 300_000 }, () => {
  const name = `wrl${process.pid % 100000}${randomBytes(2).toString("hex")}`;
  let dir = "";
  let home = "";
  let uid = 0;
  let subStart = 0;
  let runtimeDir = "";
  let socket = "";
  let daemon: ChildProcess | undefined;
  let daemonLog = "";
  let userMade = false;

  /** A program run as the test user, in a clean login-like environment. */
  const asUser = (
    args: string[],
    o: { env?: Record<string, string>; input?: string; timeoutMs?: number } = {},
  ) =>
    exec(
      "runuser",
      [
        "-u",
        name,
        "--",
        "env",
        "-i",
        `HOME=${home}`,
        `USER=${name}`,
        `XDG_RUNTIME_DIR=${runtimeDir}`,
        "PATH=/usr/local/bin:/usr/bin:/bin",
        ...Object.entries(o.env ?? {}).map(([k, v]) => `${k}=${v}`),
        ...args,
      ],
      { ...(o.input !== undefined ? { input: o.input } : {}), timeoutMs: o.timeoutMs ?? 120_000 },
    );
  const docker = (args: string[], env: Record<string, string> = {}) =>
    asUser([DOCKER, ...args], { env: { DOCKER_HOST: `unix://${socket}`, ...env } });

  /** The daemon with no flags at all (the rootless defaults), as the user; resolves once it answers. */
  const startRootless = async (args: string[] = []) => {
    daemonLog = "";
    daemon = spawn(
      "runuser",
      [
        "-u",
        name,
        "--",
        "env",
        "-i",
        `HOME=${home}`,
        `USER=${name}`,
        `XDG_RUNTIME_DIR=${runtimeDir}`,
        "PATH=/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin",
        WHARF,
        "daemon",
        ...args,
      ],
      { stdio: ["ignore", "pipe", "pipe"] },
    );
    const proc = daemon;
    const collect = (c: Buffer) => {
      daemonLog += c.toString();
    };
    proc.stdout?.on("data", collect);
    proc.stderr?.on("data", collect);
    const deadline = Date.now() + 30_000;
    while (!(await ping(socket))) {
      if (proc.exitCode !== null) throw new Error(`rootless daemon exited ${proc.exitCode}:\n${daemonLog}`);
      if (Date.now() > deadline) throw new Error(`rootless daemon did not answer:\n${daemonLog}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  };

  /** SIGTERM to the launcher (its pid file's pid); resolves when it has exited (SIGKILL after 30 s). */
  const stopRootless = async () => {
    const proc = daemon;
    if (!proc || proc.exitCode !== null) return;
    const exited = new Promise((r) => proc.once("exit", r));
    const pid = Number((await readFile(join(runtimeDir, "wharf/wharf.pid"), "utf8").catch(() => "")).trim());
    if (pid > 1) process.kill(pid, "SIGTERM");
    else proc.kill("SIGTERM");
    await Promise.race([exited, new Promise((r) => setTimeout(r, 30_000))]);
    if (proc.exitCode === null && pid > 1) process.kill(pid, "SIGKILL");
    await exited;
  };

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "wt-rootless-"));
    await chmod(dir, 0o755);
    home = join(dir, "home");
    // No subordinate ranges from useradd: setup.sh --rootless is what gives them.
    const made = await exec("useradd", [
      "-m",
      "-d",
      home,
      "-s",
      "/bin/sh",
      "-K",
      "SUB_UID_COUNT=0",
      "-K",
      "SUB_GID_COUNT=0",
      name,
    ]);
    assert.equal(made.code, 0, made.stderr);
    userMade = true;
    uid = Number((await exec("id", ["-u", name])).stdout.trim());
    runtimeDir = `/run/user/${uid}`;
    socket = join(runtimeDir, "wharf.sock");

    // Before the set-up the daemon refuses to start, saying what to do.
    const early = await exec("runuser", [
      "-u",
      name,
      "--",
      "env",
      "-i",
      `HOME=${home}`,
      "PATH=/usr/bin:/bin",
      WHARF,
      "daemon",
    ]);
    assert.equal(early.code, 1, early.stderr);
    assert.match(
      early.stderr,
      /XDG_RUNTIME_DIR is not set: export XDG_RUNTIME_DIR=\/run\/user\/\d+ .*setup\.sh --rootless/,
    );
    const noIds = await exec("runuser", [
      "-u",
      name,
      "--",
      "env",
      "-i",
      `HOME=${home}`,
      `XDG_RUNTIME_DIR=${home}`,
      "PATH=/usr/bin:/bin",
      WHARF,
      "daemon",
    ]);
    assert.equal(noIds.code, 1, noIds.stderr);
    assert.match(
      noIds.stderr,
      new RegExp(
        `no subordinate uid range for ${name} in /etc/subuid: as root, run scripts/setup.sh --rootless ${name}`,
      ),
    );

    const setup = await exec(join(ROOT, "scripts/setup.sh"), ["--rootless", name]);
    assert.equal(setup.code, 0, setup.stderr);
    assert.match(setup.stdout, /bin\/wharf daemon/);
    assert.match(setup.stdout, new RegExp(`XDG_RUNTIME_DIR=/run/user/${uid}`));
    const line = (await readFile("/etc/subuid", "utf8")).split("\n").find((l) => l.startsWith(`${name}:`));
    assert.ok(line, "setup.sh gave the user a subordinate uid range");
    subStart = Number(line.split(":")[1]);
    assert.ok((await readFile("/etc/subgid", "utf8")).includes(`${name}:${subStart}:65536`));
    assert.equal((await stat("/dev/net/tun")).mode & 0o777, 0o666);

    await startRootless();
    await importBusybox({ socket });
  });

  after(async () => {
    try {
      await stopRootless();
    } finally {
      if (userMade) await exec("userdel", ["-f", name]);
      // userdel leaves subordinate ranges on some shadow versions: drop the user's lines either way.
      for (const f of ["/etc/subuid", "/etc/subgid"]) {
        const text = await readFile(f, "utf8").catch(() => "");
        const kept = text.split("\n").filter((l) => !l.startsWith(`${name}:`));
        if (kept.length !== text.split("\n").length) await writeFile(f, kept.join("\n"));
      }
      if (runtimeDir && uid > 0) await rm(runtimeDir, { recursive: true, force: true });
      if (dir) await rm(dir, { recursive: true, force: true });
    }
  });

  it("is rootless in docker info, with Docker's rootless warning and no cgroup driver", async () => {
    const r = await docker([
      "info",
      "--format",
      "{{json .SecurityOptions}} {{.CgroupDriver}} {{json .Warnings}}",
    ]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /"name=rootless"/);
    assert.match(r.stdout, / none /);
    assert.match(r.stdout, /Running in rootless-mode without cgroups/);
    const root = await docker(["info", "--format", "{{.DockerRootDir}}"]);
    assert.equal(root.stdout.trim(), join(home, ".local/share/wharf"));
  });

  it("runs containers in a user namespace of the user's id and subordinate ids", async () => {
    const r = await docker(["run", "--rm", "busybox", "cat", "/proc/self/uid_map"]);
    assert.equal(r.code, 0, `${r.stderr}\n${daemonLog}`);
    const rows = r.stdout
      .trim()
      .split("\n")
      .map((l) => l.trim().split(/\s+/).map(Number));
    assert.deepEqual(rows, [
      [0, uid, 1],
      [1, subStart, 65535],
    ]);
    const code = await docker(["run", "--rm", "busybox", "sh", "-c", "exit 3"]);
    assert.equal(code.code, 3);
  });

  it("publishes a port on the host's loopback, and exec and logs work", async () => {
    const port = await freePort();
    const run = await docker([
      "run",
      "-d",
      "--name",
      "web",
      "-p",
      `${port}:80`,
      "busybox",
      "sh",
      "-c",
      "mkdir -p /www && echo hello-rootless > /www/index.html && echo started && echo to-stderr >&2 && exec httpd -f -p 80 -h /www",
    ]);
    assert.equal(run.code, 0, `${run.stderr}\n${daemonLog}`);
    assert.equal((await fetchLoopback(port, "/index.html")).trim(), "hello-rootless");
    const curl = await asUser(["curl", "-sf", `http://127.0.0.1:${port}/index.html`]);
    assert.equal(curl.stdout.trim(), "hello-rootless", "reached as the user too");
    const ex = await docker(["exec", "web", "cat", "/www/index.html"]);
    assert.equal(ex.stdout.trim(), "hello-rootless", ex.stderr);
    const logs = await docker(["logs", "web"]);
    assert.equal(logs.stdout.trim(), "started");
    assert.equal(logs.stderr.trim(), "to-stderr");
    const top = await docker(["top", "web"]);
    assert.match(top.stdout, /httpd -f -p 80/);
    const ports = await docker(["port", "web", "80"]);
    assert.match(ports.stdout, new RegExp(`0\\.0\\.0\\.0:${port}`));
    assert.equal((await docker(["rm", "-f", "web"])).code, 0);
  });

  it("builds with the classic builder", async () => {
    const ctx = join(dir, "ctx");
    await mkdir(ctx);
    await writeFile(
      join(ctx, "Dockerfile"),
      'FROM busybox\nRUN echo built-rootless > /built\nCOPY msg /msg\nCMD ["sh", "-c", "cat /built /msg"]\n',
    );
    await writeFile(join(ctx, "msg"), "copied\n");
    await chmod(ctx, 0o755);
    const b = await docker(["build", "-t", "rlapp", ctx], { DOCKER_BUILDKIT: "0" });
    assert.equal(b.code, 0, `${b.stdout}\n${b.stderr}\n${daemonLog}`);
    assert.match(b.stdout, /Successfully tagged rlapp:latest/);
    const r = await docker(["run", "--rm", "rlapp"]);
    assert.equal(r.stdout, "built-rootless\ncopied\n", r.stderr);
  });

  it("keeps volume files owned by the user (container root) and subordinate ids (container uids)", async () => {
    const prep = await docker([
      "run",
      "--rm",
      "-v",
      "data:/data",
      "busybox",
      "sh",
      "-c",
      "echo r > /data/by-root && chmod 777 /data",
    ]);
    assert.equal(prep.code, 0, prep.stderr);
    const w = await docker([
      "run",
      "--rm",
      "-u",
      "1000:1000",
      "-v",
      "data:/data",
      "busybox",
      "touch",
      "/data/by-1000",
    ]);
    assert.equal(w.code, 0, w.stderr);
    const mp = (await docker(["volume", "inspect", "-f", "{{.Mountpoint}}", "data"])).stdout.trim();
    assert.equal(mp, join(home, ".local/share/wharf/volumes/data/_data"));
    const byRoot = await stat(join(mp, "by-root"));
    assert.deepEqual([byRoot.uid, byRoot.gid], [uid, Number((await exec("id", ["-g", name])).stdout.trim())]);
    const by1000 = await stat(join(mp, "by-1000"));
    assert.deepEqual([by1000.uid, by1000.gid], [subStart + 999, subStart + 999]);
  });

  it("answers limits with Docker's warnings (no cgroups on v1) and refuses pause clearly", async () => {
    const r = await docker(["run", "--rm", "-m", "64m", "--pids-limit", "10", "busybox", "true"]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(
      r.stderr,
      /WARNING: Your kernel does not support memory limit capabilities or the cgroup is not mounted\. Limitation discarded\./,
    );
    assert.match(r.stderr, /PIDs limit discarded/);
    assert.equal((await docker(["run", "-d", "--name", "sleeper", "busybox", "sleep", "60"])).code, 0);
    // No cgroup to read: stats come from the container's processes.
    const st = await docker(["stats", "--no-stream", "--format", "{{.MemUsage}}|{{.PIDs}}", "sleeper"]);
    assert.equal(st.code, 0, st.stderr);
    const [mem, pids] = st.stdout.trim().split("|");
    assert.doesNotMatch(mem ?? "", /^0B/, st.stdout);
    assert.ok(Number(pids) >= 1, st.stdout);
    const p = await docker(["pause", "sleeper"]);
    assert.notEqual(p.code, 0);
    assert.match(p.stderr, /rootless daemon without cgroups/);
    await docker(["rm", "-f", "sleeper"]);
  });

  it("gives containers slirp4netns's DNS forwarder as their resolver", async () => {
    const r = await docker(["run", "--rm", "busybox", "cat", "/etc/resolv.conf"]);
    assert.match(r.stdout, /^nameserver 10\.0\.2\.3$/m, r.stderr);
  });

  it("stops its containers when it stops (they die with its namespaces) and runs them again after", async () => {
    const port = await freePort();
    const run = await docker([
      "run",
      "-d",
      "--name",
      "again",
      "-p",
      `${port}:80`,
      "busybox",
      "sh",
      "-c",
      "trap 'exit 7' TERM; echo up > /i; httpd -p 80 -h /; while :; do sleep 0.1; done",
    ]);
    assert.equal(run.code, 0, run.stderr);
    assert.equal((await fetchLoopback(port, "/i")).trim(), "up");
    await stopRootless();
    assert.equal(daemon?.exitCode, 0, daemonLog);
    await startRootless();
    const st = await docker(["inspect", "-f", "{{.State.Status}} {{.State.ExitCode}}", "again"]);
    assert.equal(st.stdout.trim(), "exited 7", st.stderr);
    assert.equal((await docker(["start", "again"])).code, 0);
    assert.equal((await fetchLoopback(port, "/i")).trim(), "up");
    await docker(["rm", "-f", "again"]);
  });

  it("is reached by the docker CLI context setup.sh made, as Docker's rootless setup tool makes one", async () => {
    const r = await asUser([DOCKER, "--context", "wharf-rootless", "images", "--format", "{{.Repository}}"]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /busybox/);
  });

  it("is the wharf CLI's default daemon for that user", async () => {
    const r = await asUser([WHARF, "images", "--format", "{{.Repository}}"]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /busybox/);
  });

  it("runs the same layers through fuse-overlayfs (the fallback for kernels before 5.11)", async () => {
    await stopRootless();
    await startRootless(["--storage-driver", "fuse-overlayfs"]);
    const info = await docker(["info", "--format", "{{.Driver}}"]);
    assert.equal(info.stdout.trim(), "fuse-overlayfs");
    const mounts = await docker(["run", "--rm", "busybox", "grep", " / ", "/proc/mounts"]);
    assert.match(mounts.stdout, /fuse-overlayfs/, mounts.stderr);
    const ctx = join(dir, "ctx-fuse");
    await mkdir(ctx);
    await writeFile(
      join(ctx, "Dockerfile"),
      "FROM busybox\nRUN mkdir -p /d/old && echo x > /gone\nRUN rm /gone && rm -rf /d && mkdir /d && echo new > /d/new\n",
    );
    await chmod(ctx, 0o755);
    const b = await docker(["build", "-t", "fuseapp", ctx], { DOCKER_BUILDKIT: "0" });
    assert.equal(b.code, 0, `${b.stdout}\n${b.stderr}\n${daemonLog}`);
    const r = await docker(["run", "--rm", "fuseapp", "sh", "-c", "ls -A /d; test -e /gone || echo gone"]);
    assert.equal(r.stdout, "new\ngone\n", r.stderr);
    // A running container's changes, as docker diff and commit (which cannot pause it here) see them.
    const run = await docker([
      "run",
      "-d",
      "--name",
      "changer",
      "fuseapp",
      "sh",
      "-c",
      "rm /bin/ls; rm -rf /d; mkdir /d; touch /d/again; trap 'exit 0' TERM; while :; do sleep 0.1; done",
    ]);
    assert.equal(run.code, 0, run.stderr);
    const deadline = Date.now() + 10_000;
    let diff = "";
    while (!diff.includes("/d/again") && Date.now() < deadline) {
      diff = (await docker(["diff", "changer"])).stdout;
      if (!diff.includes("/d/again")) await new Promise((res) => setTimeout(res, 100));
    }
    assert.match(diff, /^D \/bin\/ls$/m);
    assert.match(diff, /^A \/d\/again$/m);
    assert.doesNotMatch(diff, /\.wh\./);
    assert.equal((await docker(["commit", "changer", "fusecommit"])).code, 0);
    const c = await docker([
      "run",
      "--rm",
      "fusecommit",
      "sh",
      "-c",
      "ls -A /d; test -e /bin/ls || echo no-ls",
    ]);
    assert.equal(c.stdout, "again\nno-ls\n", c.stderr);
    await docker(["rm", "-f", "changer"]);
  });

  it("networks through pasta instead, with ports through the builtin port driver", async () => {
    await stopRootless();
    await startRootless(["--rootless-net", "pasta"]);
    const port = await freePort();
    const run = await docker([
      "run",
      "-d",
      "--name",
      "pasta-web",
      "-p",
      `127.0.0.1:${port}:80`,
      "busybox",
      "sh",
      "-c",
      "echo via-pasta > /i && exec httpd -f -p 80 -h /",
    ]);
    assert.equal(run.code, 0, `${run.stderr}\n${daemonLog}`);
    assert.equal((await fetchLoopback(port, "/i")).trim(), "via-pasta");
    const taken = await docker(["run", "-d", "-p", `127.0.0.1:${port}:80`, "busybox", "true"]);
    assert.notEqual(taken.code, 0);
    assert.match(
      taken.stderr,
      new RegExp(`Bind for 127\\.0\\.0\\.1:${port} failed: port is already allocated`),
    );
    const r = await docker(["run", "--rm", "busybox", "cat", "/etc/resolv.conf"]);
    assert.match(r.stdout, /^nameserver 10\.0\.2\.3$/m);
    await docker(["rm", "-f", "pasta-web"]);
    await stopRootless();
    assert.equal(daemon?.exitCode, 0, daemonLog);
    const left = await exec("ps", ["-o", "pid=,stat=,args=", "-u", name]);
    assert.doesNotMatch(
      left.stdout
        .split("\n")
        .filter((l) => !/ Z/.test(l))
        .join("\n"),
      /pasta|wharf|conmon/,
    );
  });
});
