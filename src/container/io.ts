import { ConflictError, InvalidParameterError, NotImplementedError } from "../errdefs/index.ts";
import type { AttachedStdio, LogEntry } from "./deps.ts";
import type { LogRotator } from "./logrotate.ts";
import type { Registry } from "./registry.ts";

/** A container's streams: attach, logs, wait, TTY resize. */
export class ContainerIO {
  readonly #r: Registry;
  readonly #logs: LogRotator;

  constructor(deps: { registry: Registry; logs: LogRotator }) {
    this.#r = deps.registry;
    this.#logs = deps.logs;
  }

  /**
   * POST /containers/{id}/wait. `requestedAtNs` is when the client's connection opened: a container that
   * started and exited after that still counts for next-exit, since the wait was sent before the start.
   */
  wait(
    ref: string,
    opts: { condition?: string; requestedAtNs?: bigint },
  ): { ready: Promise<{ StatusCode: number; Error: { Message: string } | null }> } {
    const c = this.#r.get(ref);
    const condition = opts.condition || "not-running";
    if (!["not-running", "next-exit", "removed"].includes(condition))
      throw new InvalidParameterError(`invalid condition: "${condition}"`);
    const st = c.state.State;
    const asResult = (e: { code: number; error?: string }) => ({
      StatusCode: e.code,
      Error: e.error ? { Message: e.error } : null,
    });
    if (condition === "not-running" && !st.Running) {
      return { ready: Promise.resolve(asResult({ code: st.ExitCode })) };
    }
    if (condition === "next-exit" && !st.Running && opts.requestedAtNs && c.state.StartedAtNs) {
      if (BigInt(c.state.StartedAtNs) >= opts.requestedAtNs)
        return { ready: Promise.resolve(asResult({ code: st.ExitCode })) };
    }
    const ready = new Promise<{ code: number; error?: string }>((resolve) => {
      if (condition === "removed") c.removeWaiters.add(resolve);
      else c.exitWaiters.add(resolve);
    }).then(asResult);
    return { ready };
  }

  /**
   * Attach to a container's stdio. A container not yet running hands out its stdio when it starts,
   * so `docker run` and `start -a` (attach, then start) see the first byte of output.
   */
  attach(ref: string): { tty: boolean; openStdin: boolean; stdio: Promise<AttachedStdio>; cancel(): void } {
    const c = this.#r.get(ref);
    this.#r.emit(c, "attach");
    const tty = !!c.record.Config.Tty;
    const openStdin = !!c.record.Config.OpenStdin;
    if (c.state.State.Running) {
      return { tty, openStdin, stdio: this.#r.o.runtime.attach(c.id), cancel: () => undefined };
    }
    let resolver: ((s: AttachedStdio | Error) => void) | undefined;
    const stdio = new Promise<AttachedStdio>((resolve, reject) => {
      resolver = (s) => (s instanceof Error ? reject(s) : resolve(s));
      c.pendingAttach.add(resolver);
    });
    return {
      tty,
      openStdin,
      stdio,
      cancel: () => {
        if (resolver) c.pendingAttach.delete(resolver);
      },
    };
  }

  /** POST /containers/{id}/resize */
  async resize(ref: string, size: { height: number; width: number }): Promise<void> {
    const c = this.#r.get(ref);
    if (!c.state.State.Running) throw new ConflictError(`Container ${c.id} is not running`);
    if (!c.record.Config.Tty) return;
    await this.#r.o.runtime.resize(c.id, size);
  }

  /** GET /containers/{id}/logs: entries from the log file, following until the container stops when asked. */
  logs(
    ref: string,
    opts: { since?: bigint; until?: bigint; tail?: number; follow?: boolean },
  ): { tty: boolean; entries: AsyncIterable<LogEntry> } {
    const c = this.#r.get(ref);
    if (!c.record.LogPath)
      throw new NotImplementedError("configured logging driver does not support reading");
    const follow = opts.follow && c.state.State.Running ? (c.running ?? Promise.resolve()) : undefined;
    return {
      tty: !!c.record.Config.Tty,
      entries: this.#logs.read(c, {
        since: opts.since,
        until: opts.until,
        tail: opts.tail,
        follow,
      }),
    };
  }
}
