/**
 * node:http and node:https, loaded with process.getBuiltinModule() (what require() returns, in the ESM bundle
 * and in the client's CommonJS one alike) on first use instead of `import`. An ESM import of a
 * builtin builds its module facade by reading every export, and node:http's lazy WebSocket/CloseEvent/
 * MessageEvent getters then load Node's bundled undici (fetch, WebSocket, web streams): about 13 MB of RSS
 * on Node 24 that the daemon never uses. node:https brings node:tls and OpenSSL's TLS state (about 3 MB of
 * RSS on top of the daemon's other modules, 9 MB in a bare node), which a daemon without --tls and without
 * a pull from a TLS registry never needs. Loaded on first call, so importing util/ costs the CLI nothing.
 * Type-only imports of node:http and node:https are erased and stay as they are.
 */

import type * as Http from "node:http";
import type * as Https from "node:https";

let http: typeof Http | undefined;
let https: typeof Https | undefined;

/** The node:http module. */
export function nodeHttp(): typeof Http {
  http ??= process.getBuiltinModule("node:http");
  return http;
}

/** The node:https module. */
export function nodeHttps(): typeof Https {
  https ??= process.getBuiltinModule("node:https");
  return https;
}
