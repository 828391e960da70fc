// The shape of the stats fan-in's lines, shared by the server and the front end (which cannot import node code).

/** One container's usage at one moment, as the pages chart it. */
export interface Sample {
  id: string;
  /** Milliseconds since the epoch, from the frame's `read`. */
  t: number;
  cpu: number;
  mem: number;
  memLimit: number;
  netRx: number;
  netTx: number;
  blkRead: number;
  blkWrite: number;
  pids: number;
}
