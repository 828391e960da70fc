import { type FSWatcher, watch } from "node:fs";
import { rename, rm, stat } from "node:fs/promises";
import type { LogLine } from "../runtime/index.ts";
import { log } from "../util/index.ts";
import type { Container } from "./container.ts";
import type { LogReader, RuntimeBackend } from "./deps.ts";
import { logRotation } from "./logconfig.ts";

interface Watch {
  watcher: FSWatcher | undefined;
  busy: boolean;
  /** Resolves at the next rotation, so a follower moves on to the new file. */
  rotated: Promise<void>;
  signal: () => void;
}

/**
 * `--log-opt max-size/max-file` for conmon's k8s-file log: when the file reaches max-size it is renamed
 * to `<log>.1` (older ones shift up, the oldest beyond max-file goes) and conmon is told to reopen the
 * path, so nothing it writes is lost. `logs` reads the rotated files, oldest first, then the live one.
 */
export class LogRotator {
  readonly #runtime: Pick<RuntimeBackend, "reopenLog">;
  readonly #readLog: LogReader;
  readonly #watches = new Map<string, Watch>();

  constructor(deps: { runtime: Pick<RuntimeBackend, "reopenLog">; readLog: LogReader }) {
    this.#runtime = deps.runtime;
    this.#readLog = deps.readLog;
  }

  /** Starts watching a running container's log when it has a size limit. */
  start(c: Container): void {
    this.stop(c);
    const { maxSize, maxFile } = logRotation(c.record.HostConfig.LogConfig);
    if (!c.record.LogPath || maxSize <= 0) return;
    const path = c.record.LogPath;
    const w: Watch = { watcher: undefined, busy: false, rotated: Promise.resolve(), signal: () => {} };
    const arm = () => {
      w.rotated = new Promise<void>((r) => {
        w.signal = r;
      });
      w.watcher?.close();
      w.watcher = watch(path, { persistent: false }, () => void check());
      w.watcher.on("error", () => undefined);
    };
    const check = async (): Promise<void> => {
      if (w.busy || this.#watches.get(c.id) !== w) return;
      w.busy = true;
      try {
        const size = (await stat(path).catch(() => undefined))?.size ?? 0;
        if (size < maxSize) return;
        await this.#rotate(c, { path, maxFile });
        // conmon made a new file: watch that one, and let followers switch to it.
        const rotated = w.signal;
        arm();
        rotated();
      } catch (e) {
        log("warn", "log rotation failed", { id: c.id, err: e });
      } finally {
        w.busy = false;
      }
    };
    this.#watches.set(c.id, w);
    try {
      arm();
    } catch (e) {
      log("warn", "cannot watch the log for rotation", { id: c.id, err: e });
      this.#watches.delete(c.id);
      return;
    }
    void check();
  }

  /** Stops watching (the container exited). */
  stop(c: Container): void {
    const w = this.#watches.get(c.id);
    if (!w) return;
    w.watcher?.close();
    this.#watches.delete(c.id);
  }

  async #rotate(c: Container, o: { path: string; maxFile: number }): Promise<void> {
    const { path, maxFile } = o;
    // Keep max-file files in all: the live one and max-file - 1 rotated ones.
    await rm(`${path}.${Math.max(1, maxFile - 1)}`, { force: true });
    for (let i = maxFile - 2; i >= 1; i--)
      await rename(`${path}.${i}`, `${path}.${i + 1}`).catch(() => undefined);
    await rename(path, `${path}.1`);
    await this.#runtime.reopenLog(c.id);
    if (maxFile <= 1) await rm(`${path}.1`, { force: true });
    // conmon creates the new file when it reads the message: wait for it before watching it.
    for (let i = 0; i < 200; i++) {
      if (
        await stat(path).then(
          () => true,
          () => false,
        )
      )
        return;
      await new Promise((r) => setTimeout(r, 5));
    }
  }

  /** The container's log entries across its rotated files and the live one, as `logs` asks for them. */
  async *read(
    c: Container,
    opts: { since?: bigint; until?: bigint; tail?: number; follow?: Promise<unknown> },
  ): AsyncGenerator<LogLine> {
    const path = c.record.LogPath;
    const readLog = this.#readLog;
    const { maxFile } = logRotation(c.record.HostConfig.LogConfig);
    const rotated: string[] = [];
    for (let i = maxFile - 1; i >= 1; i--)
      if (
        await stat(`${path}.${i}`).then(
          () => true,
          () => false,
        )
      )
        rotated.push(`${path}.${i}`);
    if (!this.#watches.has(c.id) && !rotated.length) {
      yield* readLog(path, opts);
      return;
    }
    const range = { since: opts.since, until: opts.until };
    const history: LogLine[] = [];
    for (const f of rotated) for await (const e of readLog(f, range)) history.push(e);
    const current: LogLine[] = [];
    for await (const e of readLog(path, range)) current.push(e);
    const all = [...history, ...current];
    const shown =
      opts.tail !== undefined && opts.tail >= 0 ? all.slice(Math.max(0, all.length - opts.tail)) : all;
    yield* shown;
    if (!opts.follow) return;
    // Go on with what the live file gets next, and with each new file after a rotation.
    let skip = current.length;
    let done = false;
    void opts.follow.then(
      () => {
        done = true;
      },
      () => {
        done = true;
      },
    );
    for (;;) {
      const w = this.#watches.get(c.id);
      const until = w ? Promise.race([opts.follow, w.rotated]) : opts.follow;
      for await (const e of readLog(path, { ...range, follow: until })) {
        if (skip > 0) {
          skip--;
          continue;
        }
        yield e;
      }
      if (done || !w) return;
      skip = 0;
    }
  }
}
