/**
 * What the error stream carries when a remotecommand session ends. v4 and later: a JSON metav1.Status, which
 * is how the client learns the exit code (reason NonZeroExitCode, cause ExitCode). v2/v3: the error text
 * alone, and nothing on success. Field names and order follow Go's encoding of metav1.Status.
 */

/** A metav1.Status as kubelet's streaming server writes it. */
export interface KubeStatus {
  metadata: Record<string, never>;
  status: "Success" | "Failure";
  message?: string;
  reason?: string;
  details?: { causes: { reason?: string; message: string }[] };
  code?: number;
}

/** The command (or attach) ended normally. */
export function successStatus(): KubeStatus {
  return { metadata: {}, status: "Success" };
}

/** The command exited with a non-zero code. */
export function exitCodeStatus(cmd: string[], exitCode: number): KubeStatus {
  return {
    metadata: {},
    status: "Failure",
    message: `command terminated with non-zero exit code: error executing command [${cmd.join(" ")}], exit code ${exitCode}`,
    reason: "NonZeroExitCode",
    details: { causes: [{ reason: "ExitCode", message: String(exitCode) }] },
  };
}

/** The runtime failed (apierrors.NewInternalError). */
export function internalErrorStatus(message: string): KubeStatus {
  return {
    metadata: {},
    status: "Failure",
    message: `Internal error occurred: ${message}`,
    reason: "InternalError",
    details: { causes: [{ message }] },
    code: 500,
  };
}

/** The bytes to write on the error stream for `status` in protocol version `version` (2..5); empty: none. */
export function encodeStatus(status: KubeStatus, version: number): Buffer {
  if (version >= 4) return Buffer.from(JSON.stringify(status));
  return status.status === "Success" ? Buffer.alloc(0) : Buffer.from(status.message ?? "");
}
