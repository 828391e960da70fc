import type { AttachStreams } from "../runtime/index.ts";
import type { ContainerRecord } from "./model.ts";
import type { State } from "./state.ts";

/** One container in memory: its record (what create decided), its one State, and its run's handles. */
export class Container {
  record: ContainerRecord;
  readonly state: State;
  /** Attach requests that arrived before start; start connects them before the process runs. */
  readonly pendingAttach = new Set<(stdio: AttachStreams | Error) => void>();
  /** Serialises lifecycle operations on this container. */
  #lock: Promise<unknown> = Promise.resolve();
  /** Resolves when the current run has ended and its exit is handled. */
  exitHandled?: Promise<void>;
  /** A pending restart under the container's restart policy. */
  restartTimer?: NodeJS.Timeout;
  /** Bumped whenever a pending restart is scheduled or overtaken, so a stale one never runs. */
  restartSeq = 0;

  constructor(record: ContainerRecord, state: State) {
    this.record = record;
    this.state = state;
  }

  get id(): string {
    return this.record.Id;
  }

  /** The name without Docker's leading slash. */
  get shortName(): string {
    return this.record.Name.slice(1);
  }

  /** Runs `fn` after every earlier operation on this container. */
  serial<T>(fn: () => Promise<T>): Promise<T> {
    const next = this.#lock.then(fn, fn);
    this.#lock = next.catch(() => undefined);
    return next;
  }

  /** Hands every pending attach an error: the run they waited for will not come. */
  failPendingAttach(err: Error): void {
    for (const a of this.pendingAttach) a(err);
    this.pendingAttach.clear();
  }
}
