// Entry of client commands. Only this file and args.ts load at start-up; each command group is imported
// when it runs, so `wharf ps` never pays for `run`'s code.
import type { EngineClient } from "../client/index.ts";
import {
  type CommandSpec,
  HelpRequested,
  helpText,
  type Parsed,
  parseArgs,
  UsageError,
  usageErrorText,
} from "./args.ts";
import { type Cli, type CommandDef, errorText, StatusError, write } from "./common.ts";

type Loader = () => Promise<Record<string, CommandDef>>;

const runMod: Loader = async () => (await import("./run.ts")).commands;
const ctrMod: Loader = async () => (await import("./containers.ts")).commands;
const logsMod: Loader = async () => (await import("./logs.ts")).commands;
const inspectMod: Loader = async () => (await import("./inspect.ts")).commands;
const imgMod: Loader = async () => (await import("./images.ts")).commands;
const sysMod: Loader = async () => (await import("./system.ts")).commands;
const execMod: Loader = async () => (await import("./exec.ts")).commands;
const cpMod: Loader = async () => (await import("./cp.ts")).commands;
const miscMod: Loader = async () => (await import("./ctrmisc.ts")).commands;
const statsMod: Loader = async () => (await import("./stats.ts")).commands;
const eventsMod: Loader = async () => (await import("./events.ts")).commands;
const volMod: Loader = async () => (await import("./volumes.ts")).commands;
const netMod: Loader = async () => (await import("./networks.ts")).commands;
const regMod: Loader = async () => (await import("./registry.ts")).commands;
const xferMod: Loader = async () => (await import("./imagexfer.ts")).commands;
const buildMod: Loader = async () => (await import("./build.ts")).commands;
const dfMod: Loader = async () => (await import("./sysdf.ts")).commands;

/** Where each command lives: module and key. */
const TOP: Record<string, [Loader, string, string]> = {
  attach: [
    execMod,
    "attach",
    "Attach local standard input, output, and error streams to a running container",
  ],
  build: [buildMod, "build", "Build an image from a Dockerfile"],
  commit: [miscMod, "commit", "Create a new image from a container's changes"],
  cp: [cpMod, "cp", "Copy files/folders between a container and the local filesystem"],
  create: [runMod, "create", "Create a new container"],
  diff: [miscMod, "diff", "Inspect changes to files or directories on a container's filesystem"],
  events: [eventsMod, "events", "Get real time events from the server"],
  exec: [execMod, "exec", "Execute a command in a running container"],
  export: [miscMod, "export", "Export a container's filesystem as a tar archive"],
  history: [xferMod, "history", "Show the history of an image"],
  images: [imgMod, "images", "List images"],
  import: [imgMod, "import", "Import the contents from a tarball to create a filesystem image"],
  info: [sysMod, "info", "Display system-wide information"],
  inspect: [inspectMod, "inspect", "Return low-level information on Docker objects"],
  kill: [ctrMod, "kill", "Kill one or more running containers"],
  load: [xferMod, "load", "Load an image from a tar archive or STDIN"],
  login: [regMod, "login", "Authenticate to a registry"],
  logout: [regMod, "logout", "Log out from a registry"],
  logs: [logsMod, "logs", "Fetch the logs of a container"],
  pause: [miscMod, "pause", "Pause all processes within one or more containers"],
  port: [miscMod, "port", "List port mappings or a specific mapping for the container"],
  ps: [ctrMod, "ps", "List containers"],
  pull: [imgMod, "pull", "Download an image from a registry"],
  push: [regMod, "push", "Upload an image to a registry"],
  rename: [miscMod, "rename", "Rename a container"],
  restart: [ctrMod, "restart", "Restart one or more containers"],
  rm: [ctrMod, "rm", "Remove one or more containers"],
  rmi: [imgMod, "rmi", "Remove one or more images"],
  run: [runMod, "run", "Create and run a new container from an image"],
  save: [xferMod, "save", "Save one or more images to a tar archive (streamed to STDOUT by default)"],
  start: [ctrMod, "start", "Start one or more stopped containers"],
  stats: [statsMod, "stats", "Display a live stream of container(s) resource usage statistics"],
  stop: [ctrMod, "stop", "Stop one or more running containers"],
  tag: [imgMod, "tag", "Create a tag TARGET_IMAGE that refers to SOURCE_IMAGE"],
  top: [miscMod, "top", "Display the running processes of a container"],
  unpause: [miscMod, "unpause", "Unpause all processes within one or more containers"],
  update: [miscMod, "update", "Update configuration of one or more containers"],
  version: [sysMod, "version", "Show the Docker version information"],
  wait: [ctrMod, "wait", "Block until one or more containers stop, then print their exit codes"],
};

