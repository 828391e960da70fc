/**
 * wharf as the docker CLI's `compose` plugin. The CLI finds `docker-compose` in a cli-plugins directory,
 * asks it for its metadata, then runs it with its own arguments unchanged: docker's global flags first
 * (`-H`, `--context`, `--log-level`, ...), then `compose` and what follows. The daemon is the one the docker
 * CLI would talk to: `-H`, else DOCKER_HOST, else the docker context in use (`--context`, DOCKER_CONTEXT or
 * the config's currentContext), else wharf's own default.
 */
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import { COMPOSE_VERSION } from "./model.ts";

/** What `docker-compose docker-cli-plugin-metadata` prints: the CLI lists the plugin with it. */
export const PLUGIN_METADATA = {
  SchemaVersion: "0.1.0",
  Vendor: "wharf",
  Version: `v${COMPOSE_VERSION}`,
  ShortDescription: "Docker Compose (wharf)",
};

/** docker's global flags that take a value (the rest are booleans: -D, --tls, --tlsverify). */
const VALUED = new Set([
  "-H",
  "--host",
  "-c",
  "--context",
  "--config",
  "-l",
  "--log-level",
  "--tlscacert",
  "--tlscert",
  "--tlskey",
]);

/** docker's global flags before `compose`, and the arguments after it. */
export function splitPluginArgv(argv: string[]): { globals: Map<string, string>; rest: string[] } {
  const globals = new Map<string, string>();
  let i = 0;
  for (; i < argv.length && argv[i] !== "compose"; i++) {
    const a = argv[i];
    const eq = a.indexOf("=");
    const name = a.startsWith("--") && eq > 0 ? a.slice(0, eq) : a;
    if (eq > 0 && a.startsWith("--")) globals.set(name, a.slice(eq + 1));
    else if (VALUED.has(name)) globals.set(name, argv[++i] ?? "");
    else globals.set(name, "true");
  }
  return { globals, rest: argv.slice(i + 1) };
}

/** The endpoint a docker context names, read from the CLI's context store. */
function contextHost(configDir: string, name: string): string | undefined {
  if (!name || name === "default") return undefined;
  const dir = createHash("sha256").update(name).digest("hex");
  try {
    const meta = JSON.parse(readFileSync(join(configDir, "contexts/meta", dir, "meta.json"), "utf8")) as {
      Endpoints?: { docker?: { Host?: string } };
    };
    return meta.Endpoints?.docker?.Host;
  } catch {
    return undefined;
  }
}

/** The daemon the docker CLI would have used. */
export function pluginHost(globals: Map<string, string>, env: NodeJS.ProcessEnv): string | undefined {
  const flag = globals.get("-H") ?? globals.get("--host");
  if (flag) return flag;
  if (env.DOCKER_HOST) return env.DOCKER_HOST;
  const configDir = globals.get("--config") ?? env.DOCKER_CONFIG ?? join(homedir(), ".docker");
  let context = globals.get("-c") ?? globals.get("--context") ?? env.DOCKER_CONTEXT;
  if (!context) {
    try {
      context = (
        JSON.parse(readFileSync(join(configDir, "config.json"), "utf8")) as { currentContext?: string }
      ).currentContext;
    } catch {
      context = undefined;
    }
  }
  return contextHost(configDir, context ?? "") ?? env.WHARF_HOST;
}
