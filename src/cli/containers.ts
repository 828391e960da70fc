// Container lifecycle and listing: ps, start, stop, kill, restart, rm, wait.
import { type CommandSpec, type FlagSpec, flag } from "./args.ts";
import { runForeground, StartFailed, startErrorCode } from "./attach.ts";
import {
  bool,
  type CommandDef,
  errorText,
  FORMAT_FLAG_DESC,
  filterFlag,
  filtersFrom,
  forEachTarget,
  int,
  list,
  StatusError,
  str,
  write,
} from "./common.ts";
import { ContainerContext, PS_HEADERS, PS_TABLE } from "./contexts.ts";
import { parseFormat, renderList } from "./format/index.ts";

const timeoutFlag: FlagSpec = flag.int("timeout", "Seconds to wait before killing the container", {
  short: "t",
  aliases: ["time"],
});
const signalFlag: FlagSpec = flag.string("signal", "Signal to send to the container", { short: "s" });

const psSpec: CommandSpec = {
  name: "ps",
  usage: "ps [OPTIONS]",
  desc: "List containers",
  aliases: ["container ls", "container list", "container ps", "ps"],
  maxArgs: 0,
  flags: [
    flag.bool("all", "Show all containers (default shows just running)", { short: "a" }),
    filterFlag("Filter output based on conditions provided", { short: true }),
    flag.string("format", FORMAT_FLAG_DESC),
    flag.int("last", "Show n last created containers (includes all states)", { short: "n", default: -1 }),
    flag.bool("latest", "Show the latest created container (includes all states)", { short: "l" }),
    flag.bool("no-trunc", "Don't truncate output"),
    flag.bool("quiet", "Only display container IDs", { short: "q" }),
    flag.bool("size", "Display total file sizes", { short: "s" }),
  ],
};

const ps: CommandDef = {
  spec: psSpec,
  async run(cli, p) {
    const format = str(p, "format");
    const quiet = bool(p, "quiet");
    let tmpl = format;
    if (!format && quiet) tmpl = "{{.ID}}";
    // Docker fetches sizes when asked, or when the template uses .Size.
    const size = bool(p, "size") || /\.Size\b/.test(tmpl);
    const fmt = parseFormat(tmpl || undefined, PS_TABLE + (bool(p, "size") ? "\t{{.Size}}" : ""));
    const filters = filtersFrom(list(p, "filter"));
    let limit = int(p, "last") ?? -1;
    if (bool(p, "latest")) limit = 1;
    const all = bool(p, "all") || limit > 0;
    const items = await cli
      .client()
      .containerList({ all, limit: limit > 0 ? limit : undefined, size, filters });
    const now = Date.now();
    const rows = items.map((c) => new ContainerContext(c, { trunc: !bool(p, "no-trunc"), now }));
    await write(cli.out, renderList(fmt, rows, { headers: PS_HEADERS }));
    return 0;
  },
};

const start: CommandDef = {
  spec: {
    name: "start",
    usage: "start [OPTIONS] CONTAINER [CONTAINER...]",
    desc: "Start one or more stopped containers",
    aliases: ["container start", "start"],
    minArgs: 1,
    flags: [
      flag.bool("attach", "Attach STDOUT/STDERR and forward signals", { short: "a" }),
      flag.string("detach-keys", "Override the key sequence for detaching a container"),
      flag.bool("interactive", "Attach container's STDIN", { short: "i" }),
      flag.string("checkpoint", "Restore from this checkpoint", { hidden: true }),
      flag.string("checkpoint-dir", "Use a custom checkpoint storage directory", { hidden: true }),
    ],
  },
  async run(cli, p) {
    const attach = bool(p, "attach") || bool(p, "interactive");
    if (!attach) {
      return forEachTarget(cli, p.args, async (t) => {
        await cli.client().containerStart(t, { detachKeys: str(p, "detach-keys") || undefined });
        return t;
      });
    }
    if (p.args.length > 1)
      throw new StatusError(1, "you cannot start and attach multiple containers at once");
    const c = await cli.client().containerInspect(p.args[0]);
    const tty = !!c.Config?.Tty;
    const stdin = bool(p, "interactive") && !!c.Config?.OpenStdin;
    try {
      return await runForeground(cli, {
        id: c.Id,
        tty,
        stdin,
        stdout: true,
        stderr: true,
        autoRemove: !!c.HostConfig?.AutoRemove,
        sigProxy: true,
        detachKeys: str(p, "detach-keys") || undefined,
      });
    } catch (err) {
      if (err instanceof StartFailed)
        throw new StatusError(startErrorCode(err.message), errorText(err.cause));
      throw err;
    }
  },
};

