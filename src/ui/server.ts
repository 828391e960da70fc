// The dashboard's web server: static front end, the Engine API proxy, the stats fan-in and the terminal
// WebSocket, every request behind the guard.
import { randomBytes } from "node:crypto";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import type { IncomingMessage, Server, ServerResponse } from "node:http";
import { createServer as createHttps } from "node:https";
import type { AddressInfo } from "node:net";
import { dirname, extname, join } from "node:path";
import type { Duplex } from "node:stream";
import { fileURLToPath } from "node:url";
import type { EngineClient } from "../client/index.ts";
import { nodeHttp } from "../util/index.ts";
import { COOKIE, check, type GuardConfig } from "./guard.ts";
import { proxy, sendError } from "./proxy.ts";
import { streamStats } from "./stats.ts";
import { TerminalServer } from "./terminal.ts";

/** How to start the dashboard. */
export interface UiServerOptions {
  client: EngineClient;
  host: string;
  /** 0 picks a free port. */
  port: number;
  /** PEM certificate and key: serve HTTPS. */
  tls?: { cert: Buffer; key: Buffer };
  /** Host names besides loopback ones and IP literals that reach the server (DNS-rebinding check). */
  names?: string[];
  /** The access token; random when absent. */
  token?: string;
  /** Where the built front end is (index.html, app.js, app.css); found beside the bundle when absent. */
  staticDir?: string;
}

/** A running dashboard. */
export interface UiServer {
  /** The URL to open, token included. */
  url: string;
  token: string;
  port: number;
  close(): Promise<void>;
}

const TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".map": "application/json",
  ".svg": "image/svg+xml",
  ".woff2": "font/woff2",
};

const SECURITY_HEADERS: Record<string, string> = {
  // Styles set by xterm and uPlot at run time need 'unsafe-inline'; scripts come only from us.
  "Content-Security-Policy":
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; " +
    "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
  "X-Content-Type-Options": "nosniff",
  "X-Frame-Options": "DENY",
  // The token may be in the address bar on the first visit: never hand it to another site.
  "Referrer-Policy": "no-referrer",
};

/** Finds the built front end: dist/ui beside the bundle, or the repository's dist/ui when run from src/. */
export function findStaticDir(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  for (const d of [join(here, "ui"), join(here, "../ui"), join(here, "../../dist/ui")]) {
    if (existsSync(join(d, "index.html"))) return d;
  }
  throw new Error("the dashboard's front end is not built (run npm run build)");
}

function loadStatic(dir: string, prefix = ""): Map<string, { body: Buffer; type: string }> {
  const files = new Map<string, { body: Buffer; type: string }>();
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    if (e.isDirectory()) {
      for (const [k, v] of loadStatic(join(dir, e.name), `${prefix}/${e.name}`)) files.set(k, v);
      continue;
    }
    const type = TYPES[extname(e.name)];
    if (type) files.set(`${prefix}/${e.name}`, { body: readFileSync(join(dir, e.name)), type });
  }
  return files;
}

function refuse(res: ServerResponse, status: number, reason: string): void {
  res.writeHead(status, { "Content-Type": "text/plain; charset=utf-8", ...SECURITY_HEADERS });
  res.end(status === 401 ? `401 Unauthorized: ${reason}; open the URL wharf ui printed\n` : `${reason}\n`);
}

/** Starts the dashboard and resolves once it listens. */
export async function startUiServer(opts: UiServerOptions): Promise<UiServer> {
  const token = opts.token ?? randomBytes(24).toString("hex");
  const files = loadStatic(opts.staticDir ?? findStaticDir());
  const terminals = new TerminalServer(opts.client);
  const tls = !!opts.tls;
  const cfg: GuardConfig = { token, port: opts.port, names: [opts.host, ...(opts.names ?? [])], tls };
  const secure = tls ? "; Secure" : "";

  const onRequest = (req: IncomingMessage, res: ServerResponse): void => {
    const url = new URL(req.url ?? "/", "http://ui.invalid");
    const v = check(url, req.headers, cfg);
    if (!v.ok) {
      refuse(res, v.status, v.reason);
      return;
    }
    if (v.viaQuery) {
      // Trade the token in the address for a cookie, and take it out of the address bar and history.
      url.searchParams.delete("token");
      res.writeHead(303, {
        Location: `${url.pathname}${url.search}`,
        "Set-Cookie": `${COOKIE}=${token}; Path=/; HttpOnly; SameSite=Strict${secure}`,
        ...SECURITY_HEADERS,
      });
      res.end();
      return;
    }
    const path = url.pathname;
    if (path === "/api/ui/stats") {
      streamStats(opts.client, url.searchParams.getAll("id"), res);
      return;
    }
    if (path.startsWith("/api/")) {
      proxy(opts.client, req, { res, url, path: path.slice(4) }).catch((err: unknown) =>
        sendError(res, 500, (err as Error).message),
      );
      return;
    }
    if (req.method !== "GET" && req.method !== "HEAD") {
      sendError(res, 405, "method not allowed");
      return;
    }
    // Every page path is the single-page app; assets are served by name.
    const f = files.get(path) ?? files.get("/index.html");
    if (!f) {
      sendError(res, 404, "not found");
      return;
    }
    res.writeHead(200, { "Content-Type": f.type, "Cache-Control": "no-cache", ...SECURITY_HEADERS });
    res.end(req.method === "HEAD" ? undefined : f.body);
  };

  const server: Server = opts.tls
    ? createHttps({ cert: opts.tls.cert, key: opts.tls.key }, onRequest)
    : nodeHttp().createServer(onRequest);
  server.on("upgrade", (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    const url = new URL(req.url ?? "/", "http://ui.invalid");
    const v = check(url, req.headers, cfg);
    // WebSockets are not bound by the same-origin policy: the Origin check is what stops other sites.
    if (!v.ok || !req.headers.origin || url.pathname !== "/api/ui/terminal") {
      const status = !v.ok ? v.status : 403;
      socket.end(
        `HTTP/1.1 ${status} ${status === 401 ? "Unauthorized" : "Forbidden"}\r\nConnection: close\r\n\r\n`,
      );
      return;
    }
    terminals.handle(req, socket, { head, url });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(opts.port, opts.host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  cfg.port = port;
  const shown = opts.host.includes(":") ? `[${opts.host}]` : opts.host;
  return {
    url: `${tls ? "https" : "http"}://${shown}:${port}/?token=${token}`,
    token,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        terminals.close();
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
