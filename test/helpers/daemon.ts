/**
 * Starts a real wharf daemon for one integration test file: its own data root, exec root, socket, bridge
 * and cgroup parent under a temp dir, so test files run side by side and never touch a daemon left running.
 */
import assert from "node:assert/strict";
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { chmod, mkdtemp, readdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import { request } from "node:http";
import { createServer as createNetServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";

const run = promisify(execFile);

/** The repository root. */
export const ROOT = join(dirname(fileURLToPath(import.meta.url)), "../..");
/** bin/wharf. */
export const WHARF = join(ROOT, "bin/wharf");
/** The real docker CLI. */
export const DOCKER = "/usr/local/bin/docker";

/** A running test daemon. */
export interface TestDaemon {
  dir: string;
  dataRoot: string;
  execRoot: string;
  socket: string;
  /** `unix://...` for -H / WHARF_HOST / DOCKER_HOST. */
  host: string;
  bridge: string;
  proc: ChildProcess;
  /** Daemon stderr so far (for failure messages). */
  output(): string;
  /** Resolves once the daemon's output matches: lines it logs before a ping answers may be read after it. */
  waitForOutput(re: RegExp, timeoutMs?: number): Promise<string>;
  /** Kills the daemon with SIGKILL (containers keep running) and starts a new one on the same roots. */
  restart(opts?: { kill?: boolean }): Promise<void>;
  /** Removes every container, stops the daemon and removes its files, mounts and cgroups. */
  stop(): Promise<void>;
}

let counter = 0;

async function waitForPing(socket: string, proc: ChildProcess, out: () => string): Promise<void> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    if (proc.exitCode !== null) throw new Error(`daemon exited with ${proc.exitCode}:\n${out()}`);
    const ok = await new Promise<boolean>((resolve) => {
      const req = request({ socketPath: socket, path: "/_ping", method: "GET" }, (res) => {
        res.resume();
        resolve(res.statusCode === 200);
      });
      req.on("error", () => resolve(false));
      req.end();
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`daemon did not answer on ${socket}:\n${out()}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** Who made a test daemon's dir, so a later test process can clean up after one that died before `stop()`. */
interface DirOwner {
  testPid: number;
  testStart: string;
  daemonPid: number | undefined;
  bridge: string;
  execRoot: string;
}

const OWNER = "owner.json";

/** A process's start time (field 22 of its stat), which tells a live pid from a reused one. */
async function startTime(pid: number): Promise<string | undefined> {
  const stat = await readFile(`/proc/${pid}/stat`, "utf8").catch(() => "");
  return stat.slice(stat.lastIndexOf(")") + 2).split(" ")[19];
}

let swept: Promise<void> | undefined;

/**
 * A test process killed mid-file (a runner timeout, an interrupted run) never reaches `stop()`, and its
 * daemon, bridge and WHARF-* chains would stay for good. Each test process sweeps those of dead owners once;
 * claiming a dir by renaming its owner file keeps two sweepers off the same one.
 */
function sweepOrphans(): Promise<void> {
  swept ??= (async () => {
    for (const name of await readdir(tmpdir()).catch(() => [])) {
      if (!name.startsWith("wt-")) continue;
      const dir = join(tmpdir(), name);
      const raw = await readFile(join(dir, OWNER), "utf8").catch(() => "");
      if (!raw) continue;
      const owner = JSON.parse(raw) as DirOwner;
      if ((await startTime(owner.testPid)) === owner.testStart) continue;
      const claimed = join(dir, `${OWNER}.${process.pid}`);
      if (
        !(await rename(join(dir, OWNER), claimed).then(
          () => true,
          () => false,
        ))
      )
        continue;
      const cmdline = owner.daemonPid
        ? await readFile(`/proc/${owner.daemonPid}/cmdline`, "utf8").catch(() => "")
        : "";
      if (owner.daemonPid && cmdline.includes(dir)) process.kill(owner.daemonPid, "SIGKILL");
      await cleanupLeftovers(dir);
      await cleanupNetwork(owner.bridge);
      await cleanupCgroups(owner.execRoot);
    }
  })().catch(() => undefined);
  return swept;
}

/** Starts a daemon; call `stop()` in an `after` hook. */
export async function startDaemon(
  opts: { name?: string; args?: string[]; bip?: string; dirMode?: number } = {},
): Promise<TestDaemon> {
  await sweepOrphans();
  const dir = await mkdtemp(join(tmpdir(), `wt-${opts.name ?? "d"}-`));
  // --userns-remap needs a data root its remapped root may search (mkdtemp makes 0700).
  if (opts.dirMode !== undefined) await chmod(dir, opts.dirMode);
  const n = `${process.pid % 10000}${counter++}`;
  const d = {
    dir,
    dataRoot: join(dir, "data"),
    execRoot: join(dir, "exec"),
    socket: join(dir, "wharf.sock"),
    bridge: `wt${n}`.slice(0, 15),
  };
  // Each daemon its own default-bridge subnet, so files running side by side never pick the same one.
  const bip = opts.bip ?? (await freeSubnet()).replace(/\.0\/24$/, ".1/24");
  let log = "";
  const waiters = new Set<() => void>();
  const append = (c: Buffer) => {
    log += c.toString();
    for (const w of waiters) w();
  };
  const spawnDaemon = () => {
    const p = spawn(
      WHARF,
      [
        "daemon",
        "--data-root",
        d.dataRoot,
        "--exec-root",
        d.execRoot,
        "-H",
        `unix://${d.socket}`,
        "--bridge",
        d.bridge,
        "--log-level",
        process.env.WHARF_TEST_LOG_LEVEL ?? "info",
        "--bip",
        bip,
        ...(opts.args ?? []),
      ],
      { stdio: ["ignore", "pipe", "pipe"] },
    );
    p.stdout?.on("data", append);
    p.stderr?.on("data", append);
    return p;
  };
  const testStart = await startTime(process.pid);
  const recordOwner = (daemonPid: number | undefined) => {
    const owner: DirOwner = { testPid: process.pid, testStart: testStart ?? "", daemonPid, ...d };
    return writeFile(join(dir, OWNER), JSON.stringify(owner));
  };
  let proc = spawnDaemon();
  await recordOwner(proc.pid);
  const output = () => log;
  await waitForPing(d.socket, proc, output);
  const td: TestDaemon = {
    ...d,
    host: `unix://${d.socket}`,
    get proc() {
      return proc;
    },
    output,
    waitForOutput(re, timeoutMs = 10_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          if (!re.test(log)) return;
          done();
          resolve(log);
        };
        const timer = setTimeout(() => {
          done();
          reject(new Error(`daemon output did not match ${re} in ${timeoutMs} ms:\n${log.slice(-2000)}`));
        }, timeoutMs);
        const done = () => {
          clearTimeout(timer);
          waiters.delete(check);
        };
        waiters.add(check);
        check();
      });
    },
    async restart(o = {}) {
      const exited = new Promise((r) => proc.once("exit", r));
      proc.kill(o.kill === false ? "SIGTERM" : "SIGKILL");
      await exited;
      proc = spawnDaemon();
      await recordOwner(proc.pid);
      await waitForPing(d.socket, proc, output);
    },
    async stop() {
      try {
        if (proc.exitCode === null) {
          const ids = await api<{ Id: string }[]>(td, "GET", "/containers/json?all=1").catch(() => []);
          await Promise.all(
            ids.map((c) => api(td, "DELETE", `/containers/${c.Id}?force=1`).catch(() => undefined)),
          );
          const exited = new Promise((r) => proc.once("exit", r));
          proc.kill("SIGTERM");
          await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
          if (proc.exitCode === null) proc.kill("SIGKILL");
        }
      } finally {
        await cleanupLeftovers(d.dir);
        await cleanupNetwork(d.bridge);
        await cleanupCgroups(d.execRoot);
      }
    },
  };
  return td;
}

