/**
 * ExecSync, and the StreamRuntime the streaming server drives: exec and attach over wharf's exec sessions
 * and conmon's attach socket, port-forward over a connection made inside the pod's network namespace.
 */
import { connect } from "node:net";
import type { Duplex, Readable, Writable } from "node:stream";
import * as grpc from "@grpc/grpc-js";
import type { ContainerService } from "../container/index.ts";
import type { Processes } from "../host/index.ts";
import type { Containers } from "./containers.ts";
import type { Sandboxes } from "./sandboxes.ts";
import { GrpcStatusError } from "./server.ts";
import {
  type AttachStreamRequest,
  type ExecStreamRequest,
  type StreamIO,
  type StreamRuntime,
  StreamTargetError,
  type TerminalSize,
} from "./stream-runtime.ts";

/** Output ExecSync keeps of each stream, as containerd's limit (16 MiB). */
const MAX_OUTPUT = 16 << 20;

function collect(r: Readable | undefined): Promise<Buffer> {
  if (!r) return Promise.resolve(Buffer.alloc(0));
  return new Promise((resolve) => {
    const parts: Buffer[] = [];
    let size = 0;
    r.on("data", (b: Buffer) => {
      if (size >= MAX_OUTPUT) return;
      parts.push(b);
      size += b.length;
    });
    const done = () => resolve(Buffer.concat(parts).subarray(0, MAX_OUTPUT));
    r.once("end", done);
    r.once("close", done);
    r.once("error", done);
  });
}

/** Resolves when `r` has ended (or failed): the output of a stream is flushed. */
function ended(r: Readable): Promise<void> {
  return new Promise((resolve) => {
    if (r.readableEnded || r.destroyed) return resolve();
    r.once("end", () => resolve());
    r.once("close", () => resolve());
    r.once("error", () => resolve());
  });
}

function pipeOut(from: Readable, to: Writable | undefined): void {
  if (!to) {
    from.resume();
    return;
  }
  from.pipe(to, { end: false });
}

async function forwardResizes(
  sizes: AsyncIterable<TerminalSize> | undefined,
  fn: (s: TerminalSize) => Promise<void>,
) {
  if (!sizes) return;
  try {
    for await (const s of sizes) await fn(s).catch(() => undefined);
  } catch {}
}

/** The runtime side of exec, attach and port-forward. */
export class CriStreams implements StreamRuntime {
  readonly #c: ContainerService;
  readonly #containers: Containers;
  readonly #sandboxes: Sandboxes;
  readonly #proc: Processes;

  constructor(o: {
    containers: ContainerService;
    cri: Containers;
    sandboxes: Sandboxes;
    processes: Processes;
  }) {
    this.#c = o.containers;
    this.#containers = o.cri;
    this.#sandboxes = o.sandboxes;
    this.#proc = o.processes;
  }

  #running(id: string): string {
    let full: string;
    try {
      full = this.#containers.resolve(id);
    } catch (e) {
      throw new StreamTargetError((e as Error).message);
    }
    if (!this.#c.inspect(full).State.Running) throw new StreamTargetError(`container ${full} is not running`);
    return full;
  }

  /** ExecSync: runs `cmd` to its end (or `timeout` seconds) and answers its output and exit code. */
  async execSync(
    id: string,
    cmd: string[],
    timeout: number,
  ): Promise<{ stdout: Buffer; stderr: Buffer; exitCode: number }> {
    const full = this.#containers.resolve(id);
    const status = this.#c.inspect(full).State.Status;
    if (status !== "running") {
      // containerd's words (and code: Unknown) for an exec into a container that is not running.
      const state = status === "created" ? "CONTAINER_CREATED" : "CONTAINER_EXITED";
      throw new GrpcStatusError(
        grpc.status.UNKNOWN,
        `failed to exec in container: container is in ${state} state`,
      );
    }
    const { Id } = this.#c.execCreate(full, { Cmd: cmd, AttachStdout: true, AttachStderr: true });
    const { stdio, exit } = await this.#c.execStart(Id, { detach: false });
    stdio?.stdin.end();
    const run = Promise.all([collect(stdio?.stdout), collect(stdio?.stderr), exit]);
    let timer: NodeJS.Timeout | undefined;
    const limit =
      timeout > 0
        ? new Promise<never>((_, reject) => {
            timer = setTimeout(() => {
              // As containerd: the process does not outlive the call that timed out.
              void this.#c.execKill(Id, "SIGKILL").catch(() => undefined);
              stdio?.close();
              reject(
                new GrpcStatusError(
                  grpc.status.DEADLINE_EXCEEDED,
                  `failed to exec in container: timeout ${timeout}s exceeded: context deadline exceeded`,
                ),
              );
            }, timeout * 1000);
          })
        : undefined;
    try {
      const [stdout, stderr, exitCode] = await (limit ? Promise.race([run, limit]) : run);
      return { stdout, stderr, exitCode };
    } finally {
      clearTimeout(timer);
    }
  }

