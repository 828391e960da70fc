import { monitorEventLoopDelay } from "node:perf_hooks";
import type { Route } from "../api/index.ts";

/** Environment variable that turns the event-loop delay endpoint on (tests and benchmarks only). */
export const LOOP_DELAY_ENV = "WHARF_DEBUG_LOOP_DELAY";

/** The daemon's event-loop delay since the last reset, in milliseconds. */
export interface LoopDelay {
  count: number;
  min: number;
  mean: number;
  p50: number;
  p99: number;
  max: number;
}

/**
 * `GET /_wharf/loop-delay[?reset=1]`: how long the event loop was kept from running timers, measured by
 * perf_hooks at 1 ms resolution. Only there when WHARF_DEBUG_LOOP_DELAY is set: it is a test probe,
 * not part of Docker's API.
 */
export function loopDelayRoutes(): Route[] {
  const h = monitorEventLoopDelay({ resolution: 1 });
  h.enable();
  const ms = (ns: number): number => Math.round((ns / 1e6) * 1000) / 1000;
  return [
    {
      method: "GET",
      path: "/_wharf/loop-delay",
      handler: (ctx) => {
        const body: LoopDelay = {
          count: h.count,
          min: ms(h.count ? h.min : 0),
          mean: ms(h.count ? h.mean : 0),
          p50: ms(h.count ? h.percentile(50) : 0),
          p99: ms(h.count ? h.percentile(99) : 0),
          max: ms(h.count ? h.max : 0),
        };
        if (ctx.query.get("reset") === "1") h.reset();
        ctx.sendJson(200, body);
      },
    },
  ];
}
