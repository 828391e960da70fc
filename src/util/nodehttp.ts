/**
 * node:http, loaded with require() instead of `import`. An ESM import of a builtin builds its module facade
 * by reading every export, and node:http's lazy WebSocket/CloseEvent/MessageEvent getters then load Node's
 * bundled undici (fetch, WebSocket, web streams): about 13 MB of RSS on Node 24 that the daemon never uses.
 * Loaded on first call, so importing util/ costs the CLI nothing. Type-only imports of node:http are erased
 * and stay as they are.
 */

import type * as Http from "node:http";
import { createRequire } from "node:module";

let http: typeof Http | undefined;

/** The node:http module. */
export function nodeHttp(): typeof Http {
  http ??= createRequire(import.meta.url)("node:http") as typeof Http;
  return http;
}
