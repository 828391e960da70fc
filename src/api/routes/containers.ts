import type { Duplex, Readable } from "node:stream";
import type {
  ContainerCreateRequest,
  ContainerInspectResponse,
  ContainerSummary,
} from "../../apitypes/index.ts";
import type { AttachStreams, LogLine } from "../../container/index.ts";
import { InvalidParameterError, NotFoundError } from "../../errdefs/index.ts";
import { detachKeys, MUX_STREAM, muxError, pumpStdio, RAW_STREAM } from "../pump.ts";
import { qBool, qFilters, qInt, qTimeNs } from "../query.ts";
import { containerCreateShape, normalizeStrSlices } from "../requests.ts";
import { type RequestContext, type Route, route } from "../router.ts";
import { outputWriter, StreamType } from "../stream.ts";
import { validateBody } from "../validate.ts";

/** What the container routes need from the container service. */
export interface ContainerBackend {
  create(req: ContainerCreateRequest, opts: { name?: string }): Promise<{ Id: string; Warnings: string[] }>;
  start(ref: string): Promise<void>;
  stop(ref: string, opts: { timeout?: number; signal?: string }): Promise<void>;
  restart(ref: string, opts: { timeout?: number; signal?: string }): Promise<void>;
  kill(ref: string, signal?: string): Promise<void>;
  remove(ref: string, opts: { force?: boolean; volumes?: boolean }): Promise<void>;
  /** docker rm --link: `name` is `/parent/alias`. */
  removeLink(name: string): Promise<void>;
  wait(
    ref: string,
    opts: { condition?: string; requestedAtNs?: bigint },
  ): { ready: Promise<{ StatusCode: number; Error: { Message: string } | null }> };
  attach(ref: string): { tty: boolean; openStdin: boolean; stdio: Promise<AttachStreams>; cancel(): void };
  resize(ref: string, size: { height: number; width: number }): Promise<void>;
  logs(
    ref: string,
    opts: { since?: bigint; until?: bigint; tail?: number; follow?: boolean },
  ): { tty: boolean; entries: AsyncIterable<LogLine> };
  inspect(ref: string): ContainerInspectResponse;
  rename(ref: string, name: string): Promise<void>;
  archiveStat(ref: string, path: string): Promise<unknown>;
  archiveGet(ref: string, path: string): Promise<{ stat: unknown; tar: Readable }>;
  archivePut(
    ref: string,
    path: string,
    body: Readable,
    opts: { copyUidGid: boolean; noOverwriteDirNonDir: boolean },
  ): Promise<void>;
  prune(filters: Record<string, string[]>): Promise<{ ContainersDeleted: string[]; SpaceReclaimed: number }>;
  list(opts: { all?: boolean; limit?: number; filters?: Record<string, string[]> }): ContainerSummary[];
  /** `list`'s JSON (and a newline) as the response body, without building it afresh. */
  listJson(opts: { all?: boolean; limit?: number; filters?: Record<string, string[]> }): Buffer;
  sizes(ref: string): Promise<{ SizeRw: number; SizeRootFs: number }>;
}

function stopOpts(ctx: RequestContext): { timeout?: number; signal?: string } {
  return { timeout: qInt(ctx.query, "t"), signal: ctx.query.get("signal") ?? undefined };
}

