import type { ContainerState, Health } from "../apitypes/index.ts";
import { log, ZERO_TIME } from "../util/index.ts";
import type { ContainerStateDoc } from "./model.ts";

/** Docker's container states, as `State.Status` and the `status` filter name them. */
export type StateStatus = ContainerState["Status"];

/** What `POST /containers/{id}/wait` may wait for. */
export type WaitCondition = "not-running" | "next-exit" | "removed";

/** How a wait ends: the exit code, and the start error when the run never began. */
export interface WaitResult {
  code: number;
  error?: string;
}

/** How a run ended, as the runtime reports it. */
export interface StopInfo {
  exitCode: number;
  exitedAt: string;
  oomKilled: boolean;
}

type Waiter = (r: WaitResult) => void;

/**
 * A container's one state: its flags, the transitions between created, running, paused, restarting, exited,
 * removing and dead, and who waits on them. Status is derived from the flags (as moby's StateString), so it
 * can never disagree with them. Every transition persists through `persist`; writes are queued, so the last
 * one on disk is the latest state.
 */
export class State {
  #running = false;
  #paused = false;
  #restarting = false;
  #oomKilled = false;
  #dead = false;
  /** Not persisted: a daemon that restarts mid-removal sees the container as it was before. */
  #removing = false;
  #removed = false;
  #pid = 0;
  #exitCode = 0;
  #error = "";
  #startedAt = ZERO_TIME;
  #finishedAt = ZERO_TIME;
  #health: Health | undefined;
  #restartCount = 0;
  #hasBeenStarted = false;
  #startedAtNs: bigint | undefined;
  #manuallyStopped = false;
  #restartDelayMs = 0;
  readonly #exitWaiters = new Set<Waiter>();
  readonly #removeWaiters = new Set<Waiter>();
  readonly #persist: (doc: ContainerStateDoc) => Promise<void>;
  #saving: Promise<void> = Promise.resolve();

  /** A state read back from its document (a fresh "created" one when absent), saved through `persist`. */
  constructor(doc: ContainerStateDoc | undefined, persist: (doc: ContainerStateDoc) => Promise<void>) {
    this.#persist = persist;
    if (!doc) return;
    const s = doc.State;
    this.#running = !!s.Running;
    this.#paused = !!s.Paused;
    this.#restarting = !!s.Restarting;
    this.#oomKilled = !!s.OOMKilled;
    this.#dead = !!s.Dead;
    this.#pid = s.Pid ?? 0;
    this.#exitCode = s.ExitCode ?? 0;
    this.#error = s.Error ?? "";
    this.#startedAt = s.StartedAt || ZERO_TIME;
    this.#finishedAt = s.FinishedAt || ZERO_TIME;
    this.#health = s.Health;
    this.#restartCount = doc.RestartCount ?? 0;
    this.#hasBeenStarted = !!doc.HasBeenStarted;
    this.#startedAtNs = doc.StartedAtNs ? BigInt(doc.StartedAtNs) : undefined;
    this.#manuallyStopped = !!doc.ManuallyStopped;
    this.#restartDelayMs = doc.RestartDelayMs ?? 0;
  }

  /** Docker's status word for the flags. */
  get status(): StateStatus {
    return this.#statusOf(true);
  }

