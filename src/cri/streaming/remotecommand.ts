/**
 * The Kubernetes remotecommand protocol (exec and attach), independent of its transport: a session has the
 * streams the request asked for plus an error stream that carries the final status. Over SPDY the client
 * opens one stream per kind (header streamType); over WebSocket they are channels of one connection.
 */
import type { Readable, Writable } from "node:stream";
import { finished } from "node:stream/promises";
import type {
  AttachStreamRequest,
  ExecStreamRequest,
  StreamIO,
  StreamRuntime,
  TerminalSize,
} from "../stream-runtime.ts";
import { resizeEvents } from "./resize.ts";
import type { SpdySession, SpdyStream } from "./spdy/session.ts";
import {
  encodeStatus,
  exitCodeStatus,
  internalErrorStatus,
  type KubeStatus,
  successStatus,
} from "./status.ts";

/**
 * The remotecommand versions we speak over SPDY, best first, as kubelet's list: v5 is v4 on SPDY (its CLOSE
 * is WebSocket-only); v1 (channel.k8s.io) is v2 whose stdin the server half-closes at once.
 */
export const spdyRemoteCommandProtocols = [
  "v5.channel.k8s.io",
  "v4.channel.k8s.io",
  "v3.channel.k8s.io",
  "v2.channel.k8s.io",
  "channel.k8s.io",
];

/** The version number of a remotecommand protocol name (channel.k8s.io is 1). */
export function protocolVersion(name: string): number {
  const m = /^v(\d+)\./.exec(name);
  return m ? Number(m[1]) : 1;
}

/** Which streams a session has: those of the request, as kubelet's Options. */
export interface StreamOptions {
  stdin: boolean;
  stdout: boolean;
  stderr: boolean;
  tty: boolean;
}

/** One session's streams, whatever the transport. */
export interface RemoteCommandChannels {
  /** Protocol version: decides the error stream's format. */
  version: number;
  stdin?: Readable;
  stdout?: Writable;
  stderr?: Writable;
  resize?: AsyncIterable<TerminalSize>;
  /** Aborted when the connection ends before finish(). */
  signal: AbortSignal;
  /** Writes `status` to the error stream, ends every stream and closes the connection. */
  finish(status: Buffer): Promise<void>;
}

function message(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

function streamIO(ch: RemoteCommandChannels): StreamIO {
  const io: StreamIO = { signal: ch.signal };
  if (ch.stdin) io.stdin = ch.stdin;
  if (ch.stdout) io.stdout = ch.stdout;
  if (ch.stderr) io.stderr = ch.stderr;
  if (ch.resize) io.resize = ch.resize;
  return io;
}

/** Runs an exec session to its end and reports the exit code as kubelet does. */
export async function runExec(
  runtime: StreamRuntime,
  req: ExecStreamRequest,
  ch: RemoteCommandChannels,
): Promise<void> {
  let status: KubeStatus;
  try {
    const { exitCode } = await runtime.exec(req, streamIO(ch));
    status = exitCode === 0 ? successStatus() : exitCodeStatus(req.cmd, exitCode);
  } catch (e) {
    status = internalErrorStatus(`error executing command in container: ${message(e)}`);
  }
  await ch.finish(encodeStatus(status, ch.version));
}

/** Runs an attach session to its end. */
export async function runAttach(
  runtime: StreamRuntime,
  req: AttachStreamRequest,
  ch: RemoteCommandChannels,
): Promise<void> {
  let status: KubeStatus;
  try {
    await runtime.attach(req, streamIO(ch));
    status = successStatus();
  } catch (e) {
    status = internalErrorStatus(`error attaching to container: ${message(e)}`);
  }
  await ch.finish(encodeStatus(status, ch.version));
}

/** Ends a writable and waits until what was written is handed on (or the stream died). */
export async function endAndWait(w: Writable | undefined): Promise<void> {
  if (!w || w.destroyed) return;
  if (!w.writableEnded) w.end();
  await finished(w, { readable: false }).catch(() => {});
}

/**
 * Waits for the streams a SPDY client opens for a session: error, then those of `opts` (and resize with a
 * TTY from v3 on), as kubelet counts them. Rejects after `timeoutMs`, as kubelet's stream creation timeout.
 */
export function acceptSpdyStreams(
  session: SpdySession,
  version: number,
  opts: StreamOptions,
  timeoutMs: number,
): Promise<RemoteCommandChannels> {
  const expected =
    1 + Number(opts.stdin) + Number(opts.stdout) + Number(opts.stderr) + Number(opts.tty && version >= 3);
  const got = new Map<string, SpdyStream>();
  const known = new Set(["error", "stdin", "stdout", "stderr", ...(version >= 3 ? ["resize"] : [])]);
  const abort = new AbortController();
  const state = { finishing: false };
  session.once("close", () => {
    if (!state.finishing) abort.abort(new Error("connection closed"));
  });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      cleanup();
      reject(new Error("timed out waiting for client to create streams"));
    }, timeoutMs);
    const onClose = () => {
      cleanup();
      reject(new Error("connection closed before the client created its streams"));
    };
    const cleanup = () => {
      clearTimeout(timer);
      session.off("stream", onStream);
      session.off("close", onClose);
      // Streams opened once the session is set up are not ours to take: refuse them.
      session.on("stream", (s) => s.reset());
    };
    const onStream = (s: SpdyStream) => {
      const type = s.header("streamtype") ?? "";
      if (!known.has(type) || got.has(type)) {
        s.reset();
        return;
      }
      s.reply();
      got.set(type, s);
      if (got.size < expected) return;
      cleanup();
      resolve(spdyChannels(session, version, got, abort.signal, state));
    };
    session.on("stream", onStream);
    session.once("close", onClose);
  });
}

function spdyChannels(
  session: SpdySession,
  version: number,
  got: Map<string, SpdyStream>,
  signal: AbortSignal,
  state: { finishing: boolean },
): RemoteCommandChannels {
  const error = got.get("error");
  const stdin = got.get("stdin");
  const stdout = got.get("stdout");
  const stderr = got.get("stderr");
  const resize = got.get("resize");
  // Drain what the client never sends on its read-only streams. Its write-only ones (stdin, resize) are left
  // open until the connection ends: client-go stops sending stdin as soon as it sees stdin's FIN.
  for (const s of [error, stdout, stderr]) s?.resume();
  // kubelet's v1 handler closes stdin as soon as the streams are there (what 1.0 kubelets did).
  if (version === 1) stdin?.end();
  const ch: RemoteCommandChannels = {
    version,
    signal,
    async finish(status: Buffer) {
      state.finishing = true;
      if (error && status.length > 0 && !error.gone) error.write(status);
      await Promise.all([endAndWait(stdout), endAndWait(stderr), endAndWait(error)]);
      await session.close();
    },
  };
  if (stdin) ch.stdin = stdin;
  if (stdout) ch.stdout = stdout;
  if (stderr) ch.stderr = stderr;
  if (resize) ch.resize = resizeEvents(resize);
  return ch;
}
