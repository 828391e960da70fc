import type { Readable } from "node:stream";
import type {
  AuthConfig,
  DistributionInspect,
  ImageDeleteResponseItem,
  ImageSearchResult,
} from "../../apitypes/index.ts";
import { InvalidParameterError } from "../../errdefs/index.ts";
import { qFilters } from "../query.ts";
import { authConfigShape } from "../requests.ts";
import { type RequestContext, type Route, route } from "../router.ts";
import { validateBody } from "../validate.ts";

/** One progress line of pull/push, as Docker streams them. */
export interface ProgressLine {
  id?: string;
  status?: string;
  progressDetail?: { current?: number; total?: number };
  progress?: string;
  aux?: Record<string, unknown>;
}

/** What the distribution routes need from the image service. */
export interface DistributionBackend {
  push(
    name: string,
    opts: { tag?: string; auth?: string; progress: (m: ProgressLine) => void },
  ): Promise<void>;
  login(auth: AuthConfig): Promise<void>;
  search(opts: {
    term: string;
    limit?: number;
    filters: Record<string, string[]>;
    auth?: string;
  }): Promise<ImageSearchResult[]>;
  distributionInspect(name: string, auth?: string): Promise<DistributionInspect>;
  save(names: string[]): Readable;
  load(tar: Readable): Promise<string[]>;
  prune(
    filters: Record<string, string[]>,
  ): Promise<{ ImagesDeleted: ImageDeleteResponseItem[]; SpaceReclaimed: number }>;
}

/**
 * Runs a pull or push with its progress as JSON lines. The response starts with the first line, so a failure
 * before any progress (bad name, unknown manifest, refused credentials) is an ordinary HTTP error the CLI
 * shows as "Error response from daemon"; later failures become an `errorDetail` line, as with dockerd.
 */
export async function progressStream(
  ctx: RequestContext,
  run: (progress: (m: ProgressLine) => void) => Promise<void>,
): Promise<void> {
  let out: ReturnType<RequestContext["startStream"]> | undefined;
  const write = (m: ProgressLine | Record<string, unknown>) => {
    out ??= ctx.startStream("application/json");
    if (!out.writableEnded) out.write(`${JSON.stringify(m)}\n`);
  };
  try {
    await run(write);
  } catch (e) {
    if (!out) throw e;
    const message = e instanceof Error ? e.message : String(e);
    write({ errorDetail: { message }, error: message });
  }
  out ??= ctx.startStream("application/json");
  out.end();
}

/** Routes of pull, push, login, save, load and prune. */
export function distributionRoutes(b: DistributionBackend): Route[] {
  return [
    route.post("/images/{name*}/push", (ctx) =>
      progressStream(ctx, (progress) =>
        b.push(ctx.params.name, {
          tag: ctx.query.get("tag") || undefined,
          auth: header(ctx, "x-registry-auth"),
          progress,
        }),
      ),
    ),
    route.post("/auth", async (ctx) => {
      const raw = await ctx.jsonBody<AuthConfig>();
      validateBody(authConfigShape, raw, "AuthConfig");
      const auth = raw ?? {};
      await b.login(auth);
      ctx.sendJson(200, { Status: "Login Succeeded", IdentityToken: "" });
    }),
    route.get("/distribution/{name*}/json", async (ctx) =>
      ctx.sendJson(200, await b.distributionInspect(ctx.params.name, header(ctx, "x-registry-auth"))),
    ),
    route.get("/images/search", async (ctx) => {
      const raw = ctx.query.get("limit");
      // As dockerd: a limit that is no integer, or is negative, is refused before any registry is asked.
      if (raw && (!/^[+-]?\d+$/.test(raw) || Number(raw) < 0)) {
        throw new InvalidParameterError(`invalid limit specified`);
      }
      const results = await b.search({
        term: ctx.query.get("term") ?? "",
        limit: raw ? Number(raw) : undefined,
        filters: qFilters(ctx.query),
        auth: header(ctx, "x-registry-auth"),
      });
      ctx.sendJson(200, results);
    }),
    route.get("/images/get", (ctx) => sendTar(ctx, b.save(ctx.query.getAll("names").filter(Boolean)))),
    route.get("/images/{name*}/get", (ctx) => sendTar(ctx, b.save([ctx.params.name]))),
    route.post("/images/load", async (ctx) => {
      let lines: string[];
      try {
        lines = await b.load(ctx.bodyStream() as Readable);
      } catch (e) {
        // dockerd answers 200 and puts a failed load's error in the JSON stream (docker-py's ImageLoadError
        // and the CLI read it there).
        const message = (e as Error).message;
        const out = ctx.startStream("application/json");
        out.end(`${JSON.stringify({ errorDetail: { message }, error: message })}\n`);
        return;
      }
      const out = ctx.startStream("application/json");
      for (const l of lines) out.write(`${JSON.stringify({ stream: `${l}\n` })}\n`);
      out.end();
    }),
    route.post("/images/prune", async (ctx) => ctx.sendJson(200, await b.prune(qFilters(ctx.query)))),
  ];
}

function header(ctx: RequestContext, name: string): string | undefined {
  const v = ctx.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

async function sendTar(ctx: RequestContext, tar: Readable): Promise<void> {
  // Read the first chunk before answering, so a missing image is a 404 and not a broken tar.
  const first = await new Promise<Buffer | null>((resolve, reject) => {
    tar.once("error", reject);
    tar.once("readable", () => resolve((tar.read() as Buffer | null) ?? null));
    tar.once("end", () => resolve(null));
  });
  const out = ctx.startStream("application/x-tar");
  if (first) out.write(first);
  tar.pipe(out as NodeJS.WritableStream);
  await new Promise<void>((resolve) => {
    tar.once("end", resolve);
    tar.once("error", () => {
      (out as unknown as { destroy(): void }).destroy();
      resolve();
    });
  });
}
