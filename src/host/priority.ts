/**
 * The event-loop thread's scheduling priority. While containers start, the daemon's main thread competes
 * for the CPUs with the runc, conmon and docker clients it is serving; with 20 parallel starts on 2 cores
 * most of its loop delay was time spent runnable but not running (its /proc/…/schedstat run delay), not
 * JavaScript. So the main thread alone runs at a higher priority, as dockerd lowers its own oom_score_adj:
 * Linux keeps a nice value per thread, so this leaves the other threads alone, and the spawner's workers set
 * their own back to what the daemon started with, so runc, conmon and every container get the daemon's
 * original nice value, as under dockerd.
 */
import { getPriority, setPriority } from "node:os";

/** How much higher the event-loop thread runs than the rest (nice steps; weight about 9× at 10). */
export const EVENT_LOOP_NICE_BOOST = 10;

let original: number | undefined;

/**
 * Raises the calling thread's priority (call it on the main thread). Returns false where the process
 * may not (no CAP_SYS_NICE, as in a rootless daemon's user namespace): the daemon then runs as before.
 */
export function favourEventLoop(boost = EVENT_LOOP_NICE_BOOST): boolean {
  const from = getPriority(0);
  try {
    setPriority(Math.max(-20, from - boost));
  } catch {
    return false;
  }
  original ??= from;
  return true;
}

/** The nice value children are to run with when favourEventLoop changed the main thread's; else undefined. */
export function childNice(): number | undefined {
  return original;
}