/** Removes the daemon's cgroup parent (named from its exec root, as the daemon names it) in every hierarchy. */
async function cleanupCgroups(execRoot: string): Promise<void> {
  const parent = `wharf-${execRoot.replace(/[^a-zA-Z0-9]+/g, "_").replace(/^_|_$/g, "")}`;
  const script = `for d in /sys/fs/cgroup/*/${parent} /sys/fs/cgroup/${parent}; do [ -d "$d" ] && find "$d" -depth -type d -exec rmdir {} \\; 2>/dev/null; done; ! ls -d /sys/fs/cgroup/*/${parent} >/dev/null 2>&1`;
  // Processes killed a moment ago may still be leaving their cgroups: try for up to a second.
  for (let i = 0; i < 10; i++) {
    const ok = await run("sh", ["-c", script]).then(
      () => true,
      () => false,
    );
    if (ok) return;
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** A TCP port on 127.0.0.1 that nothing listens on right now, for tests that publish ports. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createNetServer();
    srv.once("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

/** A random 10.x.y.0/24 that no host route overlaps (and so no other daemon's bridge uses). */
export async function freeSubnet(): Promise<string> {
  const { stdout } = await run("ip", ["-4", "route", "show", "table", "all"]);
  for (;;) {
    const a = 100 + Math.floor(Math.random() * 150);
    const b = Math.floor(Math.random() * 256);
    if (!stdout.includes(`10.${a}.${b}.`) && !stdout.includes(`10.${a}.0.0/16`)) return `10.${a}.${b}.0/24`;
  }
}

/**
 * A random ULA /64 (fdXX:XXXX:XXXX::/64) that no host route of any table overlaps, for IPv6 tests running
 * side by side. Each call gives a different one.
 */
export async function freeSubnet6(): Promise<string> {
  const { parseCidr6, overlaps6 } = await import("../../src/netdrv/index.ts");
  const { stdout } = await run("ip", ["-6", "route", "show", "table", "all"]);
  const taken = stdout.split("\n").flatMap((line) => {
    const dst = line.split(" ").find((w) => w.includes(":"));
    const c = dst && parseCidr6(dst.includes("/") ? dst : `${dst}/128`);
    return c ? [c] : [];
  });
  const hex = (n: number) => Math.floor(Math.random() * 16 ** n).toString(16);
  for (;;) {
    const text = `fd${hex(2).padStart(2, "0")}:${hex(4)}:${hex(4)}::/64`;
    const c = parseCidr6(text);
    if (!c || picked6.has(text) || taken.some((t) => t.prefixLen > 0 && overlaps6(t, c))) continue;
    picked6.add(text);
    return text;
  }
}
const picked6 = new Set<string>();

/**
 * Removes a daemon's bridges, veths and iptables and ip6tables chains (everything tagged with its bridge name);
 * the bridges' addresses, IPv6 ones included, and their routes go with the links.
 */
async function cleanupNetwork(bridge: string): Promise<void> {
  const { stdout } = await run("ip", ["-d", "-o", "link", "show"]).catch(() => ({ stdout: "" }));
  for (const line of stdout.split("\n")) {
    const name = /^\d+: ([^:@]+)/.exec(line)?.[1];
    const alias = /\balias (\S+)\s*$/.exec(line)?.[1];
    if (name && (alias === `wharf:${bridge}` || alias?.startsWith(`wharf:${bridge}:`)))
      await run("ip", ["link", "del", name]).catch(() => undefined);
  }
  const { removeDaemonRules } = await import("../../src/netdrv/index.ts");
  await removeDaemonRules(bridge).catch(() => undefined);
}

/** Kills conmon/container processes whose pid files are under `dir`, unmounts its mounts, removes it. */
async function cleanupLeftovers(dir: string): Promise<void> {
  const { stdout } = await run("find", [dir, "-name", "*.pid", "-type", "f"]).catch(() => ({ stdout: "" }));
  for (const f of stdout.split("\n").filter(Boolean)) {
    const pid = Number((await readFile(f, "utf8").catch(() => "")).trim());
    if (pid > 1) {
      try {
        process.kill(pid, "SIGKILL");
      } catch {
        /* already gone */
      }
    }
  }
  const mounts = (await readFile("/proc/self/mounts", "utf8"))
    .split("\n")
    .map((l) => l.split(" ")[1])
    .filter((m) => m?.startsWith(dir))
    .sort((a, b) => b.length - a.length);
  for (const m of mounts) await run("umount", ["-l", m]).catch(() => undefined);
  await rm(dir, { recursive: true, force: true });
}

/** One API call; JSON in and out. Throws with Docker's message on a non-2xx status. */
export function api<T = unknown>(
  d: { socket: string },
  method: string,
  path: string,
  body?: unknown,
): Promise<T> {
  return new Promise((resolve, reject) => {
    const data = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
    const req = request(
      {
        socketPath: d.socket,
        method,
        path,
        headers: data ? { "Content-Type": "application/json", "Content-Length": data.length } : {},
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => {
          const text = Buffer.concat(chunks).toString();
          const status = res.statusCode ?? 0;
          let parsed: unknown = text;
          try {
            parsed = text ? JSON.parse(text) : undefined;
          } catch {
            /* not JSON */
          }
          if (status >= 200 && status < 300) resolve(parsed as T);
          else {
            const err = new Error((parsed as { message?: string })?.message ?? text) as Error & {
              status: number;
            };
            err.status = status;
            reject(err);
          }
        });
      },
    );
    req.on("error", reject);
    req.end(data);
  });
}

/**
 * One raw request whose answer must come within `deadlineMs`: resolves with the status and (the first 64 KiB
 * of) the body, rejects when the daemon hangs. For tests that send what a client should not (the fuzz suites).
 */
export function timedRequest(
  d: { socket: string },
  req: { method: string; path: string; body?: string | Buffer; headers?: Record<string, string> },
  deadlineMs: number,
): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const body = req.body;
    const r = request(
      {
        socketPath: d.socket,
        method: req.method,
        path: req.path,
        headers:
          body === undefined ? req.headers : { ...req.headers, "Content-Length": Buffer.byteLength(body) },
      },
      (res) => {
        let text = "";
        res.on("data", (c: Buffer) => {
          if (text.length < 65536) text += c.toString();
        });
        res.on("end", () => {
          clearTimeout(timer);
          resolve({ status: res.statusCode ?? 0, text });
        });
      },
    );
    const timer = setTimeout(() => {
      r.destroy();
      reject(
        new Error(
          `${req.method} ${req.path} hung past ${deadlineMs} ms with body ${String(body).slice(0, 300)}`,
        ),
      );
    }, deadlineMs);
    r.on("error", (e) => {
      clearTimeout(timer);
      reject(e);
    });
    r.end(body);
  });
}

