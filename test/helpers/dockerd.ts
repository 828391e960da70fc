/**
 * A dockerd of the test's own, for tests that compare wharf with Docker on this machine: temp roots, its own
 * socket, containerd namespace and bridge (made here), no iptables rules, so nothing of the host changes.
 */
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { request } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { freeSubnet } from "./daemon.ts";

const run = promisify(execFile);

/** dockerd's binary, when docker.io is installed. */
export const DOCKERD = ["/usr/bin/dockerd", "/usr/sbin/dockerd"].find((p) => existsSync(p));

/** A running dockerd. */
export interface TestDockerd {
  socket: string;
  host: string;
  stop(): Promise<void>;
}

/** Starts dockerd; undefined when it is not installed. Call `stop()` in an `after` hook. */
export async function startDockerd(name: string): Promise<TestDockerd | undefined> {
  if (!DOCKERD) return undefined;
  const dir = await mkdtemp(join(tmpdir(), `wt-dockerd-${name}-`));
  const socket = join(dir, "docker.sock");
  const tag = `${process.pid % 100000}`;
  const bridge = `wdk${tag}`.slice(0, 15);
  const subnet = (await freeSubnet()).replace(/\.0\/24$/, "");
  await run("ip", ["link", "add", bridge, "type", "bridge"]);
  await run("ip", ["addr", "add", `${subnet}.1/24`, "dev", bridge]);
  await run("ip", ["link", "set", bridge, "up"]);
  let log = "";
  const proc: ChildProcess = spawn(
    DOCKERD,
    [
      "--data-root",
      join(dir, "data"),
      "--exec-root",
      join(dir, "exec"),
      "-H",
      `unix://${socket}`,
      "--pidfile",
      join(dir, "dockerd.pid"),
      "--bridge",
      bridge,
      "--iptables=false",
      "--ip-forward=false",
      "--containerd-namespace",
      `wt${name}${tag}`,
      "--containerd-plugins-namespace",
      `wtp${name}${tag}`,
    ],
    { stdio: ["ignore", "pipe", "pipe"] },
  );
  proc.stdout?.on("data", (c: Buffer) => {
    log += c.toString();
  });
  proc.stderr?.on("data", (c: Buffer) => {
    log += c.toString();
  });
  const stop = async () => {
    if (proc.exitCode === null && proc.signalCode === null) {
      const exited = new Promise((r) => proc.once("exit", r));
      proc.kill("SIGTERM");
      await Promise.race([exited, new Promise((r) => setTimeout(r, 20_000))]);
      if (proc.exitCode === null && proc.signalCode === null) proc.kill("SIGKILL");
    }
    const mounts = (await readFile("/proc/self/mounts", "utf8"))
      .split("\n")
      .map((l) => l.split(" ")[1])
      .filter((m): m is string => !!m?.startsWith(dir))
      .sort((a, b) => b.length - a.length);
    for (const m of mounts) await run("umount", ["-l", m]).catch(() => undefined);
    await rm(dir, { recursive: true, force: true });
    await run("ip", ["link", "del", bridge]).catch(() => undefined);
  };
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (proc.exitCode !== null) {
      await stop();
      throw new Error(`dockerd exited with ${proc.exitCode}:\n${log}`);
    }
    const up = await new Promise<boolean>((resolve) => {
      const req = request({ socketPath: socket, path: "/_ping" }, (res) => {
        res.resume();
        resolve(res.statusCode === 200);
      });
      req.on("error", () => resolve(false));
      req.end();
    });
    if (up) break;
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`dockerd did not answer on ${socket}:\n${log}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return { socket, host: `unix://${socket}`, stop };
}
