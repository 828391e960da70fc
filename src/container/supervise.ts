import type { ContainerTopResponse, StatsFrame } from "../apitypes/index.ts";
import { ConflictError } from "../errdefs/index.ts";
import type { RuntimeStats } from "../runtime/index.ts";
import type { Container } from "./container.ts";
import type { SupervisorRuntime } from "./deps.ts";
import type { Registry } from "./registry.ts";
import { checkResources, type HostLimits, mergeUpdate, type UpdateRequest } from "./resources.ts";
import { statsFrame } from "./statsjson.ts";

/** dockerd's collector interval: one stats frame a second. */
const STATS_INTERVAL_MS = 1000;

/** A running container's supervision: stats, top, pause/unpause, update. */
export class Supervisor {
  readonly #r: Registry;
  readonly #runtime: SupervisorRuntime;
  readonly #limits?: HostLimits;

  constructor(deps: { registry: Registry; runtime: SupervisorRuntime; limits?: HostLimits }) {
    this.#r = deps.registry;
    this.#runtime = deps.runtime;
    this.#limits = deps.limits;
  }

  async #sample(c: Container): Promise<RuntimeStats | undefined> {
    if (!c.state.live) return undefined;
    return this.#runtime.stats(c.id).catch(() => undefined);
  }

  #frame(c: Container, cur: RuntimeStats | undefined, prev: RuntimeStats | undefined): StatsFrame {
    const mode = c.record.HostConfig.NetworkMode ?? "";
    return statsFrame(cur, {
      prev,
      name: c.record.Name,
      id: c.id,
      withNetworks: mode !== "host" && mode !== "none",
    });
  }

  /**
   * GET /containers/{id}/stats: frames a second apart, precpu from the previous one; with `stream` off a
   * single frame (after one interval, so precpu is filled, unless `oneShot`). Stopped and never-started
   * containers get zeroed frames; the stream ends when the container is removed or `signal` aborts.
   */
  async *stats(
    ref: string,
    opts: { stream: boolean; oneShot?: boolean; signal?: AbortSignal },
  ): AsyncGenerator<StatsFrame> {
    const c = this.#r.get(ref);
    const wait = (ms: number) =>
      new Promise<void>((resolve) => {
        const t = setTimeout(done, ms);
        function done(): void {
          clearTimeout(t);
          opts.signal?.removeEventListener("abort", done);
          resolve();
        }
        opts.signal?.addEventListener("abort", done, { once: true });
      });
    let prev: RuntimeStats | undefined;
    if (!opts.stream) {
      if (!opts.oneShot && c.state.running) {
        prev = await this.#sample(c);
        await wait(STATS_INTERVAL_MS);
      }
      yield this.#frame(c, await this.#sample(c), prev);
      return;
    }
    while (!c.state.removed && !opts.signal?.aborted) {
      const cur = await this.#sample(c);
      yield this.#frame(c, cur, prev);
      prev = cur;
      await wait(STATS_INTERVAL_MS);
    }
  }

  /** GET /containers/{id}/top */
  async top(ref: string, psArgs?: string): Promise<ContainerTopResponse> {
    const c = this.#r.get(ref);
    if (!c.state.live) throw new ConflictError(`Container ${c.id} is not running`);
    const t = await this.#runtime.top(c.id, psArgs || undefined);
    return { Titles: t.titles, Processes: t.processes };
  }

  /** POST /containers/{id}/pause: freezes every process of the container. */
  pause(ref: string): Promise<void> {
    const c = this.#r.get(ref);
    return c.serial(async () => {
      const st = c.state;
      if (!st.live) throw new ConflictError(`Container ${c.id} is not running`);
      if (st.paused) throw new ConflictError(`Container ${c.id} is already paused`);
      await this.#runtime.pause(c.id);
      await st.setPaused();
      this.#r.emit(c, "pause");
    });
  }

  /** POST /containers/{id}/unpause */
  unpause(ref: string): Promise<void> {
    const c = this.#r.get(ref);
    return c.serial(() => this.unpauseNow(c));
  }

  /** Thaws a paused container (already inside its lock: stop and kill use this). */
  async unpauseNow(c: Container): Promise<void> {
    if (!c.state.paused) throw new ConflictError(`Container ${c.id} is not paused`);
    await this.#runtime.unpause(c.id);
    await c.state.setUnpaused();
    this.#r.emit(c, "unpause");
  }

  /** POST /containers/{id}/update: new limits (applied at once to a running container) and restart policy. */
  update(ref: string, req: UpdateRequest): Promise<{ Warnings: string[] }> {
    const c = this.#r.get(ref);
    return c.serial(async () => {
      if (c.state.removing)
        throw new ConflictError(`Container ${c.id} is marked for removal and cannot be "update"`);
      const warnings = checkResources({ ...req }, { limits: this.#limits });
      const { hostConfig, changed } = mergeUpdate(c.record.HostConfig, req);
      checkResources({ ...hostConfig }, { limits: this.#limits });
      if (c.state.live && Object.values(changed).some((v) => v !== undefined)) {
        try {
          await this.#runtime.update(c.id, changed);
        } catch (e) {
          const msg = e instanceof Error ? e.message : String(e);
          throw new ConflictError(`Cannot update container ${c.id}: ${msg}`, { cause: e });
        }
      }
      c.record = { ...c.record, HostConfig: hostConfig };
      await this.#r.store.put(c.id, c.record);
      this.#r.emit(c, "update");
      return { Warnings: warnings };
    });
  }
}
