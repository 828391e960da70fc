/**
 * `wharf ui`: a web dashboard that is one more client of the Engine API. It talks to the daemon `-H`
 * names only through client/, serves the front end the build bundled into dist/ui, and guards every
 * request with a token, an Origin check and a Host check.
 */
import { readFileSync } from "node:fs";
import { hostname } from "node:os";
import { EngineClient, resolveHost, type TlsOptions } from "../client/index.ts";
import { isLoopback, splitHostPort } from "./guard.ts";
import { startUiServer } from "./server.ts";

export { COOKIE, check, type GuardConfig, hostAllowed, isLoopback, originAllowed } from "./guard.ts";
export { allowed as proxyAllows } from "./proxy.ts";
export { findStaticDir, startUiServer, type UiServer, type UiServerOptions } from "./server.ts";
export { type Sample, sampleOf } from "./stats.ts";

const HELP = `
Usage:  wharf ui [OPTIONS]

Serve a web dashboard of the daemon's containers, images, volumes and networks

Options:
      --addr string       Address to listen on (default "127.0.0.1:9090")
  -H, --host string       Daemon socket to connect to (default $WHARF_HOST or unix:///run/wharf/wharf.sock)
      --tls-cert string   Certificate to serve HTTPS with (required for a non-loopback --addr)
      --tls-key string    Key of --tls-cert
      --tlscacert string  Trust the daemon's certs signed only by this CA
      --tlscert string    Client certificate for the daemon
      --tlskey string     Client key for the daemon
      --tlsverify         Use TLS to the daemon and verify it
`;

interface UiFlags {
  addr: string;
  host?: string;
  tlsCert?: string;
  tlsKey?: string;
  tlscacert?: string;
  tlscert?: string;
  tlskey?: string;
  tlsverify: boolean;
}

const VALUE_FLAGS: Record<string, keyof UiFlags> = {
  "--addr": "addr",
  "-H": "host",
  "--host": "host",
  "--tls-cert": "tlsCert",
  "--tls-key": "tlsKey",
  "--tlscacert": "tlscacert",
  "--tlscert": "tlscert",
  "--tlskey": "tlskey",
};

/** Parses `wharf ui`'s flags; throws with docker-style messages on bad ones. */
export function parseUiFlags(argv: string[]): UiFlags | "help" {
  const f: UiFlags = { addr: "127.0.0.1:9090", tlsverify: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === "-h" || a === "--help") return "help";
    if (a === "--tlsverify") {
      f.tlsverify = true;
      continue;
    }
    const eq = a.startsWith("--") ? a.indexOf("=") : -1;
    const name = eq > 0 ? a.slice(0, eq) : a;
    const key = VALUE_FLAGS[name];
    if (!key) throw new Error(a.startsWith("-") ? `unknown flag: ${name}` : `unexpected argument: ${a}`);
    const value = eq > 0 ? a.slice(eq + 1) : argv[++i];
    if (value === undefined) throw new Error(`flag needs an argument: ${name}`);
    (f as unknown as Record<string, string>)[key] = value;
  }
  return f;
}

function daemonTls(f: UiFlags): TlsOptions | undefined {
  if (!f.tlsverify && !f.tlscacert && !f.tlscert && !f.tlskey) return undefined;
  const read = (p?: string) => (p ? readFileSync(p) : undefined);
  return { ca: read(f.tlscacert), cert: read(f.tlscert), key: read(f.tlskey), verify: f.tlsverify };
}

/** Runs `wharf ui` until interrupted; resolves to the exit code. */
export async function runUi(argv: string[]): Promise<number> {
  let f: UiFlags | "help";
  try {
    f = parseUiFlags(argv);
  } catch (err) {
    process.stderr.write(`wharf ui: ${(err as Error).message}\nSee 'wharf ui --help'.\n`);
    return 125;
  }
  if (f === "help") {
    process.stdout.write(HELP);
    return 0;
  }
  const { host, port } = splitHostPort(f.addr);
  if (!host || port === undefined || !Number.isInteger(port) || port < 0 || port > 65535) {
    process.stderr.write(`wharf ui: invalid --addr ${f.addr}: want host:port\n`);
    return 125;
  }
  if (!!f.tlsCert !== !!f.tlsKey) {
    process.stderr.write("wharf ui: --tls-cert and --tls-key go together\n");
    return 125;
  }
  if (!isLoopback(host) && !f.tlsCert) {
    process.stderr.write(
      `wharf ui: refusing to serve on ${f.addr} without TLS: the dashboard controls the daemon; ` +
        "give --tls-cert and --tls-key, or listen on a loopback address\n",
    );
    return 125;
  }
  const client = new EngineClient({ host: resolveHost(f.host), tls: daemonTls(f) });
  await client.ping();
  const tls =
    f.tlsCert && f.tlsKey ? { cert: readFileSync(f.tlsCert), key: readFileSync(f.tlsKey) } : undefined;
  const wildcard = host === "0.0.0.0" || host === "::";
  const ui = await startUiServer({ client, host, port, tls, names: wildcard ? [hostname()] : [] });
  const shown = wildcard ? ui.url.replace(`//${host === "::" ? "[::]" : host}:`, `//${hostname()}:`) : ui.url;
  process.stdout.write(`wharf ui is serving the dashboard of ${resolveHost(f.host)} at\n    ${shown}\n`);
  await new Promise<void>((resolve) => {
    const stop = () => resolve();
    process.once("SIGINT", stop);
    process.once("SIGTERM", stop);
  });
  await ui.close();
  client.close();
  return 0;
}