async function attach(b: ContainerBackend, ctx: RequestContext): Promise<void> {
  const keys = detachKeys(ctx.query.get("detachKeys"));
  const a = b.attach(ctx.params.id);
  const sock: Duplex = ctx.hijack(a.tty ? RAW_STREAM : MUX_STREAM);
  sock.pause();
  let gone = false;
  const cancel = () => {
    gone = true;
    a.cancel();
  };
  sock.once("close", cancel);
  const wantOut = qBool(ctx.query, "stdout");
  const wantErr = qBool(ctx.query, "stderr");
  // logs=1 replays the container's log first, as dockerd does (docker-py's attach(logs=True)).
  if (qBool(ctx.query, "logs") && (wantOut || wantErr)) {
    const write = outputWriter(sock, { tty: a.tty });
    for await (const e of b.logs(ctx.params.id, { follow: false }).entries) {
      if (gone) break;
      if ((e.stream === "stdout" && !wantOut) || (e.stream === "stderr" && !wantErr)) continue;
      const body = e.partial ? e.line : Buffer.concat([e.line, Buffer.from("\n")]);
      write(e.stream === "stderr" ? StreamType.stderr : StreamType.stdout, body);
    }
  }
  // stream=0 asks for the log alone. An absent `stream` keeps the session live (dockerd reads it as false,
  // but clients that leave it out expect a live attach).
  if (ctx.query.get("stream") !== null && !qBool(ctx.query, "stream", true)) {
    sock.off("close", cancel);
    a.cancel();
    if (!sock.writableEnded) sock.end();
    return;
  }
  let stdio: AttachStreams;
  try {
    stdio = await a.stdio;
  } catch (e) {
    if (!a.tty && !gone) sock.write(muxError(e));
    sock.end();
    return;
  }
  sock.off("close", cancel);
  if (gone) {
    stdio.close();
    return;
  }
  pumpStdio(sock, stdio, {
    tty: a.tty,
    stdin: qBool(ctx.query, "stdin") && a.openStdin,
    detachKeys: a.tty ? keys : undefined,
    stdout: qBool(ctx.query, "stdout"),
    stderr: qBool(ctx.query, "stderr"),
  });
}

async function logs(b: ContainerBackend, ctx: RequestContext): Promise<void> {
  const q = ctx.query;
  const wantOut = qBool(q, "stdout");
  const wantErr = qBool(q, "stderr");
  if (!wantOut && !wantErr)
    throw new InvalidParameterError("Bad parameters: you must choose at least one stream");
  // As dockerd: a tail that is not a whole number of lines ("all", "-1" from testcontainers) means all lines.
  const tailRaw = q.get("tail") ?? "";
  const tail = /^\d+$/.test(tailRaw) ? Number(tailRaw) : undefined;
  const timestamps = qBool(q, "timestamps");
  const { tty, entries } = b.logs(ctx.params.id, {
    since: qTimeNs(q, "since"),
    until: qTimeNs(q, "until"),
    tail,
    follow: qBool(q, "follow"),
  });
  const out = ctx.startStream(tty ? RAW_STREAM : MUX_STREAM);
  const write = outputWriter(out, { tty });
  let gone = false;
  void ctx.closed.then(() => {
    gone = true;
  });
  const it = entries[Symbol.asyncIterator]();
  const stop = ctx.closed.then(() => ({ done: true as const, value: undefined }));
  for (;;) {
    const r = await Promise.race([it.next(), stop]);
    if (r.done || gone) break;
    const e = r.value;
    if ((e.stream === "stdout" && !wantOut) || (e.stream === "stderr" && !wantErr)) continue;
    const body = e.partial ? e.line : Buffer.concat([e.line, Buffer.from("\n")]);
    const line = timestamps ? Buffer.concat([Buffer.from(`${e.time} `), body]) : body;
    write(e.stream === "stderr" ? StreamType.stderr : StreamType.stdout, line);
  }
  if (gone) await it.return?.();
  if (!out.writableEnded) out.end();
}

const STAT_HEADER = "X-Docker-Container-Path-Stat";

function statHeader(stat: unknown): string {
  return Buffer.from(JSON.stringify(stat)).toString("base64");
}

function archivePath(ctx: RequestContext): string {
  const p = ctx.query.get("path");
  if (!p) throw new InvalidParameterError("path is required");
  return p;
}

