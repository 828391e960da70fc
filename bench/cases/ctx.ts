/** What every case of the suite is handed. */
import type { Engine } from "../lib/engines.ts";

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
  /** Each engine's idle PSS (MiB) once it was left alone for `settleMs` after start-up (wharf's spawner
   * workers gone). */
  settledPss: Map<string, number>;
  /** How long an engine is left alone before a settled figure. */
  settleMs: number;
  /** Each engine's daemon processes (the daemon, and containerd for dockerd): those alive when idle. */
  daemonPids: Map<string, number[]>;
}
