import { type ErrorKind, WharfError } from "../errdefs/index.ts";

/**
 * A failure reported by runc (or conmon on its behalf). `runtimeMessage` is runc's own text, e.g.
 * `runc create failed: unable to start container process: exec: "nope": executable file not found in $PATH`.
 * `exitCode` follows dockerd: 127 for a missing command, 126 for one that cannot be run.
 */
export class OciRuntimeError extends WharfError {
  readonly runtimeMessage: string;
  readonly exitCode: number | undefined;
  constructor(op: string, runtimeMessage: string, options?: { cause?: unknown }) {
    const { kind, exitCode } = classify(runtimeMessage);
    super(kind, `OCI runtime ${op} failed: ${runtimeMessage}: unknown`, options);
    this.name = "OciRuntimeError";
    this.runtimeMessage = runtimeMessage;
    this.exitCode = exitCode;
  }
}

/** True when `e` is an OciRuntimeError. */
export function isOciRuntimeError(e: unknown): e is OciRuntimeError {
  return e instanceof OciRuntimeError;
}

// dockerd treats a bad command as the user's mistake (400) and sets the container's exit code to match.
function classify(msg: string): { kind: ErrorKind; exitCode: number | undefined } {
  if (/executable file not found|no such file or directory|system cannot find the file/i.test(msg)) {
    return { kind: "InvalidParameter", exitCode: 127 };
  }
  if (/permission denied/i.test(msg)) return { kind: "InvalidParameter", exitCode: 126 };
  return { kind: "System", exitCode: undefined };
}

/**
 * Extracts the message from runc's stderr, which is logrus text (`time=".." level=error msg=".."`), one
 * entry a line; the last error wins. Plain text is returned trimmed.
 */
export function parseRuncStderr(stderr: string): string {
  let found: string | undefined;
  for (const line of stderr.split("\n")) {
    const m = /\blevel=(?:error|fatal)\b.*?\bmsg=("(?:[^"\\]|\\.)*"|\S+)/.exec(line);
    if (!m?.[1]) continue;
    const raw = m[1];
    found = raw.startsWith('"') ? unquoteGo(raw) : raw;
  }
  return found ?? stderr.trim();
}

function unquoteGo(q: string): string {
  try {
    return JSON.parse(q) as string;
  } catch {
    return q.slice(1, -1).replace(/\\(.)/g, "$1");
  }
}
