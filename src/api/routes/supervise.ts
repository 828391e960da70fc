import type { Readable } from "node:stream";
import type { ContainerTopResponse, FilesystemChange, StatsFrame } from "../../apitypes/index.ts";
import type { UpdateRequest } from "../../container/index.ts";
import { qBool } from "../query.ts";
import { containerUpdateShape } from "../requests.ts";
import { type Route, route } from "../router.ts";
import { validateBody } from "../validate.ts";

/** What the stats, top, pause, update, changes and export routes need from the container service. */
export interface SuperviseBackend {
  stats(
    ref: string,
    opts: { stream: boolean; oneShot?: boolean; signal?: AbortSignal },
  ): AsyncGenerator<StatsFrame>;
  top(ref: string, psArgs?: string): Promise<ContainerTopResponse>;
  pause(ref: string): Promise<void>;
  unpause(ref: string): Promise<void>;
  update(ref: string, req: UpdateRequest): Promise<{ Warnings: string[] }>;
  changes(ref: string): Promise<FilesystemChange[]>;
  export(ref: string): Promise<Readable>;
}

/** Routes of /containers/{id}/stats|top|pause|unpause|update|changes|export. */
export function superviseRoutes(b: SuperviseBackend): Route[] {
  return [
    route.get("/containers/{id}/stats", async (ctx) => {
      const stream = ctx.query.has("stream") ? qBool(ctx.query, "stream") : true;
      const abort = new AbortController();
      void ctx.closed.then(() => abort.abort());
      const frames = b.stats(ctx.params.id, {
        stream,
        oneShot: qBool(ctx.query, "one-shot"),
        signal: abort.signal,
      });
      // The first frame is read before the headers go out, so a missing container is a 404.
      const first = await frames.next();
      const out = ctx.startStream("application/json");
      if (!first.done) out.write(`${JSON.stringify(first.value)}\n`);
      for await (const f of frames) {
        if (abort.signal.aborted) break;
        out.write(`${JSON.stringify(f)}\n`);
      }
      if (!out.writableEnded) out.end();
    }),
    route.get("/containers/{id}/top", async (ctx) =>
      ctx.sendJson(200, await b.top(ctx.params.id, ctx.query.get("ps_args") ?? undefined)),
    ),
    route.post("/containers/{id}/pause", async (ctx) => {
      await b.pause(ctx.params.id);
      ctx.sendStatus(204);
    }),
    route.post("/containers/{id}/unpause", async (ctx) => {
      await b.unpause(ctx.params.id);
      ctx.sendStatus(204);
    }),
    route.post("/containers/{id}/update", async (ctx) => {
      const body = (await ctx.jsonBody<UpdateRequest>()) ?? {};
      validateBody(containerUpdateShape, body, "UpdateConfig");
      ctx.sendJson(200, await b.update(ctx.params.id, body));
    }),
    route.get("/containers/{id}/changes", async (ctx) => ctx.sendJson(200, await b.changes(ctx.params.id))),
    route.get("/containers/{id}/export", async (ctx) => {
      const tar = await b.export(ctx.params.id);
      const out = ctx.startStream("application/x-tar");
      tar.on("error", () => out.end());
      tar.pipe(out);
    }),
  ];
}