  #statusOf(withRemoval: boolean): StateStatus {
    if (this.#running) {
      if (this.#paused) return "paused";
      if (this.#restarting) return "restarting";
      return "running";
    }
    if (withRemoval && this.#removing) return "removing";
    if (this.#dead) return "dead";
    if (this.#startedAt === ZERO_TIME) return "created";
    return "exited";
  }

  /** Has a process (or is between runs of its restart policy): Docker's State.Running. */
  get running(): boolean {
    return this.#running;
  }
  /** Runs a process right now: running and not waiting for a restart. */
  get live(): boolean {
    return this.#running && !this.#restarting;
  }
  get paused(): boolean {
    return this.#paused;
  }
  get restarting(): boolean {
    return this.#restarting;
  }
  get removing(): boolean {
    return this.#removing;
  }
  get removed(): boolean {
    return this.#removed;
  }
  /** The container's main process (0 when it is not running). */
  get pid(): number {
    return this.#pid;
  }

  get exitCode(): number {
    return this.#exitCode;
  }
  get startedAt(): string {
    return this.#startedAt;
  }
  get finishedAt(): string {
    return this.#finishedAt;
  }
  get health(): Health | undefined {
    return this.#health;
  }
  get restartCount(): number {
    return this.#restartCount;
  }
  get hasBeenStarted(): boolean {
    return this.#hasBeenStarted;
  }
  get manuallyStopped(): boolean {
    return this.#manuallyStopped;
  }
  get restartDelayMs(): number {
    return this.#restartDelayMs;
  }

  /** The process runs: a fresh run's times, no error, not paused or restarting. */
  setRunning(o: { pid: number; startedAt: string; startedAtNs: bigint }): Promise<void> {
    this.#running = true;
    this.#paused = false;
    this.#restarting = false;
    this.#oomKilled = false;
    this.#dead = false;
    this.#pid = o.pid;
    this.#exitCode = 0;
    this.#error = "";
    this.#startedAt = o.startedAt;
    this.#finishedAt = ZERO_TIME;
    this.#hasBeenStarted = true;
    this.#startedAtNs = o.startedAtNs;
    return this.save();
  }

  /** The run never began: the runtime's error and the exit code Docker reports for it. */
  setStartError(message: string, code: number): Promise<void> {
    this.#error = message;
    this.#exitCode = code;
    return this.save();
  }

  /** The process ended. Waiters are told separately (`notifyExit`), once the run's resources are released. */
  setStopped(exit: StopInfo): Promise<void> {
    this.#running = false;
    this.#paused = false;
    this.#restarting = false;
    this.#pid = 0;
    this.#exitCode = exit.exitCode;
    this.#oomKilled = exit.oomKilled;
    this.#finishedAt = exit.exitedAt;
    return this.save();
  }

  /** Waiting out the restart policy's back-off: Docker shows it as running and restarting. */
  setRestarting(delayMs: number): Promise<void> {
    this.#restartDelayMs = delayMs;
    this.#running = true;
    this.#restarting = true;
    return this.save();
  }

  /** The back-off timer fired: one more run under the restart policy. */
  countRestart(): void {
    this.#restartCount++;
  }

  /** A pending restart was cancelled (stop, kill) or failed: the container is plainly exited. */
  setRestartCancelled(): Promise<void> {
    this.#running = false;
    this.#restarting = false;
    return this.save();
  }

  /** Stopped or killed through the API (restart policies leave it alone), or started again (they apply). */
  setManuallyStopped(stopped: boolean): void {
    this.#manuallyStopped = stopped;
  }

  /** The cgroup is frozen. */
  setPaused(): Promise<void> {
    this.#paused = true;
    return this.save();
  }

  /** The cgroup is thawed. */
  setUnpaused(): Promise<void> {
    this.#paused = false;
    return this.save();
  }

  /** The healthcheck's latest verdict and results. */
  setHealth(health: Health | undefined): Promise<void> {
    this.#health = health;
    return this.save();
  }

  /** Marks the removal as begun; false when one is already under way. */
  setRemovalInProgress(): boolean {
    if (this.#removing) return false;
    this.#removing = true;
    return true;
  }

  /** A removal that failed before anything was lost: the container is usable again. */
  resetRemovalInProgress(): void {
    this.#removing = false;
  }

  /** A removal that failed half-way: only another removal can help (Docker's "dead"). */
  setDead(): Promise<void> {
    this.#removing = false;
    this.#dead = true;
    return this.save();
  }

  /**
   * The container is gone: nothing is persisted any more; every waiter gets the last exit code. It stays
   * "removing" for operations that queued behind the removal and still hold it.
   */
  setRemoved(): void {
    this.#removed = true;
    const r = { code: this.#exitCode };
    const waiters = [...this.#removeWaiters, ...this.#exitWaiters];
    this.#removeWaiters.clear();
    this.#exitWaiters.clear();
    for (const w of waiters) w(r);
  }

  /** Answers the waits on the current run (not-running, next-exit). */
  notifyExit(r: WaitResult): void {
    const waiters = [...this.#exitWaiters];
    this.#exitWaiters.clear();
    for (const w of waiters) w(r);
  }

  /**
   * Resolves when the condition holds. `requestedAtNs` is when the client asked: a run that started and
   * ended after that still counts as the next exit, since the wait was sent before the start.
   */
  wait(condition: WaitCondition, opts: { requestedAtNs?: bigint } = {}): Promise<WaitResult> {
    if (condition === "not-running" && !this.#running) return Promise.resolve({ code: this.#exitCode });
    if (
      condition === "next-exit" &&
      !this.#running &&
      opts.requestedAtNs &&
      this.#startedAtNs !== undefined &&
      this.#startedAtNs >= opts.requestedAtNs
    )
      return Promise.resolve({ code: this.#exitCode });
    return new Promise((resolve) => {
      if (condition === "removed") this.#removeWaiters.add(resolve);
      else this.#exitWaiters.add(resolve);
    });
  }

  /** Docker's State object for inspect. */
  view(): ContainerState {
    return this.#view(true);
  }

  #view(withRemoval: boolean): ContainerState {
    const s: ContainerState = {
      Status: this.#statusOf(withRemoval),
      Running: this.#running,
      Paused: this.#paused,
      Restarting: this.#restarting,
      OOMKilled: this.#oomKilled,
      Dead: this.#dead,
      Pid: this.#pid,
      ExitCode: this.#exitCode,
      Error: this.#error,
      StartedAt: this.#startedAt,
      FinishedAt: this.#finishedAt,
    };
    if (this.#health) s.Health = structuredClone(this.#health);
    return s;
  }

  /** The document `state.json` holds. */
  doc(): ContainerStateDoc {
    const d: ContainerStateDoc = {
      State: this.#view(false),
      RestartCount: this.#restartCount,
      HasBeenStarted: this.#hasBeenStarted,
    };
    if (this.#startedAtNs !== undefined) d.StartedAtNs = this.#startedAtNs.toString();
    if (this.#manuallyStopped) d.ManuallyStopped = true;
    if (this.#restartDelayMs) d.RestartDelayMs = this.#restartDelayMs;
    return d;
  }

  /**
   * Queues a write of the current state (the state when the write runs); none after removal. A failed write
   * is logged, not thrown: the state in memory stays the truth and the next transition writes it again.
   */
  save(): Promise<void> {
    this.#saving = this.#saving
      .then(async () => {
        if (!this.#removed) await this.#persist(this.doc());
      })
      .catch((e) => log("error", "saving container state failed", { err: e }));
    return this.#saving;
  }
}
