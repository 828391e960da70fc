/**
 * The streaming server: the HTTP endpoint whose URLs Exec, Attach and PortForward return, as kubelet's
 * (k8s.io/kubelet/pkg/cri/streaming) serves them. A URL is /exec/<token>, /attach/<token> or
 * /portforward/<token>; the token is single-use and names the CRI request it was minted for. Clients upgrade
 * the request to SPDY/3.1 (client-go, crictl, kubelet's proxy) or to a WebSocket (newer clients).
 */
import type { IncomingMessage } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import type { Duplex } from "node:stream";
import { WebSocketServer } from "ws";
import { InvalidParameterError } from "../../errdefs/index.ts";
import { log, nodeHttp } from "../../util/index.ts";
import type {
  AttachStreamRequest,
  ExecStreamRequest,
  PortForwardStreamRequest,
  StreamRuntime,
  StreamServer,
  StreamServerFactory,
} from "../stream-runtime.ts";
import { serveSpdyPortForward, spdyPortForwardProtocols } from "./portforward.ts";
import {
  acceptSpdyStreams,
  protocolVersion,
  runAttach,
  runExec,
  type StreamOptions,
  spdyRemoteCommandProtocols,
} from "./remotecommand.ts";
import { SpdySession } from "./spdy/session.ts";
import { RequestCache } from "./tokens.ts";
import {
  pickProtocol,
  serveWsPortForward,
  wsPortForwardProtocols,
  wsRemoteCommandChannels,
  wsRemoteCommandProtocols,
} from "./websocket.ts";

/** kubelet's StreamIdleTimeout. */
export const DEFAULT_IDLE_TIMEOUT_MS = 4 * 60 * 60 * 1000;
/** kubelet's StreamCreationTimeout (remotecommand.DefaultStreamCreationTimeout). */
export const DEFAULT_STREAM_CREATION_TIMEOUT_MS = 30_000;

/** The factory's options and the tuning tests use. */
export interface StreamServerOptions {
  /** host:port to listen on; port 0 picks a free one; an empty host listens on every address. */
  address: string;
  idleTimeoutMs?: number;
  streamCreationTimeoutMs?: number;
  tokenTtlMs?: number;
  maxInFlight?: number;
  /** Where failures of single sessions are reported (they never reach the caller); default: the debug log. */
  onError?: (err: Error) => void;
}

type Cached =
  | { kind: "exec"; req: ExecStreamRequest }
  | { kind: "attach"; req: AttachStreamRequest }
  | { kind: "portforward"; req: PortForwardStreamRequest };

function splitAddress(address: string): { host: string | undefined; port: number } {
  const i = address.lastIndexOf(":");
  if (i < 0)
    throw new InvalidParameterError(`stream server address ${JSON.stringify(address)} is not host:port`);
  const host = address.slice(0, i).replace(/^\[(.*)\]$/, "$1");
  const port = Number(address.slice(i + 1));
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new InvalidParameterError(`stream server address ${JSON.stringify(address)} has a bad port`);
  }
  return { host: host === "" ? undefined : host, port };
}

function checkStreams(
  r: { containerId: string; tty: boolean; stdin: boolean; stdout: boolean; stderr: boolean },
  and: string,
) {
  if (!r.containerId) throw new InvalidParameterError("missing required container_id");
  // With a TTY the terminal merges stderr into stdout: there is nothing to multiplex it on.
  if (r.tty && r.stderr) throw new InvalidParameterError("tty and stderr cannot both be true");
  if (!r.stdin && !r.stdout && !r.stderr) {
    throw new InvalidParameterError(`one of stdin, stdout, ${and} stderr must be set`);
  }
}

/** Writes a plain HTTP response on a socket that asked to upgrade, then closes it. */
function refuse(
  socket: Duplex,
  status: number,
  reason: string,
  body: string,
  headers: [string, string][] = [],
): void {
  const lines = [
    `HTTP/1.1 ${status} ${reason}`,
    "Content-Type: text/plain; charset=utf-8",
    "X-Content-Type-Options: nosniff",
  ];
  for (const [k, v] of headers) lines.push(`${k}: ${v}`);
  lines.push(`Content-Length: ${Buffer.byteLength(body)}`, "Connection: close", "", body);
  socket.end(lines.join("\r\n"));
}

function headerList(req: IncomingMessage, name: string): string[] {
  return (req.headersDistinct[name] ?? [])
    .flatMap((v) => v.split(","))
    .map((v) => v.trim())
    .filter(Boolean);
}

