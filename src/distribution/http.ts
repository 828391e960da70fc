import type * as Http from "node:http";
import type { IncomingHttpHeaders, IncomingMessage } from "node:http";
import type * as Https from "node:https";
import type { Readable } from "node:stream";
import { InvalidParameterError } from "../errdefs/index.ts";
import { nodeHttp, nodeHttps } from "../util/index.ts";

/** A response: status, headers and the body stream (the caller must consume or destroy it). */
export interface HttpResponse {
  status: number;
  headers: IncomingHttpHeaders;
  body: IncomingMessage;
}

/** One request options set. */
export interface HttpRequest {
  method: string;
  url: string;
  headers?: Record<string, string>;
  body?: Buffer | Readable;
  signal?: AbortSignal;
}

// Keep connections open between the many small registry requests of one pull or push. Made on first use:
// node:https is only loaded for a TLS registry (see util/nodehttp.ts).
let httpAgent: Http.Agent | undefined;
let httpsAgent: Https.Agent | undefined;
function agent(secure: boolean): Http.Agent {
  if (secure) {
    httpsAgent ??= new (nodeHttps().Agent)({ keepAlive: true, maxSockets: 16 });
    return httpsAgent;
  }
  httpAgent ??= new (nodeHttp().Agent)({ keepAlive: true, maxSockets: 16 });
  return httpAgent;
}

/** Sends a request; redirects are returned, not followed. */
export function send(req: HttpRequest): Promise<HttpResponse> {
  const u = new URL(req.url);
  const secure = u.protocol === "https:";
  const mod = secure ? nodeHttps() : nodeHttp();
  return new Promise((resolve, reject) => {
    const r = mod.request(
      u,
      {
        method: req.method,
        headers: { "User-Agent": "wharf", ...req.headers },
        agent: agent(secure),
        signal: req.signal,
      },
      (res) => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: res }),
    );
    r.on("error", reject);
    const body = req.body;
    if (body === undefined) r.end();
    else if (Buffer.isBuffer(body)) r.end(body);
    else {
      body.on("error", (e) => r.destroy(e));
      body.pipe(r);
    }
  });
}

/** Reads a whole (small) body. */
export async function readAll(res: HttpResponse, limit = 16 << 20, what = "response"): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let n = 0;
  for await (const c of res.body as AsyncIterable<Buffer>) {
    n += c.length;
    if (n > limit) {
      res.body.destroy();
      // The registry's answer, not the daemon, is at fault: a client error, never a 500.
      throw new InvalidParameterError(`${what} is larger than the ${limit} bytes allowed`);
    }
    chunks.push(c);
  }
  return Buffer.concat(chunks);
}