  async exec(req: ExecStreamRequest, io: StreamIO): Promise<{ exitCode: number }> {
    const id = this.#running(req.containerId);
    const { Id } = this.#c.execCreate(id, {
      Cmd: req.cmd,
      Tty: req.tty,
      AttachStdin: req.stdin,
      AttachStdout: req.stdout,
      AttachStderr: req.stderr,
    });
    const { stdio, exit } = await this.#c.execStart(Id, { detach: false });
    if (!stdio) return { exitCode: await exit };
    if (io.stdin && req.stdin) io.stdin.pipe(stdio.stdin);
    else stdio.stdin.end();
    pipeOut(stdio.stdout, io.stdout);
    pipeOut(stdio.stderr, req.tty ? io.stdout : io.stderr);
    void forwardResizes(io.resize, (s) => this.#c.execResize(Id, { height: s.height, width: s.width }));
    const exitCode = await exit;
    await Promise.all([ended(stdio.stdout), ended(stdio.stderr)]);
    io.stdin?.unpipe(stdio.stdin);
    return { exitCode };
  }

  async attach(req: AttachStreamRequest, io: StreamIO): Promise<void> {
    const id = this.#running(req.containerId);
    const a = this.#c.attach(id);
    const stdio = await a.stdio;
    const exited = this.#c.wait(id, { condition: "not-running" }).ready.then(() => undefined);
    if (io.stdin && req.stdin) io.stdin.pipe(stdio.stdin, { end: false });
    pipeOut(stdio.stdout, io.stdout);
    pipeOut(stdio.stderr, a.tty ? io.stdout : io.stderr);
    void forwardResizes(io.resize, (s) => this.#c.resize(id, { height: s.height, width: s.width }));
    // Detach: stdin ended, or the client went away (an attach without stdin has no other way to say so).
    const detached = new Promise<void>((resolve) => {
      if (io.stdin && req.stdin) void ended(io.stdin).then(resolve);
      if (io.signal?.aborted) resolve();
      io.signal?.addEventListener("abort", () => resolve(), { once: true });
    });
    await Promise.race([
      exited.then(() => Promise.all([ended(stdio.stdout), ended(stdio.stderr)])),
      detached,
    ]);
    io.stdin?.unpipe(stdio.stdin);
    stdio.close();
  }

  async portForward(podSandboxId: string, port: number, socket: Duplex): Promise<void> {
    let target: { pid: number; netns?: string };
    try {
      target = this.#sandboxes.netnsOf(podSandboxId);
    } catch (e) {
      throw new StreamTargetError((e as Error).message);
    }
    if (!target.netns) {
      // A hostNetwork pod's loopback is the host's.
      const conn = connect({ host: "127.0.0.1", port });
      return bridge(socket, conn, conn);
    }
    // Node cannot connect a socket inside another namespace: nsenter runs busybox's nc there instead.
    const child = this.#proc.spawn(
      "nsenter",
      [`--net=${target.netns}`, "--", "/bin/busybox", "nc", "127.0.0.1", String(port)],
      { stdio: ["pipe", "pipe", "ignore"] },
    );
    const out = child.stdout;
    const inp = child.stdin;
    if (!out || !inp) throw new StreamTargetError("port-forward helper has no pipes");
    return new Promise<void>((resolve) => {
      socket.pipe(inp);
      out.pipe(socket, { end: true });
      const done = () => {
        socket.unpipe(inp);
        inp.destroy();
        resolve();
      };
      // All the pod's output is copied only once nc's stdout has ended: its exit can come first (and the
      // worker spawner's 'close' comes with the exit, not after stdio as node's does), and the streaming
      // server ends the socket as soon as this resolves.
      out.once("end", done);
      child.on("error", done);
      socket.once("close", () => {
        inp.end();
        done();
      });
    });
  }
}

/** Copies both ways between `socket` and a TCP connection until either side closes. */
function bridge(socket: Duplex, readable: Readable, writable: Writable & { destroy(): void }): Promise<void> {
  return new Promise((resolve) => {
    socket.pipe(writable);
    readable.pipe(socket);
    const done = () => {
      writable.destroy();
      resolve();
    };
    readable.once("close", done);
    readable.once("error", done);
    socket.once("close", done);
  });
}
