import { parseArgs } from "node:util";
import { log, parseGoDuration, setLogLevel } from "../util/index.ts";
import { collectGarbage } from "./gc.ts";
import { Htpasswd } from "./htpasswd.ts";
import { readTls, serveRegistry } from "./server.ts";
import { RegistryStorage } from "./storage.ts";

export { ERROR_STATUS, type ErrorCode, RegistryError } from "./errors.ts";
export { collectGarbage, type GcResult } from "./gc.ts";
export { bcryptHash, Htpasswd } from "./htpasswd.ts";
export { MANIFEST_TYPES, parseManifest } from "./manifest.ts";
export { type RegistryServerOptions, type RunningRegistry, serveRegistry } from "./server.ts";
export { RegistryStorage } from "./storage.ts";

const USAGE = `Usage:  wharf registry COMMAND

An OCI Distribution registry

Commands:
  serve   Serve the registry API
  gc      Delete blobs no manifest references

serve options:
      --addr string       Listen address HOST:PORT (default "127.0.0.1:5000")
      --root string       Storage directory (default "/var/lib/wharf-registry")
      --htpasswd string   htpasswd file with bcrypt hashes; anonymous access is refused when set
      --tls-cert string   TLS certificate file
      --tls-key string    TLS key file
      --read-only         Refuse pushes and deletes

gc options:
      --root string       Storage directory (default "/var/lib/wharf-registry")
      --grace duration    Keep blobs touched within this long, e.g. 10m, 1h (default "1h")
      --dry-run           Only report what would be deleted
`;

/** `wharf registry serve|gc`. */
export async function runRegistry(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  if (!cmd || cmd === "--help" || cmd === "-h" || cmd === "help") {
    process.stdout.write(USAGE);
    return cmd ? 0 : 1;
  }
  if (cmd === "serve") return serve(rest);
  if (cmd === "gc") return gc(rest);
  process.stderr.write(`wharf registry: unknown command "${cmd}"\n\n${USAGE}`);
  return 1;
}

async function serve(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      addr: { type: "string" },
      root: { type: "string" },
      htpasswd: { type: "string" },
      "tls-cert": { type: "string" },
      "tls-key": { type: "string" },
      "read-only": { type: "boolean" },
      "log-level": { type: "string" },
    },
  });
  if (values["log-level"]) setLogLevel(values["log-level"] as Parameters<typeof setLogLevel>[0]);
  const addr = values.addr ?? "127.0.0.1:5000";
  const m = /^(?:\[([^\]]+)\]|([^:]*)):(\d+)$/.exec(addr);
  if (!m) throw new Error(`invalid --addr ${addr}: want HOST:PORT`);
  if (!!values["tls-cert"] !== !!values["tls-key"]) throw new Error("--tls-cert and --tls-key go together");
  const storage = new RegistryStorage(values.root ?? "/var/lib/wharf-registry");
  await storage.init();
  const reg = await serveRegistry(
    {
      storage,
      htpasswd: values.htpasswd ? await Htpasswd.load(values.htpasswd) : undefined,
      readOnly: values["read-only"] ?? false,
      tls: values["tls-cert"] ? await readTls(values["tls-cert"], values["tls-key"] ?? "") : undefined,
    },
    { host: m[1] ?? (m[2] || "0.0.0.0"), port: Number(m[3]) },
  );
  const a = reg.address;
  log("info", "registry: listening", { addr: `${a.address}:${a.port}`, root: storage.root });
  process.stdout.write(`listening on ${a.family === "IPv6" ? `[${a.address}]` : a.address}:${a.port}\n`);
  await new Promise<void>((resolve) => {
    const stop = () => resolve();
    process.once("SIGTERM", stop);
    process.once("SIGINT", stop);
  });
  await reg.close();
  return 0;
}

async function gc(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: { root: { type: "string" }, grace: { type: "string" }, "dry-run": { type: "boolean" } },
  });
  const storage = new RegistryStorage(values.root ?? "/var/lib/wharf-registry");
  await storage.init();
  const r = await collectGarbage(storage, {
    graceMs: parseDuration(values.grace ?? "1h"),
    dryRun: values["dry-run"],
  });
  for (const d of r.deleted) process.stdout.write(`${values["dry-run"] ? "would delete" : "deleted"} ${d}\n`);
  process.stdout.write(
    `${r.marked} blobs in use, ${r.deleted.length} unreferenced (${r.freedBytes} bytes), ${r.uploadsRemoved} stale uploads\n`,
  );
  return 0;
}

/** `90s`, `10m`, `1h`, `0`, or a bare number of seconds, in milliseconds. */
function parseDuration(s: string): number {
  if (/^\d+(\.\d+)?$/.test(s)) return Number(s) * 1000;
  return parseGoDuration(s) / 1e6;
}
