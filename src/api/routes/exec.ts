import type { ExecCreateRequest, ExecInspect, ExecStartRequest } from "../../apitypes/index.ts";
import type { AttachStreams } from "../../container/index.ts";
import { InvalidParameterError } from "../../errdefs/index.ts";
import { detachKeys, MUX_STREAM, muxError, pumpStdio, RAW_STREAM } from "../pump.ts";
import { qInt } from "../query.ts";
import { execCreateShape, execStartShape } from "../requests.ts";
import { type Route, route } from "../router.ts";
import { muxFrame, StreamType } from "../stream.ts";
import { validateBody } from "../validate.ts";

/** What the exec routes need from the container service. */
export interface ExecBackend {
  execCreate(ref: string, req: ExecCreateRequest): { Id: string };
  execStart(
    execId: string,
    opts: { detach: boolean; tty?: boolean; consoleSize?: [number, number] | null },
  ): Promise<{ stdio?: AttachStreams; exit: Promise<number> }>;
  execStreamInfo(
    execId: string,
    opts: { tty?: boolean },
  ): { tty: boolean; stdin: boolean; terminal: boolean; detachKeys?: string };
  execInspect(execId: string): ExecInspect;
  execResize(execId: string, size: { height: number; width: number }): Promise<void>;
}

/** Routes of /containers/{id}/exec and /exec. */
export function execRoutes(b: ExecBackend): Route[] {
  return [
    route.post("/containers/{id}/exec", async (ctx) => {
      const body = await ctx.jsonBody<ExecCreateRequest>();
      validateBody(execCreateShape, body, "ExecOptions");
      if (!body) throw new InvalidParameterError("config cannot be empty in order to create an exec");
      // docker-py sends `detachKeys`; Go's JSON decoding matches field names case-insensitively.
      const lower = (body as { detachKeys?: string }).detachKeys;
      if (body.DetachKeys === undefined && typeof lower === "string") body.DetachKeys = lower;
      try {
        detachKeys(body.DetachKeys);
      } catch {
        throw new InvalidParameterError(`Invalid escape keys (${body.DetachKeys}) provided`);
      }
      ctx.sendJson(201, b.execCreate(ctx.params.id, body));
    }),
    route.post("/exec/{id}/start", async (ctx) => {
      const raw = await ctx.jsonBody<ExecStartRequest>();
      validateBody(execStartShape, raw, "ExecStartCheck");
      const body = raw ?? {};
      const execId = ctx.params.id;
      const info = b.execStreamInfo(execId, { tty: body.Tty });
      if (body.Detach) {
        await b.execStart(execId, { detach: true, tty: body.Tty, consoleSize: body.ConsoleSize });
        // dockerd answers a detached start with an empty body (docker-py returns it as is).
        ctx.sendStatus(200);
        return;
      }
      // As Docker: upgrade first, then start the process, so its first output cannot ride in the same read as
      // the 101 (docker-py, behind docker-compose 1.29, loses bytes that arrive with the headers). A failure
      // from here on is written into the stream, as Docker writes it.
      const sock = ctx.hijack(info.tty ? RAW_STREAM : MUX_STREAM);
      sock.pause();
      await new Promise<void>((r) => sock.write("", () => r()));
      let started: Awaited<ReturnType<ExecBackend["execStart"]>>;
      try {
        started = await b.execStart(execId, {
          detach: false,
          tty: body.Tty,
          consoleSize: body.ConsoleSize,
        });
      } catch (e) {
        const text = `${e instanceof Error ? e.message : String(e)}\r\n`;
        sock.end(info.tty ? text : muxFrame(StreamType.stdout, Buffer.from(text)));
        return;
      }
      if (!started.stdio) {
        if (!info.tty) sock.write(muxError(new Error("exec produced no stream")));
        sock.end();
        return;
      }
      pumpStdio(sock, started.stdio, {
        tty: info.tty,
        stdin: info.stdin,
        detachKeys: info.terminal ? detachKeys(info.detachKeys) : undefined,
        stdout: true,
        stderr: true,
        done: started.exit,
      });
    }),
    route.get("/exec/{id}/json", (ctx) => ctx.sendJson(200, b.execInspect(ctx.params.id))),
    route.post("/exec/{id}/resize", async (ctx) => {
      const h = qInt(ctx.query, "h") ?? 0;
      const w = qInt(ctx.query, "w") ?? 0;
      await b.execResize(ctx.params.id, { height: h, width: w });
      ctx.sendStatus(200);
    }),
  ];
}
