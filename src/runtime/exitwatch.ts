import { type FSWatcher, watch } from "node:fs";
import { readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import { isErrno } from "../errdefs/index.ts";
import { log, nowNs, rfc3339Nano } from "../util/index.ts";

/** How a container's process ended, as conmon recorded it. */
export interface ExitStatus {
  exitCode: number;
  /** RFC 3339 with nanoseconds: when conmon wrote the exit file. */
  exitedAt: string;
  oomKilled: boolean;
}

interface Waiter {
  promise: Promise<ExitStatus>;
  resolve: (s: ExitStatus) => void;
  reject: (e: unknown) => void;
}

/**
 * One inotify watch on conmon's exit dir for every container: conmon writes `<dir>/<id>` (via a temp file
 * and rename) when the process ends, so each rename event names the container that exited.
 */
export class ExitWatcher {
  readonly dir: string;
  readonly #oomFile: (id: string) => string;
  readonly #waiters = new Map<string, Waiter>();
  // Exits seen by this process, so every reader gets the same exitedAt.
  readonly #seen = new Map<string, ExitStatus>();
  #watcher: FSWatcher | undefined;

  constructor(dir: string, oomFile: (id: string) => string) {
    this.dir = dir;
    this.#oomFile = oomFile;
  }

  /**
   * Resolves once when `<dir>/<id>` exists. `gone` is asked once, after a first look finds no file: when
   * it says the writer (conmon) is dead, no file will ever come and the exit is reported as code 255.
   */
  wait(id: string, gone?: () => Promise<boolean>): Promise<ExitStatus> {
    const existing = this.#waiters.get(id);
    if (existing) return existing.promise;
    let resolve!: (s: ExitStatus) => void;
    let reject!: (e: unknown) => void;
    const promise = new Promise<ExitStatus>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    const w: Waiter = { promise, resolve, reject };
    this.#waiters.set(id, w);
    this.#ensureWatching();
    // The watch is in place before this first look, so an exit between the two cannot be missed.
    void this.#tryRead(id).then(async (s) => {
      if (s || !this.#waiters.has(id) || !gone || !(await gone())) return;
      // Re-read: conmon may have written the file and exited while `gone` ran.
      if (await this.#tryRead(id)) return;
      log("warn", "container monitor is gone without an exit file", { id });
      const status = { exitCode: 255, exitedAt: rfc3339Nano(nowNs()), oomKilled: false };
      this.#seen.set(id, status);
      this.#settle(id, status);
    }, reject);
    return promise;
  }

  /**
   * Reads the exit file now; undefined while the container has not exited. `live` (an inotify event just
   * now) stamps the exit with the current time: the file's mtime comes from the coarse kernel clock and can
   * read a few ms before the container's last log lines.
   */
  async read(id: string, live = false): Promise<ExitStatus | undefined> {
    const seen = this.#seen.get(id);
    if (seen) return seen;
    const file = join(this.dir, id);
    let text: string;
    let mtimeNs: bigint;
    try {
      [text, mtimeNs] = await Promise.all([
        readFile(file, "utf8"),
        stat(file, { bigint: true }).then((s) => s.mtimeNs),
      ]);
    } catch (e) {
      if (isErrno(e, "ENOENT")) return undefined;
      throw e;
    }
    const code = Number.parseInt(text.trim(), 10);
    const oomKilled = await stat(this.#oomFile(id)).then(
      () => true,
      () => false,
    );
    // Two reads can race (the first look and an inotify event); the first to finish decides for both.
    const raced = this.#seen.get(id);
    if (raced) return raced;
    const status = {
      exitCode: Number.isFinite(code) ? code : -1,
      exitedAt: rfc3339Nano(live ? nowNs() : mtimeNs),
      oomKilled,
    };
    this.#seen.set(id, status);
    return status;
  }

  /** Drops what is remembered about `id` (its exit file is being removed for a new run or for good). */
  forget(id: string): void {
    this.#seen.delete(id);
  }

  /** Stops watching; pending waits stay pending. */
  close(): void {
    this.#watcher?.close();
    this.#watcher = undefined;
  }

  async #tryRead(id: string, live = false): Promise<ExitStatus | undefined> {
    const s = await this.read(id, live);
    if (s) this.#settle(id, s);
    return s;
  }

  #settle(id: string, s: ExitStatus): void {
    const w = this.#waiters.get(id);
    if (!w) return;
    this.#waiters.delete(id);
    w.resolve(s);
    if (this.#waiters.size === 0) this.#watcher?.unref();
  }

  #ensureWatching(): void {
    if (!this.#watcher) {
      this.#watcher = watch(this.dir, { persistent: true }, (_event, name) => {
        if (name === null) {
          // Without a name (queue overflow) every waiter is checked.
          for (const id of this.#waiters.keys()) void this.#tryRead(id, true).catch(() => {});
          return;
        }
        const id = name.toString();
        if (this.#waiters.has(id)) void this.#tryRead(id, true).catch(() => {});
      });
      this.#watcher.on("error", () => {
        this.#watcher = undefined;
      });
    }
    // Only pending waits keep the process alive.
    this.#watcher.ref();
  }
}
