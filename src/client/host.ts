import { existsSync } from "node:fs";

/** The daemon address used when neither `-H` nor `WHARF_HOST` is given. */
export const DEFAULT_HOST = "unix:///run/wharf/wharf.sock";

/** Where to connect: a unix socket path, or a TCP host and port. */
export type HostAddress =
  | { kind: "unix"; socketPath: string; url: string }
  | { kind: "tcp"; host: string; port: number; url: string };

/**
 * The default daemon address for this user: root's socket, or for anyone else their own rootless daemon's
 * (`$XDG_RUNTIME_DIR/wharf.sock`) when it is there, as Podman's client finds the user's service. (Docker's
 * CLI is told instead, through DOCKER_HOST or the context its rootless setup tool creates.)
 */
export function defaultHost(
  env: NodeJS.ProcessEnv = process.env,
  o: { uid?: number; exists?: (path: string) => boolean } = {},
): string {
  const uid = o.uid ?? process.getuid?.() ?? 0;
  const sock = env.XDG_RUNTIME_DIR ? `${env.XDG_RUNTIME_DIR.replace(/\/+$/, "")}/wharf.sock` : undefined;
  if (uid !== 0 && sock && (o.exists ?? existsSync)(sock)) return `unix://${sock}`;
  return DEFAULT_HOST;
}

/** Picks the daemon address: the `-H` flag, else `WHARF_HOST`, else the default socket (defaultHost). */
export function resolveHost(flag: string | undefined, env: NodeJS.ProcessEnv = process.env): string {
  if (flag) return flag;
  if (env.WHARF_HOST) return env.WHARF_HOST;
  return defaultHost(env);
}

/** Parses `unix:///path`, a bare `/path`, `tcp://host:port` (also `http://`, `https://`) or `host:port`. */
export function parseHost(host: string): HostAddress {
  const s = host.trim();
  if (s.startsWith("unix://")) {
    const socketPath = s.slice("unix://".length);
    if (!socketPath) throw new Error(`invalid host: ${host}: missing socket path`);
    return { kind: "unix", socketPath, url: s };
  }
  if (s.startsWith("/")) return { kind: "unix", socketPath: s, url: `unix://${s}` };
  const m = /^(?:(tcp|http|https):\/\/)?(\[[^\]]+\]|[^:/]*)(?::(\d+))?\/?$/.exec(s);
  if (!m) throw new Error(`invalid host: ${host}`);
  const scheme = m[1] ?? "tcp";
  const name = (m[2] || "localhost").replace(/^\[|\]$/g, "");
  // Docker's defaults: 2375 plain, 2376 with TLS.
  const port = m[3] ? Number(m[3]) : scheme === "https" ? 2376 : 2375;
  if (!Number.isInteger(port) || port <= 0 || port > 65535)
    throw new Error(`invalid host: ${host}: bad port`);
  return { kind: "tcp", host: name, port, url: `tcp://${m[2] || "localhost"}:${port}` };
}
