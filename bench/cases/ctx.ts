/** What every case of the suite is handed. */
import type { Engine } from "../lib/engines.ts";
import type { EngineMemory } from "../lib/measure.ts";

/** The suite's shared state: the engines, run counts and files made once. */
export interface Ctx {
  engines: Engine[];
  /** Samples per figure. */
  runs: number;
  /** Samples for the slow figures (100 parallel starts, 500 containers present). */
  parallelRuns: number;
  /** The suite's temp dir. */
  tmp: string;
  /** busybox rootfs tar (scripts/make-busybox-image.sh --tar). */
  busyboxTar: string;
  /**
   * Each engine once left alone for `settleMs` after start-up (wharf's spawner workers gone), in MiB: the PSS
   * of its processes other than the daemons, and the daemons' private memory.
   */
  settledIdle: Map<string, EngineMemory>;
  /** How long an engine is left alone before a settled figure. */
  settleMs: number;
  /** Each engine's daemon processes (the daemon, and containerd for dockerd): those alive when idle. */
  daemonPids: Map<string, number[]>;
}