/** Routes of /containers. */
export function containerRoutes(b: ContainerBackend): Route[] {
  return [
    route.post("/containers/create", async (ctx) => {
      const body = await ctx.jsonBody<ContainerCreateRequest>();
      validateBody(containerCreateShape, body, "CreateRequest");
      if (!body) throw new InvalidParameterError("config cannot be empty in order to create a container");
      normalizeStrSlices(body);
      ctx.sendJson(201, await b.create(body, { name: ctx.query.get("name") ?? undefined }));
    }),
    route.get("/containers/json", async (ctx) => {
      const opts = {
        all: qBool(ctx.query, "all"),
        limit: qInt(ctx.query, "limit"),
        filters: qFilters(ctx.query),
      };
      if (!qBool(ctx.query, "size")) return ctx.sendJsonBytes(200, b.listJson(opts));
      const list = b.list(opts);
      for (const c of list) Object.assign(c, await b.sizes(c.Id).catch(() => ({})));
      ctx.sendJson(200, list);
    }),
    route.head("/containers/{id}/archive", async (ctx) => {
      const stat = await b.archiveStat(ctx.params.id, archivePath(ctx));
      ctx.sendStatus(200, { [STAT_HEADER]: statHeader(stat) });
    }),
    route.get("/containers/{id}/archive", async (ctx) => {
      const { stat, tar } = await b.archiveGet(ctx.params.id, archivePath(ctx));
      const out = ctx.startStream("application/x-tar", { [STAT_HEADER]: statHeader(stat) });
      tar.on("error", () => (out as unknown as Duplex).destroy());
      tar.pipe(out);
    }),
    route.put("/containers/{id}/archive", async (ctx) => {
      await b.archivePut(ctx.params.id, archivePath(ctx), ctx.bodyStream() as Readable, {
        copyUidGid: qBool(ctx.query, "copyUIDGID"),
        noOverwriteDirNonDir: qBool(ctx.query, "noOverwriteDirNonDir"),
      });
      ctx.sendStatus(200);
    }),
    route.post("/containers/prune", async (ctx) => ctx.sendJson(200, await b.prune(qFilters(ctx.query)))),
    route.post("/containers/{id}/rename", async (ctx) => {
      await b.rename(ctx.params.id, ctx.query.get("name") ?? "");
      ctx.sendStatus(204);
    }),
    route.get("/containers/{id}/json", async (ctx) => {
      const c = b.inspect(ctx.params.id);
      if (qBool(ctx.query, "size")) Object.assign(c, await b.sizes(ctx.params.id));
      ctx.sendJson(200, c);
    }),
    route.post("/containers/{id}/start", async (ctx) => {
      await b.start(ctx.params.id);
      ctx.sendStatus(204);
    }),
    route.post("/containers/{id}/stop", async (ctx) => {
      await b.stop(ctx.params.id, stopOpts(ctx));
      ctx.sendStatus(204);
    }),
    route.post("/containers/{id}/restart", async (ctx) => {
      await b.restart(ctx.params.id, stopOpts(ctx));
      ctx.sendStatus(204);
    }),
    route.post("/containers/{id}/kill", async (ctx) => {
      await b.kill(ctx.params.id, ctx.query.get("signal") ?? undefined);
      ctx.sendStatus(204);
    }),
    route.delete("/containers/{id}", async (ctx) => {
      if (qBool(ctx.query, "link")) await b.removeLink(ctx.params.id);
      else
        await b.remove(ctx.params.id, { force: qBool(ctx.query, "force"), volumes: qBool(ctx.query, "v") });
      ctx.sendStatus(204);
    }),
    route.delete("/containers/{name*}", async (ctx) => {
      if (!qBool(ctx.query, "link")) throw new NotFoundError(`No such container: ${ctx.params.name}`);
      await b.removeLink(ctx.params.name);
      ctx.sendStatus(204);
    }),
    route.post("/containers/{id}/wait", async (ctx) => {
      const { ready } = b.wait(ctx.params.id, {
        condition: ctx.query.get("condition") ?? undefined,
        requestedAtNs: ctx.connectedAtNs,
      });
      // Headers go out at once: clients take them as "the wait is registered" before they start.
      const out = ctx.startStream("application/json");
      const result = await ready;
      out.end(`${JSON.stringify(result)}\n`);
    }),
    route.post("/containers/{id}/attach", (ctx) => attach(b, ctx)),
    route.get("/containers/{id}/logs", (ctx) => logs(b, ctx)),
    route.post("/containers/{id}/resize", async (ctx) => {
      const h = qInt(ctx.query, "h") ?? 0;
      const w = qInt(ctx.query, "w") ?? 0;
      if (h < 0 || w < 0) throw new InvalidParameterError("invalid terminal size");
      await b.resize(ctx.params.id, { height: h, width: w });
      ctx.sendStatus(200);
    }),
  ];
}
