import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from "node:http";
import type { Duplex } from "node:stream";
import { InvalidParameterError, NotFoundError } from "../errdefs/index.ts";

/** The API version wharf speaks, and the oldest it accepts. */
export const API_VERSION = "1.47";
export const MIN_API_VERSION = "1.24";

/** A request as handlers see it: no HTTP server types leak past here except through the explicit methods. */
export interface RequestContext {
  readonly method: string;
  /** The path without its `/vX.Y` prefix. */
  readonly path: string;
  readonly params: Readonly<Record<string, string>>;
  readonly query: URLSearchParams;
  /** The API version of the request: from the path prefix, else the newest. */
  readonly version: string;
  readonly headers: IncomingHttpHeaders;
  /** Reads the body as JSON; undefined when empty. Malformed JSON is a 400. */
  jsonBody<T>(): Promise<T | undefined>;
  /** The body as a stream (image import, build context, archive upload). */
  bodyStream(): NodeJS.ReadableStream;
  /** Sends a JSON response. */
  sendJson(status: number, body: unknown): void;
  /** Sends a JSON response already encoded (a body some service keeps). */
  sendJsonBytes(status: number, body: Buffer): void;
  /** Sends an empty response (204, 304, 201). */
  sendStatus(status: number, headers?: Record<string, string>): void;
  /** Sends a plain-text body (the `_ping` "OK"). */
  sendText(status: number, body: string, headers?: Record<string, string>): void;
  /** Starts a streamed response, headers flushed at once (events, logs, pull progress). */
  startStream(
    contentType: string,
    headers?: Record<string, string>,
  ): NodeJS.WritableStream & { writableEnded: boolean };
  /**
   * Takes over the connection for attach/exec: answers `101 UPGRADED` when the client asked to upgrade,
   * else `200` with a raw stream, and hands back the socket. Bytes the client sends after are stdin.
   * `upgrade` names another protocol (`h2c` for BuildKit's gRPC), answered `101 Switching Protocols`.
   */
  hijack(contentType: string, opts?: { upgrade?: string }): Duplex;
  /** When the client's connection was opened (ns since the epoch): a wait sent before a start counts from here. */
  readonly connectedAtNs: bigint;
  /** Resolves when the client goes away, so long operations can stop. */
  readonly closed: Promise<void>;
}

/** A route handler. */
export type Handler = (ctx: RequestContext) => Promise<void> | void;

/** One entry of a route table. `{name*}` matches across slashes (image names contain them). */
export interface Route {
  method: "GET" | "HEAD" | "POST" | "PUT" | "DELETE";
  path: string;
  handler: Handler;
  minApiVersion?: string;
}

function routeOf(method: Route["method"]) {
  return (path: string, handler: Handler, opts: { minApiVersion?: string } = {}): Route => ({
    method,
    path,
    handler,
    ...opts,
  });
}

/**
 * Route table entries by method, as moby's router.NewGetRoute/NewPostRoute/...: `route.get("/_ping", h)`,
 * with the version gate on the route (`{ minApiVersion: "1.44" }`).
 */
export const route = {
  get: routeOf("GET"),
  head: routeOf("HEAD"),
  post: routeOf("POST"),
  put: routeOf("PUT"),
  delete: routeOf("DELETE"),
};

interface CompiledRoute extends Route {
  re: RegExp;
  names: string[];
}

/** Compares two API versions "1.41" vs "1.47". */
export function compareVersions(a: string, b: string): number {
  const [amaj, amin] = a.split(".").map(Number);
  const [bmaj, bmin] = b.split(".").map(Number);
  return amaj !== bmaj ? amaj - bmaj : amin - bmin;
}

/** Finds the handler for a method and path; the router knows nothing of HTTP. */
export class Router {
  readonly #routes: CompiledRoute[] = [];

  /** Adds a group's route table. */
  add(routes: Route[]): void {
    for (const r of routes) {
      const names: string[] = [];
      const pattern = r.path
        .split("/")
        .map((seg) => {
          const m = /^\{(\w+)(\*?)\}$/.exec(seg);
          if (!m) return seg.replace(/[.*+?^$()|[\]\\]/g, "\\$&");
          names.push(m[1]);
          return m[2] ? "(.+)" : "([^/]+)";
        })
        .join("/");
      this.#routes.push({ ...r, re: new RegExp(`^${pattern}/?$`), names });
    }
  }

  /** Splits `/v1.41/containers/json` into version and path, enforcing the supported range. */
  static splitVersion(rawPath: string): { version: string; path: string } {
    const m = /^\/v(\d+\.\d+)(\/.*)$/.exec(rawPath);
    if (!m) return { version: API_VERSION, path: rawPath };
    const version = m[1];
    if (compareVersions(version, API_VERSION) > 0)
      throw new InvalidParameterError(
        `client version ${version} is too new. Maximum supported API version is ${API_VERSION}`,
      );
    if (compareVersions(version, MIN_API_VERSION) < 0)
      throw new InvalidParameterError(
        `client version ${version} is too old. Minimum supported API version is ${MIN_API_VERSION}, please upgrade your client to a newer version`,
      );
    return { version, path: m[2] };
  }

  /** The matching route and its decoded parameters, or a 404 in Docker's words. */
  match(method: string, path: string, version: string): { route: Route; params: Record<string, string> } {
    const m = method === "HEAD" ? ["HEAD", "GET"] : [method];
    for (const r of this.#routes) {
      if (!m.includes(r.method)) continue;
      const hit = r.re.exec(path);
      if (!hit) continue;
      if (r.minApiVersion && compareVersions(version, r.minApiVersion) < 0) continue;
      const params: Record<string, string> = {};
      r.names.forEach((n, i) => {
        params[n] = decodeURIComponent(hit[i + 1]);
      });
      return { route: r, params };
    }
    throw new NotFoundError("page not found");
  }
}

/** The two ways a request reaches a handler: plain HTTP, or an `Upgrade: tcp` request with its raw socket. */
export type Transport =
  | { kind: "http"; req: IncomingMessage; res: ServerResponse }
  | { kind: "upgrade"; req: IncomingMessage; socket: Duplex; head: Buffer };