function lifecycle(name: string, desc: string, flags: FlagSpec[], act: CommandDef["run"]): CommandDef {
  return {
    spec: {
      name,
      usage: `${name} [OPTIONS] CONTAINER [CONTAINER...]`,
      desc,
      aliases: [`container ${name}`, name],
      minArgs: 1,
      flags,
    },
    run: act,
  };
}

const stop = lifecycle("stop", "Stop one or more running containers", [signalFlag, timeoutFlag], (cli, p) =>
  forEachTarget(cli, p.args, async (t) => {
    await cli.client().containerStop(t, { signal: str(p, "signal") || undefined, t: int(p, "timeout") });
    return t;
  }),
);

const restart = lifecycle("restart", "Restart one or more containers", [signalFlag, timeoutFlag], (cli, p) =>
  forEachTarget(cli, p.args, async (t) => {
    await cli.client().containerRestart(t, { signal: str(p, "signal") || undefined, t: int(p, "timeout") });
    return t;
  }),
);

const kill = lifecycle("kill", "Kill one or more running containers", [signalFlag], (cli, p) =>
  forEachTarget(cli, p.args, async (t) => {
    await cli.client().containerKill(t, { signal: str(p, "signal") || undefined });
    return t;
  }),
);

const rm: CommandDef = {
  spec: {
    name: "rm",
    usage: "rm [OPTIONS] CONTAINER [CONTAINER...]",
    desc: "Remove one or more containers",
    aliases: ["container rm", "container remove", "rm"],
    minArgs: 1,
    flags: [
      flag.bool("force", "Force the removal of a running container (uses SIGKILL)", { short: "f" }),
      flag.bool("link", "Remove the specified link", { short: "l" }),
      flag.bool("volumes", "Remove anonymous volumes associated with the container", { short: "v" }),
    ],
  },
  async run(cli, p) {
    const force = bool(p, "force");
    return forEachTarget(cli, p.args, async (t) => {
      const name = t.replace(/^\//, "");
      if (!name) throw new Error("Container name cannot be empty");
      try {
        await cli
          .client()
          .containerRemove(name, { force, v: bool(p, "volumes"), link: bool(p, "link") || undefined });
      } catch (err) {
        // `rm -f` of something already gone is reported but not a failure, as in docker.
        if (force && (err as { statusCode?: number }).statusCode === 404) {
          await write(cli.err, `${errorText(err)}\n`);
          return undefined;
        }
        throw err;
      }
      return t;
    });
  },
};

const wait: CommandDef = {
  spec: {
    name: "wait",
    usage: "wait CONTAINER [CONTAINER...]",
    desc: "Block until one or more containers stop, then print their exit codes",
    aliases: ["container wait", "wait"],
    minArgs: 1,
    flags: [],
  },
  async run(cli, p) {
    return forEachTarget(cli, p.args, async (t) => {
      const w = await cli.client().containerWait(t, { condition: "not-running" });
      const r = await w.result;
      return String(r.StatusCode);
    });
  },
};

/** The container commands, by key. */
export const commands: Record<string, CommandDef> = { ps, start, stop, restart, kill, rm, wait };
