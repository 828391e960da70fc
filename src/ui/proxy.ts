// The front end's view of the Engine API: `/api/<engine path>` forwarded through the client, limited to
// the calls the pages make (no exec, no archive, no build: the browser gets what the dashboard shows).
import type { IncomingMessage, ServerResponse } from "node:http";
import { type EngineClient, isApiError, type QueryValue } from "../client/index.ts";

const ID = "[^/]+";
// Image references carry slashes (`registry:5000/ns/name:tag`).
const REF = ".+";

/** Method and path patterns the proxy forwards; everything else is 404. */
const ALLOWED: [string, RegExp][] = [
  ["GET", /^\/(_ping|version|info|events|system\/df)$/],
  ["GET", /^\/containers\/json$/],
  ["GET", new RegExp(`^/containers/${ID}/(json|logs|stats|top|changes)$`)],
  ["POST", /^\/containers\/(create|prune)$/],
  ["POST", new RegExp(`^/containers/${ID}/(start|stop|restart|kill|pause|unpause|rename)$`)],
  ["DELETE", new RegExp(`^/containers/${ID}$`)],
  ["GET", /^\/images\/json$/],
  ["GET", new RegExp(`^/images/${REF}/(json|history)$`)],
  ["POST", /^\/images\/(create|prune)$/],
  ["POST", new RegExp(`^/images/${REF}/tag$`)],
  ["DELETE", new RegExp(`^/images/${REF}$`)],
  ["GET", /^\/(volumes|networks)$/],
  ["GET", new RegExp(`^/(volumes|networks)/${ID}$`)],
  ["POST", /^\/(volumes|networks)\/(create|prune)$/],
  ["DELETE", new RegExp(`^/(volumes|networks)/${ID}$`)],
];

/** True when the proxy forwards `method path`. */
export function allowed(method: string, path: string): boolean {
  return ALLOWED.some(([m, re]) => m === method && re.test(path));
}

const MAX_BODY = 1 << 20;

async function readJson(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let n = 0;
  for await (const c of req) {
    n += (c as Buffer).length;
    if (n > MAX_BODY) throw new Error("request body too large");
    chunks.push(c as Buffer);
  }
  if (n === 0) return undefined;
  return JSON.parse(Buffer.concat(chunks).toString("utf8"));
}

function queryOf(url: URL): Record<string, QueryValue> {
  const q: Record<string, string[]> = {};
  for (const [k, v] of url.searchParams) {
    if (k === "token") continue;
    q[k] = [...(q[k] ?? []), v];
  }
  return q;
}

/** Sends a JSON error the pages show as it is. */
export function sendError(res: ServerResponse, status: number, message: string): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  res.writeHead(status, { "Content-Type": "application/json", "Cache-Control": "no-store" });
  res.end(JSON.stringify({ message }));
}

/**
 * Forwards one request to the daemon and streams the answer back (events, logs, stats and pull
 * progress are long-lived); the daemon's request is dropped when the browser goes away.
 */
export async function proxy(
  client: EngineClient,
  req: IncomingMessage,
  opts: { res: ServerResponse; url: URL; path: string },
): Promise<void> {
  const { res, url, path } = opts;
  const method = req.method ?? "GET";
  if (!allowed(method, path)) {
    sendError(res, 404, `not available in the dashboard: ${method} ${path}`);
    return;
  }
  const abort = new AbortController();
  res.on("close", () => abort.abort());
  let json: unknown;
  try {
    json = method === "POST" ? await readJson(req) : undefined;
  } catch (err) {
    sendError(res, 400, (err as Error).message);
    return;
  }
  const headers: Record<string, string> = {};
  const auth = req.headers["x-registry-auth"];
  if (typeof auth === "string") headers["X-Registry-Auth"] = auth;
  try {
    const up = await client.transport.request(method, path, {
      query: queryOf(url),
      json,
      headers,
      signal: abort.signal,
    });
    const type = up.headers["content-type"];
    res.writeHead(up.statusCode ?? 200, {
      "Content-Type": typeof type === "string" ? type : "application/octet-stream",
      "Cache-Control": "no-store",
      // Keeps proxies and the browser from holding streamed lines back.
      "X-Accel-Buffering": "no",
    });
    res.flushHeaders();
    up.on("error", () => res.destroy());
    res.on("close", () => up.destroy());
    up.pipe(res);
  } catch (err) {
    if (abort.signal.aborted) return;
    if (isApiError(err)) sendError(res, err.statusCode, err.message);
    else sendError(res, 502, (err as Error).message);
  }
}
