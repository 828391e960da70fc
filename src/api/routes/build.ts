import type { Readable } from "node:stream";
import type { ContainerConfig } from "../../apitypes/index.ts";
import type { BuildOptions, CommitOptions } from "../../build/index.ts";
import { InvalidParameterError } from "../../errdefs/index.ts";
import { qBool, qInt } from "../query.ts";
import { commitConfigShape, normalizeStrSlices } from "../requests.ts";
import { type Route, route } from "../router.ts";
import { validateBody } from "../validate.ts";

/** What the build routes need: a build checked up front (errors become statuses), then run as a stream. */
export interface BuildBackend {
  prepare(
    body: Readable,
    opts: BuildOptions,
  ): Promise<{
    run(out: {
      stream(text: string): void;
      aux(v: Record<string, unknown>): void;
      signal: AbortSignal;
    }): Promise<string>;
  }>;
  commit(req: CommitOptions): Promise<string>;
  prune(opts: { all: boolean }): Promise<{ CachesDeleted: string[]; SpaceReclaimed: number }>;
}

function jsonParam<T>(q: URLSearchParams, key: string, fallback: T): T {
  const v = q.get(key);
  if (!v) return fallback;
  try {
    return JSON.parse(v) as T;
  } catch {
    throw new InvalidParameterError(`invalid ${key} parameter: ${v}`);
  }
}

/** Routes of /build and /commit. */
export function buildRoutes(b: BuildBackend): Route[] {
  return [
    route.post("/build", async (ctx) => {
      const q = ctx.query;
      // The CLI sends one comma-joined value; docker-py repeats the parameter, one host each.
      const extra = q
        .getAll("extrahosts")
        .flatMap((v) => v.split(","))
        .filter(Boolean);
      const req: BuildOptions = {
        tags: q.getAll("t").filter(Boolean),
        dockerfile: q.get("dockerfile") || "",
        buildArgs: jsonParam(q, "buildargs", {}),
        target: q.get("target") || undefined,
        noCache: qBool(q, "nocache"),
        pull: qBool(q, "pull"),
        rm: qBool(q, "rm", true),
        forceRm: qBool(q, "forcerm"),
        labels: jsonParam(q, "labels", {}),
        quiet: qBool(q, "q"),
        networkMode: q.get("networkmode") || undefined,
        extraHosts: extra,
        shmSize: qInt(q, "shmsize"),
        memory: qInt(q, "memory"),
        memorySwap: qInt(q, "memswap"),
        cpuQuota: qInt(q, "cpuquota"),
        cpuPeriod: qInt(q, "cpuperiod"),
        cpuShares: qInt(q, "cpushares"),
        cpusetCpus: q.get("cpusetcpus") || undefined,
        platform: q.get("platform") || undefined,
        cacheFrom: jsonParam(q, "cachefrom", []),
      };
      // Registry credentials for pulls of base images: checked for shape only, the pull itself uses its own.
      const regConfig = ctx.headers["x-registry-config"];
      if (typeof regConfig === "string" && regConfig) {
        try {
          JSON.parse(Buffer.from(regConfig, "base64").toString("utf8"));
        } catch {
          throw new InvalidParameterError("invalid X-Registry-Config header");
        }
      }
      const build = await b.prepare(ctx.bodyStream() as Readable, req);
      const out = ctx.startStream("application/json");
      const line = (v: unknown) => {
        if (!out.writableEnded) out.write(`${JSON.stringify(v)}\n`);
      };
      const abort = new AbortController();
      void ctx.closed.then(() => abort.abort());
      try {
        await build.run({
          stream: (text) => line({ stream: text }),
          aux: (v) => line({ aux: v }),
          signal: abort.signal,
        });
      } catch (e) {
        const message = e instanceof Error ? e.message : String(e);
        const code = (e as { code?: unknown }).code;
        line({
          errorDetail: typeof code === "number" ? { code, message } : { message },
          error: message,
        });
      }
      out.end();
    }),
    route.post("/build/prune", async (ctx) =>
      ctx.sendJson(200, await b.prune({ all: qBool(ctx.query, "all") })),
    ),
    route.post("/commit", async (ctx) => {
      const q = ctx.query;
      const container = q.get("container");
      if (!container) throw new InvalidParameterError("container is required");
      const config = await ctx.jsonBody<ContainerConfig>();
      validateBody(commitConfigShape, config, "ContainerConfigWrapper");
      const id = await b.commit({
        container,
        repo: q.get("repo") || undefined,
        tag: q.get("tag") || undefined,
        comment: q.get("comment") || undefined,
        author: q.get("author") || undefined,
        pause: qBool(q, "pause", true),
        changes: q.getAll("changes").filter(Boolean),
        config: config ? normalizeStrSlices(config) : undefined,
      });
      ctx.sendJson(201, { Id: id });
    }),
  ];
}
