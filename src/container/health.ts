import type { HealthConfig, HealthcheckResult } from "../apitypes/index.ts";
import { log, newId, nowRfc3339 } from "../util/index.ts";
import type { Container } from "./container.ts";
import type { ExecRuntime } from "./exec.ts";
import type { Registry } from "./registry.ts";

/** Docker's defaults for a healthcheck's zero fields. */
const DEFAULT_INTERVAL_NS = 30e9;
const DEFAULT_TIMEOUT_NS = 30e9;
const DEFAULT_START_INTERVAL_NS = 5e9;
const DEFAULT_RETRIES = 3;
/** Results kept in State.Health.Log, and how much of a probe's output each keeps. */
const MAX_LOG_ENTRIES = 5;
const MAX_OUTPUT = 4096;

/** The probe's command, or undefined when the container has no (or a disabled) healthcheck. */
export function probeCommand(hc: HealthConfig | undefined): string[] | undefined {
  const t = hc?.Test;
  if (!t?.length || t[0] === "NONE") return undefined;
  if (t[0] === "CMD") return t.length > 1 ? t.slice(1) : undefined;
  if (t[0] === "CMD-SHELL") return t.length > 1 ? ["/bin/sh", "-c", t[1]] : undefined;
  return undefined;
}

/** A container's healthcheck with the image's values under the container's zero ones (Docker's merge). */
export function mergeHealthcheck(
  own: HealthConfig | undefined,
  image: HealthConfig | undefined,
): HealthConfig | undefined {
  if (!own) return image;
  if (!image) return own;
  return {
    ...image,
    ...Object.fromEntries(Object.entries(own).filter(([, v]) => v !== undefined && v !== 0)),
    Test: own.Test?.length ? own.Test : image.Test,
  };
}

const ms = (ns: number | undefined, dflt: number) => Math.max(1, Math.round((ns || dflt) / 1e6));

/**
 * Runs each running container's healthcheck through the runtime's exec: State.Health with its status,
 * failing streak and last results, and `health_status` events on every change of status.
 */
export class HealthMonitor {
  readonly #r: Registry;
  readonly #runtime: ExecRuntime;
  readonly #timers = new Map<string, { timer?: NodeJS.Timeout; stopped: boolean }>();

  constructor(deps: { registry: Registry; runtime: ExecRuntime }) {
    this.#r = deps.registry;
    this.#runtime = deps.runtime;
  }

  /** Begins probing a container that just started (or was reconnected); "starting" until the first verdict. */
  start(c: Container, opts: { keepState?: boolean } = {}): void {
    this.stop(c);
    const cfg = c.record.Config.Healthcheck;
    const cmd = probeCommand(cfg);
    if (!cmd || !cfg) {
      if (c.state.health) void c.state.setHealth(undefined);
      return;
    }
    if (!opts.keepState || !c.state.health)
      void c.state.setHealth({ Status: "starting", FailingStreak: 0, Log: [] });
    const slot: { timer?: NodeJS.Timeout; stopped: boolean } = { stopped: false };
    this.#timers.set(c.id, slot);
    const startedMs = Date.now();
    const startPeriodMs = (cfg.StartPeriod ?? 0) / 1e6;
    const schedule = () => {
      if (slot.stopped) return;
      const inStart = Date.now() - startedMs < startPeriodMs && c.state.health?.Status === "starting";
      const delay = inStart
        ? ms(cfg.StartInterval, DEFAULT_START_INTERVAL_NS)
        : ms(cfg.Interval, DEFAULT_INTERVAL_NS);
      slot.timer = setTimeout(() => {
        void this.#probe(c, { cmd, cfg, inStartPeriod: Date.now() - startedMs < startPeriodMs })
          .catch((e) => log("warn", "healthcheck failed to run", { id: c.id, err: e }))
          .finally(schedule);
      }, delay);
    };
    schedule();
  }

  /** Stops probing (the container exited or is being removed). */
  stop(c: Container): void {
    const slot = this.#timers.get(c.id);
    if (!slot) return;
    slot.stopped = true;
    clearTimeout(slot.timer);
    this.#timers.delete(c.id);
  }

  async #probe(c: Container, o: { cmd: string[]; cfg: HealthConfig; inStartPeriod: boolean }): Promise<void> {
    const st = c.state;
    if (!st.live || st.paused || !this.#timers.has(c.id)) return;
    const start = nowRfc3339();
    const result = await this.#run(c, o.cmd, ms(o.cfg.Timeout, DEFAULT_TIMEOUT_NS));
    if (!st.health || !this.#timers.has(c.id)) return;
    const health = { ...st.health };
    const entry: HealthcheckResult = {
      Start: start,
      End: nowRfc3339(),
      ExitCode: result.code,
      Output: result.output,
    };
    health.Log = [...(health.Log ?? []), entry].slice(-MAX_LOG_ENTRIES);
    const before = health.Status;
    if (result.code === 0) {
      health.FailingStreak = 0;
      health.Status = "healthy";
    } else if (!(o.inStartPeriod && health.Status === "starting")) {
      // Failures during the start period do not count, as long as no probe has succeeded yet.
      health.FailingStreak = (health.FailingStreak ?? 0) + 1;
      if (health.FailingStreak >= (o.cfg.Retries || DEFAULT_RETRIES)) health.Status = "unhealthy";
    }
    await st.setHealth(health);
    if (health.Status !== before) this.#r.emit(c, `health_status: ${health.Status}`);
  }

  async #run(c: Container, cmd: string[], timeoutMs: number): Promise<{ code: number; output: string }> {
    let session: Awaited<ReturnType<ExecRuntime["exec"]>>;
    try {
      session = await this.#runtime.exec(c.id, newId(), { args: cmd, attach: true });
    } catch (e) {
      return { code: -1, output: e instanceof Error ? e.message : String(e) };
    }
    const chunks: Buffer[] = [];
    let size = 0;
    const collect = (b: Buffer) => {
      if (size >= MAX_OUTPUT) return;
      chunks.push(b);
      size += b.length;
    };
    const io = await session.attach().catch(() => undefined);
    io?.stdout.on("data", collect);
    io?.stderr.on("data", collect);
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<"timeout">((res) => {
      timer = setTimeout(() => res("timeout"), timeoutMs);
    });
    const exit = await Promise.race([session.exit, timedOut]);
    clearTimeout(timer);
    if (exit === "timeout") {
      await session.kill("SIGKILL").catch(() => undefined);
      io?.close();
      return { code: -1, output: `Health check exceeded timeout (${formatDuration(timeoutMs)})` };
    }
    // Output can trail the exit by a moment: let the streams drain.
    if (io) await Promise.race([ended(io.stdout), new Promise((r) => setTimeout(r, 200))]);
    io?.close();
    const output = Buffer.concat(chunks).subarray(0, MAX_OUTPUT).toString("utf8");
    return { code: exit.exitCode, output: exit.error && !output ? exit.error : output };
  }
}

function ended(s: NodeJS.ReadableStream): Promise<void> {
  return new Promise((resolve) => {
    s.once("end", () => resolve());
    s.once("close", () => resolve());
  });
}

/** Go's time.Duration.String for whole milliseconds: "30s", "1.5s", "500ms". */
function formatDuration(ms: number): string {
  if (ms < 1000) return `${ms}ms`;
  if (ms % 60000 === 0 && ms >= 60000) return `${ms / 60000}m0s`;
  return `${ms / 1000}s`;
}
