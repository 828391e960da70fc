// Who may talk to the dashboard: the holder of the token (query once, then a cookie), from a page of the
// dashboard's own origin, addressed by a Host name that cannot be rebound to it by someone else's DNS.
import { timingSafeEqual } from "node:crypto";
import { isIP } from "node:net";

/** Name of the cookie that carries the token after the first visit. */
export const COOKIE = "wharf_ui_token";

/** What the guard knows about the server it protects. */
export interface GuardConfig {
  token: string;
  /** The port the server listens on (Host and Origin must name it). */
  port: number;
  /** Host names besides loopback ones and IP literals that address the server (the --addr host). */
  names: string[];
  tls: boolean;
}

/** The request parts the guard looks at (node's IncomingHttpHeaders fits). */
export type Headers = Record<string, string | string[] | undefined>;

/** The guard's answer: allowed, or the status and reason to refuse with. */
export type Verdict = { ok: true; viaQuery: boolean } | { ok: false; status: 401 | 403; reason: string };

function one(h: string | string[] | undefined): string | undefined {
  return Array.isArray(h) ? h[0] : h;
}

/** True for names and addresses that only reach this machine. */
export function isLoopback(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, "").toLowerCase();
  if (h === "localhost" || h.endsWith(".localhost")) return true;
  if (isIP(h) === 4) return h.startsWith("127.");
  return h === "::1";
}

/** Splits `name:port` / `[v6]:port` into its parts; port undefined when absent. */
export function splitHostPort(s: string): { host: string; port?: number } {
  if (s.startsWith("[")) {
    const end = s.indexOf("]");
    const rest = s.slice(end + 1);
    return { host: s.slice(1, end), port: rest.startsWith(":") ? Number(rest.slice(1)) : undefined };
  }
  if (isIP(s) === 6) return { host: s };
  const i = s.lastIndexOf(":");
  if (i < 0) return { host: s };
  return { host: s.slice(0, i), port: Number(s.slice(i + 1)) };
}

/**
 * True when `Host` names this server. A DNS-rebinding page reaches us under the attacker's domain name,
 * so only loopback names, IP literals and the names we were told about are accepted.
 */
export function hostAllowed(host: string | undefined, cfg: GuardConfig): boolean {
  if (!host) return false;
  const { host: name, port } = splitHostPort(host.trim());
  const defaultPort = cfg.tls ? 443 : 80;
  if ((port ?? defaultPort) !== cfg.port) return false;
  const n = name.toLowerCase();
  return isLoopback(n) || isIP(n) !== 0 || cfg.names.some((x) => x.toLowerCase() === n);
}

/** True when a browser's `Origin` is the dashboard's own (same scheme, same Host as the request). */
export function originAllowed(origin: string, host: string, cfg: GuardConfig): boolean {
  let u: URL;
  try {
    u = new URL(origin);
  } catch {
    return false;
  }
  if (u.protocol !== (cfg.tls ? "https:" : "http:")) return false;
  return u.host.toLowerCase() === new URL(`${u.protocol}//${host}`).host.toLowerCase();
}

function sameToken(given: string | undefined, token: string): boolean {
  if (!given) return false;
  const a = Buffer.from(given);
  const b = Buffer.from(token);
  return a.length === b.length && timingSafeEqual(a, b);
}

/** Reads one cookie from a `Cookie` header. */
export function cookieValue(header: string | undefined, name: string): string | undefined {
  for (const part of (header ?? "").split(";")) {
    const eq = part.indexOf("=");
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

/** Decides whether a request may proceed: Host first, then Origin, then the token. */
export function check(url: URL, headers: Headers, cfg: GuardConfig): Verdict {
  const host = one(headers.host);
  if (!hostAllowed(host, cfg)) return { ok: false, status: 403, reason: "unknown Host" };
  const origin = one(headers.origin);
  if (origin !== undefined && !originAllowed(origin, host ?? "", cfg)) {
    return { ok: false, status: 403, reason: "cross-origin request refused" };
  }
  // A browser that sends no Origin still labels cross-site requests.
  const site = one(headers["sec-fetch-site"]);
  if (site === "cross-site" || site === "same-site") {
    return { ok: false, status: 403, reason: "cross-origin request refused" };
  }
  const q = url.searchParams.get("token") ?? undefined;
  if (sameToken(q, cfg.token)) return { ok: true, viaQuery: true };
  const auth = one(headers.authorization);
  const bearer = auth?.startsWith("Bearer ") ? auth.slice(7) : undefined;
  if (sameToken(cookieValue(one(headers.cookie), COOKIE), cfg.token) || sameToken(bearer, cfg.token)) {
    return { ok: true, viaQuery: false };
  }
  return { ok: false, status: 401, reason: "missing or wrong token" };
}
