import { native } from "./native.ts";

/**
 * Gives the C heap's free memory back to the kernel (malloc_trim). glibc keeps what was freed resident in
 * its arenas: at start-up 8 MB of the idle daemon's RSS was such memory, and after the spawner's worker
 * ended 17 MB (measured by trimming a settled daemon from gdb). Called when the daemon has just gone
 * quiet: start-up done, the spawner's workers ended. A missing addon (a unit test) is not an error here.
 */
export function releaseFreeMemory(): void {
  // The garbage of the work just done first (V8 collects only when JavaScript allocates, and a quiet daemon
  // does not): a full collection of a heap this size is a few milliseconds, once per quiet spell. Only where
  // the daemon runs with --expose-gc (bin/wharf).
  (globalThis as { gc?: () => void }).gc?.();
  try {
    native().mallocTrim();
  } catch {
    // nothing to release without the addon
  }
}
