import type { Volume, VolumeCreateRequest } from "../../apitypes/index.ts";
import { qBool, qFilters } from "../query.ts";
import { volumeCreateShape } from "../requests.ts";
import { compareVersions, type Route, route } from "../router.ts";
import { validateBody } from "../validate.ts";

/** What the volume routes need. */
export interface VolumeBackend {
  create(opts: VolumeCreateRequest): Promise<{ volume: Volume }>;
  inspect(name: string): Volume;
  list(filters: Record<string, string[]>): Volume[];
  remove(name: string, opts: { force?: boolean }): Promise<void>;
  prune(filters: Record<string, string[]>): Promise<{ VolumesDeleted: string[]; SpaceReclaimed: number }>;
}

/** Routes of /volumes. */
export function volumeRoutes(b: VolumeBackend): Route[] {
  return [
    route.get("/volumes", (ctx) => ctx.sendJson(200, { Volumes: b.list(qFilters(ctx.query)), Warnings: [] })),
    route.post("/volumes/create", async (ctx) => {
      const raw = await ctx.jsonBody<VolumeCreateRequest>();
      validateBody(volumeCreateShape, raw, "VolumeCreateBody");
      const body = raw ?? {};
      ctx.sendJson(201, (await b.create(body)).volume);
    }),
    route.post("/volumes/prune", async (ctx) => {
      const filters = qFilters(ctx.query);
      // Before 1.42 a prune removed every unused volume, named ones too (moby's router adds all=true).
      if (compareVersions(ctx.version, "1.42") < 0) filters.all = ["true"];
      ctx.sendJson(200, await b.prune(filters));
    }),
    route.get("/volumes/{name}", (ctx) => ctx.sendJson(200, b.inspect(ctx.params.name))),
    route.delete("/volumes/{name}", async (ctx) => {
      await b.remove(ctx.params.name, { force: qBool(ctx.query, "force") });
      ctx.sendStatus(204);
    }),
  ];
}
