import type { DiskUsage, SystemInfo, SystemVersion } from "../../apitypes/index.ts";
import { UnavailableError } from "../../errdefs/index.ts";
import type { WireEvent } from "../../system/index.ts";
import { qFilters, qTimeNs } from "../query.ts";
import { compareVersions, type Route, route } from "../router.ts";

/** What the system routes need. */
export interface SystemBackend {
  info(): Promise<SystemInfo>;
  version(): SystemVersion;
  /** Past events since a time, and a subscription to new ones. */
  eventHistory(sinceNs: bigint): WireEvent[];
  subscribe(fn: (e: WireEvent) => void): () => void;
  /** `GET /system/df` of the `type=` values asked for (none: all). */
  diskUsage(types: string[]): Promise<DiskUsage>;
}

function matchesEventFilters(e: WireEvent, f: Record<string, string[]>): boolean {
  const attrs = e.Actor.Attributes ?? {};
  const any = (k: string, pred: (v: string) => boolean) => !f[k]?.length || f[k].some(pred);
  return (
    any("type", (v) => e.Type === v) &&
    any("event", (v) => e.Action === v || e.Action.startsWith(`${v}:`)) &&
    any("container", (v) => e.Type === "container" && (e.Actor.ID.startsWith(v) || attrs.name === v)) &&
    any("image", (v) => attrs.image === v || e.Actor.ID === v) &&
    any("network", (v) => e.Type === "network" && (e.Actor.ID.startsWith(v) || attrs.name === v)) &&
    any("volume", (v) => e.Type === "volume" && e.Actor.ID === v) &&
    (!f.label?.length ||
      f.label.every((l) => {
        const i = l.indexOf("=");
        return i < 0 ? l in attrs : attrs[l.slice(0, i)] === l.slice(i + 1);
      }))
  );
}

/** Routes of /_ping, /version, /info, /system/df, /events and the swarm stubs clients probe. */
export function systemRoutes(b: SystemBackend): Route[] {
  const ping: Route["handler"] = (ctx) =>
    ctx.sendText(200, "OK", {
      // BuildKit answers on /grpc, so clients with buildx build through it, as with dockerd.
      "Builder-Version": "2",
      "Cache-Control": "no-cache, no-store, must-revalidate",
      Pragma: "no-cache",
      Swarm: "inactive",
    });
  return [
    route.get("/_ping", ping),
    route.head("/_ping", ping),
    route.get("/version", (ctx) => ctx.sendJson(200, b.version())),
    route.get("/info", async (ctx) => ctx.sendJson(200, await b.info())),
    route.get("/system/df", async (ctx) => {
      // `type=` came with API 1.42; older clients always get everything.
      const types = compareVersions(ctx.version, "1.42") < 0 ? [] : ctx.query.getAll("type");
      ctx.sendJson(200, await b.diskUsage(types));
    }),
    route.get("/events", async (ctx) => {
      const filters = qFilters(ctx.query);
      // `--since 0` replays from the start (qTimeNs reads 0 as "no bound", as logs want it).
      const since = ctx.query.get("since") === "0" ? 0n : qTimeNs(ctx.query, "since");
      const until = qTimeNs(ctx.query, "until");
      const out = ctx.startStream("application/json");
      const send = (e: WireEvent) => {
        if (matchesEventFilters(e, filters)) out.write(`${JSON.stringify(e)}\n`);
      };
      const nowNs = BigInt(Date.now()) * 1_000_000n;
      if (since !== undefined) {
        for (const e of b.eventHistory(since)) {
          if (until !== undefined && BigInt(e.timeNano) > until) break;
          send(e);
        }
      }
      if (until !== undefined && until <= nowNs) {
        out.end();
        return;
      }
      const unsub = b.subscribe((e) => {
        if (until !== undefined && BigInt(e.timeNano) > until) return;
        send(e);
      });
      let timer: NodeJS.Timeout | undefined;
      if (until !== undefined) timer = setTimeout(() => out.end(), Number((until - nowNs) / 1_000_000n));
      await ctx.closed;
      clearTimeout(timer);
      unsub();
    }),
    route.get("/swarm", () => {
      throw new UnavailableError(
        'This node is not a swarm manager. Use "docker swarm init" or "docker swarm join" to connect this node to swarm and try again.',
      );
    }),
    route.post("/swarm/leave", () => {
      throw new UnavailableError("This node is not part of a swarm");
    }),
  ];
}
