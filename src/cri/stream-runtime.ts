/**
 * The seam between the CRI core and its streaming server (src/cri/streaming/): the core hands out URLs the
 * server mints, and the server, once a client connects to such a URL, drives the session through StreamRuntime.
 */
import type { Duplex, Readable, Writable } from "node:stream";

/** A terminal size, as remotecommand's resize channel and WebSocket resize messages send it. */
export interface TerminalSize {
  width: number;
  height: number;
}

/** The streams of one exec or attach session; absent when the request did not ask for that stream. */
export interface StreamIO {
  stdin?: Readable;
  stdout?: Writable;
  /** Absent with a TTY: the terminal merges stderr into stdout. */
  stderr?: Writable;
  resize?: AsyncIterable<TerminalSize>;
  /** Aborted when the client's connection ends before the session does: stop copying (attach: detach). */
  signal?: AbortSignal;
}

/** runtime.v1 ExecRequest, as the core received it in Exec. */
export interface ExecStreamRequest {
  containerId: string;
  cmd: string[];
  tty: boolean;
  stdin: boolean;
  stdout: boolean;
  stderr: boolean;
}

/** runtime.v1 AttachRequest, as the core received it in Attach. */
export interface AttachStreamRequest {
  containerId: string;
  tty: boolean;
  stdin: boolean;
  stdout: boolean;
  stderr: boolean;
}

/** runtime.v1 PortForwardRequest, as the core received it in PortForward. */
export interface PortForwardStreamRequest {
  podSandboxId: string;
  ports: number[];
}

/** Thrown (or rejected with) by StreamRuntime when the container or pod is gone or not running. */
export class StreamTargetError extends Error {}

/** What the streaming server needs of the runtime; the CRI core implements it over wharf's exec and attach. */
export interface StreamRuntime {
  /** Runs `cmd` in the container wired to `io`; resolves with its exit code when it ends and its output is flushed. */
  exec(req: ExecStreamRequest, io: StreamIO): Promise<{ exitCode: number }>;
  /** Attaches to the container's main process until it exits or `io.stdin` ends (detach), then resolves. */
  attach(req: AttachStreamRequest, io: StreamIO): Promise<void>;
  /**
   * Connects `socket` to `port` on the pod's loopback (inside its network namespace); resolves when either side
   * closes, but only once everything read from the port has been written to `socket`: the server ends `socket`
   * as soon as this resolves, so output still on its way (a helper process's stdout after it exited) is lost.
   */
  portForward(podSandboxId: string, port: number, socket: Duplex): Promise<void>;
}

/**
 * What the CRI core needs of the streaming server: URLs kubelet hands to the API server (and crictl uses).
 * The get* methods throw errdefs' InvalidParameterError for a request kubelet's server refuses (no container
 * id, tty with stderr, no stream asked for) and UnavailableError when too many URLs are waiting to be used.
 */
export interface StreamServer {
  getExec(req: ExecStreamRequest): { url: string };
  getAttach(req: AttachStreamRequest): { url: string };
  getPortForward(req: PortForwardStreamRequest): { url: string };
  /** Stops listening; called at daemon shut-down. */
  close(): Promise<void>;
}

/** How the daemon builds the streaming server: `address` is `host:port` to listen on (port 0: any free port). */
export type StreamServerFactory = (
  runtime: StreamRuntime,
  opts: { address: string },
) => Promise<StreamServer>;