const GROUPS: Record<string, { desc: string; subs: Record<string, [Loader, string]> }> = {
  container: {
    desc: "Manage containers",
    subs: {
      attach: [execMod, "attach"],
      commit: [miscMod, "commit"],
      cp: [cpMod, "cp"],
      create: [runMod, "create"],
      diff: [miscMod, "diff"],
      exec: [execMod, "exec"],
      export: [miscMod, "export"],
      inspect: [inspectMod, "container inspect"],
      kill: [ctrMod, "kill"],
      logs: [logsMod, "logs"],
      ls: [ctrMod, "ps"],
      list: [ctrMod, "ps"],
      ps: [ctrMod, "ps"],
      pause: [miscMod, "pause"],
      port: [miscMod, "port"],
      prune: [miscMod, "container prune"],
      rename: [miscMod, "rename"],
      restart: [ctrMod, "restart"],
      rm: [ctrMod, "rm"],
      remove: [ctrMod, "rm"],
      run: [runMod, "run"],
      start: [ctrMod, "start"],
      stats: [statsMod, "stats"],
      stop: [ctrMod, "stop"],
      top: [miscMod, "top"],
      unpause: [miscMod, "unpause"],
      update: [miscMod, "update"],
      wait: [ctrMod, "wait"],
    },
  },
  image: {
    desc: "Manage images",
    subs: {
      build: [buildMod, "build"],
      history: [xferMod, "history"],
      import: [imgMod, "import"],
      inspect: [inspectMod, "image inspect"],
      load: [xferMod, "load"],
      ls: [imgMod, "images"],
      list: [imgMod, "images"],
      prune: [xferMod, "image prune"],
      pull: [imgMod, "pull"],
      push: [regMod, "push"],
      rm: [imgMod, "rmi"],
      remove: [imgMod, "rmi"],
      save: [xferMod, "save"],
      tag: [imgMod, "tag"],
    },
  },
  network: {
    desc: "Manage networks",
    subs: {
      connect: [netMod, "network connect"],
      create: [netMod, "network create"],
      disconnect: [netMod, "network disconnect"],
      inspect: [inspectMod, "network inspect"],
      ls: [netMod, "network ls"],
      list: [netMod, "network ls"],
      prune: [netMod, "network prune"],
      rm: [netMod, "network rm"],
      remove: [netMod, "network rm"],
    },
  },
  system: {
    desc: "Manage Docker",
    subs: {
      df: [dfMod, "system df"],
      events: [eventsMod, "events"],
      info: [sysMod, "info"],
      prune: [dfMod, "system prune"],
    },
  },
  volume: {
    desc: "Manage volumes",
    subs: {
      create: [volMod, "volume create"],
      inspect: [inspectMod, "volume inspect"],
      ls: [volMod, "volume ls"],
      list: [volMod, "volume ls"],
      prune: [volMod, "volume prune"],
      rm: [volMod, "volume rm"],
      remove: [volMod, "volume rm"],
    },
  },
};

interface Globals {
  host?: string;
  tls: boolean;
  tlsverify: boolean;
  tlscacert?: string;
  tlscert?: string;
  tlskey?: string;
  version: boolean;
  help: boolean;
}

const GLOBAL_VALUE_FLAGS = new Set([
  "-H",
  "--host",
  "-l",
  "--log-level",
  "--tlscacert",
  "--tlscert",
  "--tlskey",
  "--config",
  "-c",
  "--context",
]);

