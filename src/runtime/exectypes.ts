import type { AttachStreams } from "./attach.ts";

/**
 * What an exec session runs. Unset fields come from the container's own process (its config.json):
 * user, working dir, capabilities, rlimits, no-new-privileges.
 */
export interface ExecOptions {
  args: string[];
  /** The exec's own variables; they replace the container's by name, the rest of its environment stays. */
  env?: string[];
  /** Absolute working directory; the container's when absent. */
  cwd?: string;
  /** Resolved numeric user (see resolveUser); the container's user when absent. */
  user?: { uid: number; gid: number; additionalGids?: number[]; umask?: number };
  tty?: boolean;
  /** Give the process a stdin that attached clients write to (Docker's AttachStdin). */
  stdin?: boolean;
  /** All capabilities (the container's device rules still apply, as in Docker). */
  privileged?: boolean;
  /** Bounding capability set to use instead of the container's; ignored when privileged. */
  caps?: string[];
  /** Initial TTY size. */
  consoleSize?: { height: number; width: number };
  /**
   * Connect to the session's attach socket before the process starts, so no output is lost; the
   * connection is what the first attach() returns. Without it the process starts at once (detached).
   */
  attach?: boolean;
}

/** How an exec session ended. */
export interface ExecExit {
  /** As Docker reports it: 127 for a missing command, 126 for one that cannot be run. */
  exitCode: number;
  /** The runtime's message (Docker's wording) when the process could not be started at all. */
  error?: string;
}

/** A running (or finished) exec session. */
export interface ExecSession {
  readonly execId: string;
  /** Host pid of the exec'd process; 0 when it never started. */
  readonly pid: number;
  /** Resolves once when the process exits; never rejects. */
  readonly exit: Promise<ExecExit>;
  /**
   * The process's stdio (same shape as ContainerRuntime.attach). With `attach: true` the first call
   * returns the connection made before the process started; other calls connect anew (output already
   * written is not replayed). Conflict once the session has ended.
   */
  attach(): Promise<AttachStreams>;
  /** Resizes the session's TTY. */
  resize(size: { height: number; width: number }): Promise<void>;
  /** Signals the exec'd process (not the container). */
  kill(signal: number | string): Promise<void>;
}
