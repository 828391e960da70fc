import type { IncomingHttpHeaders } from "node:http";
import type { Duplex } from "node:stream";
import { type Route, route } from "../router.ts";

/** What the BuildKit endpoints need: something that speaks HTTP/2 gRPC on the upgraded sockets. */
export interface BuildkitEndpointBackend {
  /** `/grpc`: the daemon serves BuildKit's Control and LLBBridge APIs. */
  serveControl(socket: Duplex): void;
  /** `/session`: the daemon calls the client's attachables (file sync, secrets). */
  serveSession(socket: Duplex, headers: IncomingHttpHeaders): void;
}

/** Routes of /grpc and /session, which buildx upgrades to HTTP/2 (`Upgrade: h2c`). */
export function buildkitRoutes(b: BuildkitEndpointBackend): Route[] {
  return [
    route.post("/grpc", (ctx) => b.serveControl(ctx.hijack("", { upgrade: "h2c" }))),
    route.post("/session", (ctx) => b.serveSession(ctx.hijack("", { upgrade: "h2c" }), ctx.headers)),
  ];
}