/** Splits the global flags (before the command) from the rest. */
function parseGlobals(argv: string[]): { g: Globals; rest: string[] } {
  const g: Globals = { tls: false, tlsverify: false, version: false, help: false };
  let i = 0;
  for (; i < argv.length; i++) {
    const a = argv[i];
    if (!a.startsWith("-") || a === "-") break;
    if (a === "--") {
      i++;
      break;
    }
    const eq = a.startsWith("--") ? a.indexOf("=") : -1;
    const name = eq > 0 ? a.slice(0, eq) : a;
    let value: string | undefined;
    if (GLOBAL_VALUE_FLAGS.has(name) || /^-H./.test(a)) {
      if (eq > 0) value = a.slice(eq + 1);
      else if (/^-H./.test(a)) value = a.slice(2).replace(/^=/, "");
      else value = argv[++i];
      if (value === undefined) throw new UsageError(`flag needs an argument: ${name}`, { code: 125 });
    }
    switch (name) {
      case "-H":
      case "--host":
        g.host = value;
        break;
      case "--tlscacert":
        g.tlscacert = value;
        break;
      case "--tlscert":
        g.tlscert = value;
        break;
      case "--tlskey":
        g.tlskey = value;
        break;
      case "--tls":
        g.tls = true;
        break;
      case "--tlsverify":
        g.tlsverify = true;
        break;
      case "-v":
      case "--version":
        g.version = true;
        break;
      case "-h":
      case "--help":
        g.help = true;
        break;
      case "-D":
      case "--debug":
        break;
      default:
        if (!GLOBAL_VALUE_FLAGS.has(name)) throw new UsageError(`unknown flag: ${name}`, { code: 125 });
    }
  }
  return { g, rest: argv.slice(i) };
}

function topHelp(): string {
  const rows = Object.entries(TOP).map(([k, v]) => `  ${k.padEnd(12)}${v[2]}`);
  // Front ends main.ts dispatches before the client starts; listed as docker lists its plugins.
  const frontEnds: [string, string][] = [
    ["compose", "Define and run multi-container applications (Compose Specification)"],
    ["daemon", "Run the wharf daemon"],
    ["registry", "Serve an OCI Distribution registry"],
    ["ui", "Open a web dashboard of the daemon's containers, images, volumes and networks"],
  ];
  const groups = [...Object.entries(GROUPS).map(([k, v]) => [k, v.desc] as const), ...frontEnds]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([k, desc]) => `  ${k.padEnd(12)}${desc}`);
  return (
    "\nUsage:  wharf [OPTIONS] COMMAND\n\nA Docker-compatible container engine\n\nCommands:\n" +
    `${rows.join("\n")}\n\nManagement Commands:\n${groups.join("\n")}\n\n` +
    "Global Options:\n" +
    "  -H, --host string      Daemon socket to connect to (default $WHARF_HOST, or unix:///run/wharf/wharf.sock;\n" +
    "                         for a user other than root $XDG_RUNTIME_DIR/wharf.sock when it exists)\n" +
    "      --tls              Use TLS; implied by --tlsverify\n" +
    "      --tlscacert string Trust certs signed only by this CA\n" +
    "      --tlscert string   Path to TLS certificate file\n" +
    "      --tlskey string    Path to TLS key file\n" +
    "      --tlsverify        Use TLS and verify the remote\n" +
    "  -v, --version          Print version information and quit\n\n" +
    "Run 'wharf COMMAND --help' for more information on a command.\n"
  );
}

function groupHelp(name: string): string {
  const g = GROUPS[name];
  const subs = Object.keys(g.subs).map((s) => `  ${s}`);
  return `\nUsage:  wharf ${name} COMMAND\n\n${g.desc}\n\nCommands:\n${subs.join("\n")}\n\nRun 'wharf ${name} COMMAND --help' for more information on a command.\n`;
}

/** Renames a spec for the path it was invoked by (`container ls`), as docker's messages do. */
function specFor(spec: CommandSpec, path: string): CommandSpec {
  if (spec.name === path) return spec;
  const sp = spec.usage.indexOf(" ");
  return { ...spec, name: path, usage: sp < 0 ? path : path + spec.usage.slice(sp) };
}

