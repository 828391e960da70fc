import type { Readable } from "node:stream";
import type {
  ImageDeleteResponseItem,
  ImageHistoryResponseItem,
  ImageInspect,
  ImageSummary,
} from "../../apitypes/index.ts";
import { InvalidParameterError } from "../../errdefs/index.ts";
import { qBool, qFilters } from "../query.ts";
import { compareVersions, type Route, route } from "../router.ts";
import { type ProgressLine, progressStream } from "./distribution.ts";

/** What the image routes need from the image service. */
export interface ImageBackend {
  importTar(
    tar: Readable,
    opts: { repo?: string; tag?: string; message?: string; changes?: string[]; platform?: string },
  ): Promise<string>;
  list(opts: {
    all?: boolean;
    filters?: Record<string, string[]>;
    digests?: boolean;
  }): Promise<ImageSummary[]>;
  inspect(ref: string): Promise<ImageInspect>;
  tag(source: string, repo: string, tag?: string): Promise<void>;
  remove(ref: string, opts: { force?: boolean; noprune?: boolean }): Promise<ImageDeleteResponseItem[]>;
  history(ref: string): Promise<ImageHistoryResponseItem[]>;
  /** A registry pull (`fromImage`): the image ID once every layer is in. */
  pull(
    fromImage: string,
    opts: { tag?: string; platform?: string; auth?: string; progress: (m: ProgressLine) => void },
  ): Promise<string>;
}

/** Routes of /images. */
export function imageRoutes(b: ImageBackend): Route[] {
  return [
    route.post("/images/create", async (ctx) => {
      const q = ctx.query;
      const fromSrc = q.get("fromSrc");
      const fromImage = q.get("fromImage");
      if (fromSrc === null && !fromImage)
        throw new InvalidParameterError("either fromSrc or fromImage must be given");
      if (fromImage) {
        const auth = ctx.headers["x-registry-auth"];
        await progressStream(ctx, async (progress) => {
          await b.pull(fromImage, {
            tag: q.get("tag") || undefined,
            platform: q.get("platform") || undefined,
            auth: Array.isArray(auth) ? auth[0] : auth,
            progress,
          });
        });
        return;
      }
      if (fromSrc !== "-")
        throw new InvalidParameterError("importing from a URL is not supported; send the tar as the body");
      const id = await b.importTar(ctx.bodyStream() as Readable, {
        repo: q.get("repo") || undefined,
        tag: q.get("tag") || undefined,
        message: q.get("message") || undefined,
        changes: q.getAll("changes").filter(Boolean),
        platform: q.get("platform") || undefined,
      });
      const out = ctx.startStream("application/json");
      out.end(`${JSON.stringify({ status: id })}\n`);
    }),
    route.get("/images/json", async (ctx) =>
      ctx.sendJson(
        200,
        await b.list({
          all: qBool(ctx.query, "all"),
          filters: qFilters(ctx.query),
          digests: qBool(ctx.query, "digests"),
        }),
      ),
    ),
    route.get("/images/{name*}/json", async (ctx) => {
      const { Container, ...img } = await b.inspect(ctx.params.name);
      // docker-compose 1.29 negotiates the newest API yet indexes ContainerConfig when recreating.
      const out = { ...img, ContainerConfig: img.ContainerConfig ?? img.Config };
      // dockerd dropped Container (the committed container's ID) from API 1.45.
      ctx.sendJson(200, compareVersions(ctx.version, "1.45") < 0 ? { ...out, Container } : out);
    }),
    route.get("/images/{name*}/history", async (ctx) => ctx.sendJson(200, await b.history(ctx.params.name))),
    route.post("/images/{name*}/tag", async (ctx) => {
      const repo = ctx.query.get("repo");
      if (!repo) throw new InvalidParameterError("repository name must have at least one component");
      await b.tag(ctx.params.name, repo, ctx.query.get("tag") || undefined);
      ctx.sendStatus(201);
    }),
    route.delete("/images/{name*}", async (ctx) =>
      ctx.sendJson(
        200,
        await b.remove(ctx.params.name, {
          force: qBool(ctx.query, "force"),
          noprune: qBool(ctx.query, "noprune"),
        }),
      ),
    ),
  ];
}
