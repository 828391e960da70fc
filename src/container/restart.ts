import type { RestartPolicy } from "../apitypes/index.ts";

/** Docker's restart manager: the first delay, its doubling cap, and how long a run must last to reset it. */
const FIRST_DELAY_MS = 100;
const MAX_DELAY_MS = 60_000;
const RESET_AFTER_MS = 10_000;

/** Whether a container that just exited should be restarted under its policy. */
export function shouldRestart(
  policy: RestartPolicy | undefined,
  opts: { exitCode: number; restartCount: number; manuallyStopped: boolean; removing: boolean },
): boolean {
  if (opts.removing || opts.manuallyStopped) return false;
  switch (policy?.Name) {
    case "always":
    case "unless-stopped":
      return true;
    case "on-failure": {
      if (opts.exitCode === 0) return false;
      const max = policy.MaximumRetryCount ?? 0;
      return max <= 0 || opts.restartCount < max;
    }
    default:
      return false;
  }
}

/** Whether a stopped container is started again when the daemon starts. */
export function restartOnDaemonStart(policy: RestartPolicy | undefined, manuallyStopped: boolean): boolean {
  if (policy?.Name === "always") return true;
  if (policy?.Name === "unless-stopped") return !manuallyStopped;
  return false;
}

/** The next backoff delay: doubling from 100 ms up to a minute, back to 100 ms after a run of 10 s or more. */
export function nextDelay(previousMs: number, ranForMs: number): number {
  if (ranForMs >= RESET_AFTER_MS || previousMs <= 0) return FIRST_DELAY_MS;
  return Math.min(previousMs * 2, MAX_DELAY_MS);
}