/** Runs a command, resolving with its exit code and output (never rejects on a non-zero exit). */
export function exec(
  cmd: string,
  args: string[],
  opts: { env?: Record<string, string>; input?: string | Buffer; timeoutMs?: number } = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const p = spawn(cmd, args, { env: { ...process.env, ...opts.env }, stdio: ["pipe", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    p.stdout.on("data", (c: Buffer) => {
      stdout += c.toString();
    });
    p.stderr.on("data", (c: Buffer) => {
      stderr += c.toString();
    });
    const timer = setTimeout(() => p.kill("SIGKILL"), opts.timeoutMs ?? 60_000);
    p.on("error", reject);
    p.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code: code ?? -1, stdout, stderr });
    });
    p.stdin.end(opts.input);
  });
}

/** The real docker CLI against a test daemon. */
export function docker(d: TestDaemon, args: string[], opts: { input?: string; timeoutMs?: number } = {}) {
  return exec(DOCKER, ["-H", d.host, ...args], {
    ...opts,
    env: { DOCKER_CONFIG: join(d.dir, "docker-config") },
  });
}

/**
 * The docker CLI against a test daemon, for a call that must succeed: its stdout (trimmed with `trim`);
 * a non-zero exit fails the test with the command and its stderr.
 */
export async function dockerOk(
  d: TestDaemon,
  args: string[],
  opts: { input?: string; timeoutMs?: number; trim?: boolean } = {},
): Promise<string> {
  const { trim, ...rest } = opts;
  const r = await docker(d, args, rest);
  assert.equal(r.code, 0, `docker ${args.join(" ")}: ${r.stderr}`);
  return trim ? r.stdout.trim() : r.stdout;
}

