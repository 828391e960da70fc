/**
 * `wharf compose`: the Compose Specification over the Engine API, as docker compose runs it. Each command
 * lives in commands/ and is loaded when it runs.
 */
import { isApiError } from "../client/index.ts";
import { helpText, parseFlags, UsageError } from "./commands/args.ts";
import { ComposeContext, type ComposeIO, GLOBAL_FLAGS } from "./commands/context.ts";
import { PLUGIN_METADATA, pluginHost, splitPluginArgv } from "./plugin.ts";

export { LoadError, type LoadOptions, loadProject } from "./load/index.ts";
export { COMPOSE_VERSION, configHash, containerName, LABELS } from "./model.ts";
export { type DownPlan, planDown, planUp, type UpPlan } from "./plan.ts";
export type { Project, ServiceConfig } from "./types.ts";

type Runner = (ctx: ComposeContext, argv: string[]) => Promise<number>;

/** Commands: where each lives, and its one-line description. */
const COMMANDS: Record<string, [() => Promise<Runner>, string]> = {
  config: [
    async () => (await import("./commands/config.ts")).configCommand,
    "Parse, resolve and render compose file in canonical format",
  ],
  up: [async () => (await import("./commands/up.ts")).upCommand, "Create and start containers"],
  create: [async () => (await import("./commands/up.ts")).createCommand, "Creates containers for a service"],
  down: [
    async () => (await import("./commands/down.ts")).downCommand,
    "Stop and remove containers, networks",
  ],
  ps: [async () => (await import("./commands/ps.ts")).psCommand, "List containers"],
  ls: [async () => (await import("./commands/ps.ts")).lsCommand, "List running compose projects"],
  top: [async () => (await import("./commands/ps.ts")).topCommand, "Display the running processes"],
  images: [
    async () => (await import("./commands/ps.ts")).imagesCommand,
    "List images used by the created containers",
  ],
  port: [
    async () => (await import("./commands/ps.ts")).portCommand,
    "Print the public port for a port binding",
  ],
  logs: [async () => (await import("./commands/logs.ts")).logsCommand, "View output from containers"],
  start: [async () => (await import("./commands/lifecycle.ts")).startCommand, "Start services"],
  stop: [async () => (await import("./commands/lifecycle.ts")).stopCommand, "Stop services"],
  restart: [
    async () => (await import("./commands/lifecycle.ts")).restartCommand,
    "Restart service containers",
  ],
  kill: [async () => (await import("./commands/lifecycle.ts")).killCommand, "Force stop service containers"],
  rm: [async () => (await import("./commands/lifecycle.ts")).rmCommand, "Removes stopped service containers"],
  pause: [async () => (await import("./commands/lifecycle.ts")).pauseCommand, "Pause services"],
  unpause: [async () => (await import("./commands/lifecycle.ts")).unpauseCommand, "Unpause services"],
  exec: [
    async () => (await import("./commands/exec.ts")).execCommand,
    "Execute a command in a running container",
  ],
  run: [async () => (await import("./commands/exec.ts")).runCommand, "Run a one-off command on a service"],
  pull: [async () => (await import("./commands/images.ts")).pullCommand, "Pull service images"],
  push: [async () => (await import("./commands/images.ts")).pushCommand, "Push service images"],
  build: [async () => (await import("./commands/images.ts")).buildCommand, "Build or rebuild services"],
  events: [
    async () => (await import("./commands/logs.ts")).eventsCommand,
    "Receive real time events from containers",
  ],
  version: [
    async () => (await import("./commands/ps.ts")).versionCommand,
    "Show the Docker Compose version information",
  ],
};

function usage(): string {
  const rows = Object.entries(COMMANDS)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([n, [, d]]) => `  ${n.padEnd(12)}${d}`);
  return `${helpText("wharf compose [OPTIONS] COMMAND", "Define and run multi-container applications with wharf", GLOBAL_FLAGS)}\nCommands:\n${rows.join("\n")}\n`;
}

/** Splits global flags (before the command) from the command and its arguments. */
function splitArgv(argv: string[]): { global: string[]; command?: string; rest: string[] } {
  const withValue = new Set(
    GLOBAL_FLAGS.filter((f) => f.type !== "bool").flatMap((f) => [
      `--${f.name}`,
      ...(f.short ? [`-${f.short}`] : []),
    ]),
  );
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (!a.startsWith("-")) return { global: argv.slice(0, i), command: a, rest: argv.slice(i + 1) };
    if (withValue.has(a)) i++;
  }
  return { global: argv, rest: [] };
}

/** Runs `wharf compose ARGV...`; resolves to the exit code. */
export async function runCompose(argv: string[], io?: ComposeIO): Promise<number> {
  const streams: ComposeIO = io ?? { out: process.stdout, err: process.stderr, in: process.stdin };
  const { global, command, rest } = splitArgv(argv);
  let ctx: ComposeContext | undefined;
  try {
    const g = parseFlags(global, GLOBAL_FLAGS);
    if (!command || g.flags.help === true || command === "help") {
      streams.out.write(usage());
      return command || g.flags.help === true ? 0 : 1;
    }
    const entry = COMMANDS[command];
    if (!entry) throw new UsageError(`unknown docker command: "compose ${command}"`);
    ctx = new ComposeContext(streams, g);
    const run = await entry[0]();
    return await run(ctx, rest);
  } catch (err) {
    if (err instanceof UsageError) {
      streams.err.write(`${err.message}\n`);
      return 1;
    }
    const msg = isApiError(err)
      ? `Error response from daemon: ${err.message}`
      : err instanceof Error
        ? err.message
        : String(err);
    streams.err.write(`${msg}\n`);
    return 1;
  } finally {
    ctx?.close();
  }
}

/** Entry point when the docker CLI runs wharf as its compose plugin (bin/wharf-compose-plugin). */
export async function runComposePlugin(argv: string[]): Promise<number> {
  if (argv[0] === "docker-cli-plugin-metadata") {
    process.stdout.write(`${JSON.stringify(PLUGIN_METADATA, null, 2)}\n`);
    return 0;
  }
  const { globals, rest } = splitPluginArgv(argv);
  const host = pluginHost(globals, process.env);
  return runCompose(host ? ["-H", host, ...rest] : rest);
}
