import { ConflictError, InvalidParameterError, NotImplementedError } from "../errdefs/index.ts";
import type { AttachStreams, LogLine } from "../runtime/index.ts";
import type { StdioRuntime } from "./deps.ts";
import type { LogRotator } from "./logrotate.ts";
import type { Registry } from "./registry.ts";
import type { WaitCondition, WaitResult } from "./state.ts";

const CONDITIONS: readonly string[] = ["not-running", "next-exit", "removed"] satisfies WaitCondition[];

/** A container's streams: attach, logs, wait, TTY resize. */
export class ContainerIO {
  readonly #r: Registry;
  readonly #runtime: StdioRuntime;
  readonly #logs: LogRotator;

  constructor(deps: { registry: Registry; runtime: StdioRuntime; logs: LogRotator }) {
    this.#r = deps.registry;
    this.#runtime = deps.runtime;
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
    if (!CONDITIONS.includes(condition)) throw new InvalidParameterError(`invalid condition: "${condition}"`);
    const asResult = (e: WaitResult) => ({
      StatusCode: e.code,
      Error: e.error ? { Message: e.error } : null,
    });
    const ready = c.state
      .wait(condition as WaitCondition, { requestedAtNs: opts.requestedAtNs })
      .then(asResult);
    return { ready };
  }

  /**
   * Attach to a container's stdio. A container not yet running hands out its stdio when it starts,
   * so `docker run` and `start -a` (attach, then start) see the first byte of output.
   */
  attach(ref: string): { tty: boolean; openStdin: boolean; stdio: Promise<AttachStreams>; cancel(): void } {
    const c = this.#r.get(ref);
    this.#r.emit(c, "attach");
    const tty = !!c.record.Config.Tty;
    const openStdin = !!c.record.Config.OpenStdin;
    if (c.state.running) {
      return { tty, openStdin, stdio: this.#runtime.attach(c.id), cancel: () => undefined };
    }
    let resolver: ((s: AttachStreams | Error) => void) | undefined;
    const stdio = new Promise<AttachStreams>((resolve, reject) => {
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
    if (!c.state.running) throw new ConflictError(`Container ${c.id} is not running`);
    if (!c.record.Config.Tty) return;
    await this.#runtime.resize(c.id, size);
  }

  /** GET /containers/{id}/logs: entries from the log file, following until the container stops when asked. */
  logs(
    ref: string,
    opts: { since?: bigint; until?: bigint; tail?: number; follow?: boolean },
  ): { tty: boolean; entries: AsyncIterable<LogLine> } {
    const c = this.#r.get(ref);
    if (!c.record.LogPath)
      throw new NotImplementedError("configured logging driver does not support reading");
    const follow = opts.follow && c.state.running ? (c.exitHandled ?? Promise.resolve()) : undefined;
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