/** `docker run --rm IMAGE sh -c CMD` against a test daemon, which must succeed: its stdout. */
export function runSh(d: TestDaemon, image: string, cmd: string): Promise<string> {
  return dockerOk(d, ["run", "--rm", image, "sh", "-c", cmd]);
}

/** The wharf CLI against a test daemon. */
export function wharf(d: TestDaemon, args: string[], opts: { input?: string; timeoutMs?: number } = {}) {
  return exec(WHARF, args, { ...opts, env: { WHARF_HOST: d.host } });
}

/** The busybox rootfs tar, made once per machine by scripts/make-busybox-image.sh and shared by test files. */
export async function busyboxTar(): Promise<string> {
  const script = await readFile(join(ROOT, "scripts/make-busybox-image.sh"));
  const hash = createHash("sha256").update(script).digest("hex").slice(0, 12);
  const path = join(tmpdir(), `wharf-busybox-${hash}.tar`);
  if (existsSync(path)) return path;
  const tmp = `${path}.${process.pid}.tmp`;
  await run(join(ROOT, "scripts/make-busybox-image.sh"), ["--tar", tmp]);
  await rename(tmp, path);
  return path;
}

/** Imports a rootfs tar as `repo:tag` with one CMD into a test daemon through the API (docker import). */
export async function importRootfsTar(
  d: { socket: string },
  tar: string,
  opts: { repo: string; tag: string; cmd: string },
): Promise<void> {
  const changes = encodeURIComponent(`CMD ["${opts.cmd}"]`);
  const { code, stderr } = await exec("curl", [
    "-sf",
    "--unix-socket",
    d.socket,
    "-X",
    "POST",
    "-H",
    "Content-Type: application/x-tar",
    "--data-binary",
    `@${tar}`,
    `http://docker/images/create?fromSrc=-&repo=${opts.repo}&tag=${opts.tag}&changes=${changes}`,
  ]);
  if (code !== 0) throw new Error(`import of ${opts.repo} failed (${code}): ${stderr}`);
}

/** Imports busybox:latest (CMD ["sh"]) into a test daemon through the API. */
export async function importBusybox(d: { socket: string }): Promise<void> {
  await importRootfsTar(d, await busyboxTar(), { repo: "busybox", tag: "latest", cmd: "sh" });
}