async function makeClient(g: Globals, host: string): Promise<EngineClient> {
  const { EngineClient } = await import("../client/index.ts");
  let tls: import("../client/index.ts").TlsOptions | undefined;
  if (g.tls || g.tlsverify || g.tlscacert || g.tlscert || process.env.WHARF_TLS_VERIFY) {
    const { readFileSync } = await import("node:fs");
    const { join } = await import("node:path");
    const certPath = process.env.WHARF_CERT_PATH;
    const read = (p: string | undefined, def: string): Buffer | undefined => {
      const file = p ?? (certPath ? join(certPath, def) : undefined);
      return file ? readFileSync(file) : undefined;
    };
    tls = {
      ca: read(g.tlscacert, "ca.pem"),
      cert: read(g.tlscert, "cert.pem"),
      key: read(g.tlskey, "key.pem"),
      verify: g.tlsverify || !!process.env.WHARF_TLS_VERIFY,
    };
  }
  return new EngineClient({ host, tls });
}

/** Runs a client command (`wharf run ...`); resolves to the process exit code. */
export async function runCli(argv: string[]): Promise<number> {
  // process.stdout and process.stderr are streams Node makes on first use (a few ms each at start-up): a
  // command that prints nothing, like `run --rm busybox true`, never makes them.
  const out = (): NodeJS.WriteStream => process.stdout;
  const err = (): NodeJS.WriteStream => process.stderr;
  let parsedSpec: CommandSpec | undefined;
  let client: EngineClient | undefined;
  try {
    const { g, rest } = parseGlobals(argv);
    // The client module loads for every command anyway (makeClient): its resolveHost knows rootless sockets.
    const host = (await import("../client/index.ts")).resolveHost(g.host, process.env);
    if (g.version) {
      const { CLIENT_VERSION } = await import("./system.ts");
      await write(out(), `Wharf version ${CLIENT_VERSION}\n`);
      return 0;
    }
    if (rest.length === 0 || (g.help && rest.length === 0)) {
      await write(out(), topHelp());
      return 0;
    }
    let [cmd, ...cmdArgs] = rest;
    if (cmd === "help") {
      if (cmdArgs.length === 0) {
        await write(out(), topHelp());
        return 0;
      }
      [cmd, ...cmdArgs] = [...cmdArgs, "--help"];
    }
    let loader: Loader;
    let key: string;
    let path = cmd;
    if (cmd in GROUPS) {
      const [sub, ...subArgs] = cmdArgs;
      if (!sub || sub === "--help" || sub === "-h") {
        await write(out(), groupHelp(cmd));
        return 0;
      }
      const entry = GROUPS[cmd].subs[sub];
      if (!entry) {
        await write(
          err(),
          `wharf: unknown command: wharf ${cmd} ${sub}\n\nUsage:  wharf ${cmd}\n\nRun 'wharf ${cmd} --help' for more information\n`,
        );
        return 1;
      }
      [loader, key] = entry;
      path = `${cmd} ${sub}`;
      cmdArgs = subArgs;
    } else if (Object.hasOwn(TOP, cmd)) {
      [loader, key] = TOP[cmd];
    } else {
      await write(err(), `wharf: unknown command: wharf ${cmd}\n\nRun 'wharf --help' for more information\n`);
      return 1;
    }
    const def = (await loader())[key];
    const spec = specFor(def.spec, path);
    parsedSpec = spec;
    let parsed: Parsed;
    try {
      parsed = parseArgs(spec, cmdArgs);
    } catch (e) {
      if (e instanceof HelpRequested) {
        await write(out(), helpText(spec));
        return 0;
      }
      throw e;
    }
    const cli: Cli = {
      get out() {
        return out();
      },
      get err() {
        return err();
      },
      host,
      client: () => {
        if (!client) throw new Error("client not ready");
        return client;
      },
    };
    client = await makeClient(g, host);
    return await def.run(cli, parsed);
  } catch (e) {
    if (e instanceof UsageError) {
      await write(err(), usageErrorText(e));
      return e.code;
    }
    if (e instanceof StatusError) {
      if (e.message) await write(err(), `${e.message}\n`);
      return e.code || 1;
    }
    void parsedSpec;
    await write(err(), `${errorText(e)}\n`);
    return 1;
  } finally {
    client?.close();
  }
}
