/** Registries for the distribution tests: wharf's own, Debian's docker-registry, and a cutting proxy. */
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import http from "node:http";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ROOT } from "../../helpers/daemon.ts";

/** A registry process on a loopback port. */
export interface TestRegistry {
  host: string;
  root: string;
  proc?: ChildProcess;
  output(): string;
  stop(): Promise<void>;
}

const NODE = join(ROOT, "node_modules/.bin/node");

/** A free TCP port on 127.0.0.1. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const a = s.address();
      const port = typeof a === "object" && a ? a.port : 0;
      s.close(() => resolve(port));
    });
  });
}

async function stopProc(p: ChildProcess): Promise<void> {
  if (p.exitCode !== null || p.signalCode !== null) return;
  const exited = new Promise((r) => p.once("exit", r));
  p.kill("SIGTERM");
  await Promise.race([exited, new Promise((r) => setTimeout(r, 3000))]);
  if (p.exitCode === null && p.signalCode === null) p.kill("SIGKILL");
}

/** `wharf registry serve` from the source tree, on a free port. */
export async function startWharfRegistry(args: string[] = []): Promise<TestRegistry> {
  const root = await mkdtemp(join(tmpdir(), "wt-reg-"));
  const p = spawn(
    NODE,
    [
      join(ROOT, "src/main.ts"),
      "registry",
      "serve",
      "--addr",
      "127.0.0.1:0",
      "--root",
      join(root, "data"),
      ...args,
    ],
    { stdio: ["ignore", "pipe", "pipe"] },
  );
  let log = "";
  p.stderr?.on("data", (c: Buffer) => {
    log += c.toString();
  });
  const port = await new Promise<number>((resolve, reject) => {
    let out = "";
    p.stdout?.on("data", (c: Buffer) => {
      out += c.toString();
      const m = /listening on 127\.0\.0\.1:(\d+)/.exec(out);
      if (m) resolve(Number(m[1]));
    });
    p.once("exit", (code) => reject(new Error(`registry exited with ${code}: ${log}`)));
  });
  return {
    host: `127.0.0.1:${port}`,
    root: join(root, "data"),
    proc: p,
    output: () => log,
    async stop() {
      await stopProc(p);
      await rm(root, { recursive: true, force: true });
    },
  };
}

/** Debian's docker-registry (the reference implementation), or undefined when it is not installed. */
export async function startDockerRegistry(): Promise<TestRegistry | undefined> {
  const bin = "/usr/bin/docker-registry";
  if (!existsSync(bin)) return undefined;
  const root = await mkdtemp(join(tmpdir(), "wt-dreg-"));
  const port = await freePort();
  const config = join(root, "config.yml");
  await writeFile(
    config,
    `version: 0.1
log:
  level: warn
storage:
  filesystem:
    rootdirectory: ${join(root, "data")}
  delete:
    enabled: true
http:
  addr: 127.0.0.1:${port}
`,
  );
  const p = spawn(bin, ["serve", config], { stdio: ["ignore", "pipe", "pipe"] });
  let log = "";
  p.stdout?.on("data", (c: Buffer) => {
    log += c.toString();
  });
  p.stderr?.on("data", (c: Buffer) => {
    log += c.toString();
  });
  const deadline = Date.now() + 15_000;
  for (;;) {
    const ok = await fetch(`http://127.0.0.1:${port}/v2/`).then(
      (r) => r.status === 200,
      () => false,
    );
    if (ok) break;
    if (p.exitCode !== null || Date.now() > deadline) {
      await stopProc(p);
      throw new Error(`docker-registry did not start: ${log}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    host: `127.0.0.1:${port}`,
    root,
    proc: p,
    output: () => log,
    async stop() {
      await stopProc(p);
      await rm(root, { recursive: true, force: true });
    },
  };
}

/**
 * A proxy in front of `target` that forwards everything but cuts the connection half-way through the blob
 * `digest`, as a registry dying mid-download would.
 */
export async function startCuttingProxy(target: string, digest: string): Promise<TestRegistry> {
  const server = http.createServer((req, res) => {
    const up = http.request(
      {
        host: "127.0.0.1",
        port: Number(target.split(":")[1]),
        path: req.url,
        method: req.method,
        headers: req.headers,
      },
      (ur) => {
        res.writeHead(ur.statusCode ?? 502, ur.headers);
        if (req.method === "GET" && req.url?.endsWith(`/blobs/${digest}`)) {
          const half = Math.floor(Number(ur.headers["content-length"] ?? 2) / 2);
          let sent = 0;
          ur.on("data", (c: Buffer) => {
            if (sent >= half) return;
            const part = c.subarray(0, half - sent);
            sent += part.length;
            res.write(part);
            if (sent >= half) setTimeout(() => res.socket?.destroy(), 50);
          });
          return;
        }
        ur.pipe(res);
      },
    );
    up.on("error", () => res.destroy());
    req.pipe(up);
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const a = server.address();
  const port = typeof a === "object" && a ? a.port : 0;
  return {
    host: `127.0.0.1:${port}`,
    root: "",
    output: () => "",
    stop: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}