/** Starts a streaming server over `runtime`. */
export async function startStreamServer(
  runtime: StreamRuntime,
  opts: StreamServerOptions,
): Promise<StreamServer> {
  const idleTimeoutMs = opts.idleTimeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS;
  const creationTimeoutMs = opts.streamCreationTimeoutMs ?? DEFAULT_STREAM_CREATION_TIMEOUT_MS;
  const onError = opts.onError ?? ((err: Error) => log("debug", "cri streaming session failed", { err }));
  const cache = new RequestCache<Cached>({ ttlMs: opts.tokenTtlMs, max: opts.maxInFlight });
  const sockets = new Set<Duplex>();
  // ws picks the subprotocol through handleProtocols; upgradeWebSocket has checked the offer already, so this
  // echoes the first protocol offered that we support (or none when none was offered).
  const wss = new WebSocketServer({
    noServer: true,
    perMessageDeflate: false,
    handleProtocols: (protocols: Set<string>) =>
      pickProtocol([...protocols], [...wsRemoteCommandProtocols, ...wsPortForwardProtocols]) || false,
  });
  const { host, port } = splitAddress(opts.address);

  const route = (url: string | undefined): { kind: string; token: string } | undefined => {
    const path = (url ?? "").split("?")[0];
    const m = /^\/(exec|attach|portforward)\/([A-Za-z0-9_-]+)$/.exec(path);
    return m ? { kind: m[1], token: m[2] } : undefined;
  };
  const lookup = (url: string | undefined): Cached | undefined => {
    const r = route(url);
    if (!r) return undefined;
    const cached = cache.consume(r.token);
    return cached?.kind === r.kind ? cached : undefined;
  };

  const server = nodeHttp().createServer((req, res) => {
    // Without an upgrade there is no stream to serve; the token is spent all the same, as kubelet's is.
    const cached = req.method === "GET" || req.method === "POST" ? lookup(req.url) : undefined;
    const status = cached ? 400 : 404;
    const body = cached ? "unable to upgrade: missing upgrade headers in request\n" : "404 page not found\n";
    res.writeHead(status, {
      "Content-Type": "text/plain; charset=utf-8",
      "X-Content-Type-Options": "nosniff",
    });
    res.end(body);
  });
  server.on("clientError", (_err, socket) => {
    if (socket.writable) socket.end("HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n");
    else socket.destroy();
  });
  server.on("connection", (socket: Socket) => {
    sockets.add(socket);
    socket.once("close", () => sockets.delete(socket));
  });
  server.on("upgrade", (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on("error", (err) => onError(err));
    try {
      upgrade(req, socket, head);
    } catch (e) {
      onError(e instanceof Error ? e : new Error(String(e)));
      socket.destroy();
    }
  });

  const upgrade = (req: IncomingMessage, socket: Duplex, head: Buffer): void => {
    const cached = req.method === "GET" || req.method === "POST" ? lookup(req.url) : undefined;
    if (!cached) {
      refuse(socket, 404, "Not Found", "404 page not found\n");
      return;
    }
    const upgradeTo = (req.headers.upgrade ?? "").toLowerCase();
    const connection = (req.headers.connection ?? "").toLowerCase();
    if (upgradeTo === "websocket") {
      upgradeWebSocket(req, socket, head, cached);
      return;
    }
    if (!connection.includes("upgrade") || !upgradeTo.includes("spdy/3.1")) {
      refuse(socket, 400, "Bad Request", "unable to upgrade: missing upgrade headers in request\n");
      return;
    }
    const supported = cached.kind === "portforward" ? spdyPortForwardProtocols : spdyRemoteCommandProtocols;
    const offered = headerList(req, "x-stream-protocol-version");
    if (offered.length === 0) {
      refuse(socket, 400, "Bad Request", "unable to upgrade: X-Stream-Protocol-Version is required\n");
      return;
    }
    const protocol = offered.find((p) => supported.includes(p));
    if (!protocol) {
      const msg = `unable to upgrade: unable to negotiate protocol: client supports [${offered.join(" ")}], server accepts [${supported.join(" ")}]\n`;
      refuse(
        socket,
        403,
        "Forbidden",
        msg,
        supported.map((p) => ["X-Accepted-Stream-Protocol-Versions", p]),
      );
      return;
    }
    socket.write(
      "HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: SPDY/3.1\r\n" +
        `X-Stream-Protocol-Version: ${protocol}\r\n\r\n`,
    );
    const session = new SpdySession(socket, { role: "server", head });
    idle(socket, () => session.destroy());
    const failed = (e: unknown) => {
      onError(e instanceof Error ? e : new Error(String(e)));
      session.destroy();
    };
    if (cached.kind === "portforward") {
      serveSpdyPortForward(session, runtime, cached.req.podSandboxId, creationTimeoutMs).catch(failed);
      return;
    }
    const version = protocolVersion(protocol);
    acceptSpdyStreams(session, version, streamOptions(cached.req), creationTimeoutMs)
      .then((ch) =>
        cached.kind === "exec" ? runExec(runtime, cached.req, ch) : runAttach(runtime, cached.req, ch),
      )
      .catch(failed);
  };

  const upgradeWebSocket = (req: IncomingMessage, socket: Duplex, head: Buffer, cached: Cached): void => {
    const supported = cached.kind === "portforward" ? wsPortForwardProtocols : wsRemoteCommandProtocols;
    const offered = headerList(req, "sec-websocket-protocol");
    const protocol = pickProtocol(offered, supported);
    if (protocol === undefined) {
      const msg = `requested protocol(s) are not supported: [${offered.join(" ")}]; supports [${supported.join(" ")}]\n`;
      refuse(socket, 403, "Forbidden", msg);
      return;
    }
    let ports: number[] = [];
    if (cached.kind === "portforward") {
      ports = cached.req.ports.length > 0 ? cached.req.ports : queryPorts(req.url);
      if (ports.length === 0) {
        refuse(socket, 400, "Bad Request", `query parameter "port" is required\n`);
        return;
      }
    }
    wss.handleUpgrade(req, socket, head, (ws) => {
      idle(socket, () => ws.terminate());
      const failed = (e: unknown) => {
        onError(e instanceof Error ? e : new Error(String(e)));
        ws.terminate();
      };
      if (cached.kind === "portforward") {
        serveWsPortForward(ws, protocol, runtime, { podSandboxId: cached.req.podSandboxId, ports }).catch(
          failed,
        );
        return;
      }
      const ch = wsRemoteCommandChannels(ws, protocol, streamOptions(cached.req));
      (cached.kind === "exec" ? runExec(runtime, cached.req, ch) : runAttach(runtime, cached.req, ch)).catch(
        failed,
      );
    });
  };

  const idle = (socket: Duplex, onIdle: () => void): void => {
    const s = socket as Socket;
    if (typeof s.setTimeout === "function" && idleTimeoutMs > 0) s.setTimeout(idleTimeoutMs, onIdle);
  };

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const addr = server.address() as AddressInfo;
  const base = `http://${addr.family === "IPv6" ? `[${addr.address}]` : addr.address}:${addr.port}`;
  const url = (kind: string, token: string) => `${base}/${kind}/${token}`;

  return {
    getExec(req) {
      checkStreams(req, "or");
      return { url: url("exec", cache.insert({ kind: "exec", req })) };
    },
    getAttach(req) {
      checkStreams(req, "and");
      return { url: url("attach", cache.insert({ kind: "attach", req })) };
    },
    getPortForward(req) {
      if (!req.podSandboxId) throw new InvalidParameterError("missing required pod_sandbox_id");
      return { url: url("portforward", cache.insert({ kind: "portforward", req })) };
    },
    async close() {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const s of sockets) s.destroy();
      wss.close();
      await closed;
    },
  };
}

function streamOptions(r: ExecStreamRequest | AttachStreamRequest): StreamOptions {
  return { stdin: r.stdin, stdout: r.stdout, stderr: r.stderr, tty: r.tty };
}

/** The ports of ?port=80&port=8080,9090 (how WebSocket clients name them when the request did not). */
function queryPorts(url: string | undefined): number[] {
  const q = new URLSearchParams((url ?? "").split("?")[1] ?? "");
  const ports: number[] = [];
  for (const v of q.getAll("port")) {
    for (const p of v.split(",")) {
      const n = /^\d{1,5}$/.test(p) ? Number(p) : 0;
      if (n < 1 || n > 65535) return [];
      ports.push(n);
    }
  }
  return ports;
}

/** The daemon's factory (the seam's StreamServerFactory). */
export const createStreamServer: StreamServerFactory = (runtime, opts) => startStreamServer(runtime, opts);
