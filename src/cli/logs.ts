// `logs`: fetch (and follow) a container's output, demultiplexed unless it has a TTY.

import { copyOutput } from "../client/index.ts";
import { flag } from "./args.ts";
import { bool, type CommandDef, StatusError, str } from "./common.ts";
import { parseTimestampArg } from "./units.ts";

function timestamp(flag: string, v: string): string | undefined {
  if (!v) return undefined;
  try {
    return parseTimestampArg(v);
  } catch (err) {
    throw new StatusError(1, `invalid value for "${flag}": ${(err as Error).message}`);
  }
}

const logs: CommandDef = {
  spec: {
    name: "logs",
    usage: "logs [OPTIONS] CONTAINER",
    desc: "Fetch the logs of a container",
    aliases: ["container logs", "logs"],
    minArgs: 1,
    maxArgs: 1,
    flags: [
      flag.bool("details", "Show extra details provided to logs"),
      flag.bool("follow", "Follow log output", { short: "f" }),
      flag.string(
        "since",
        'Show logs since timestamp (e.g. "2013-01-02T13:23:37Z") or relative (e.g. "42m" for 42 minutes)',
      ),
      flag.string("tail", "Number of lines to show from the end of the logs", { short: "n", default: "all" }),
      flag.bool("timestamps", "Show timestamps", { short: "t" }),
      flag.string(
        "until",
        'Show logs before a timestamp (e.g. "2013-01-02T13:23:37Z") or relative (e.g. "42m" for 42 minutes)',
      ),
    ],
  },
  async run(cli, p) {
    const client = cli.client();
    const c = await client.containerInspect(p.args[0]);
    const since = timestamp("since", str(p, "since"));
    const until = timestamp("until", str(p, "until"));
    const res = await client.containerLogs(c.Id, {
      stdout: true,
      stderr: true,
      follow: bool(p, "follow") || undefined,
      timestamps: bool(p, "timestamps") || undefined,
      since,
      until,
      tail: str(p, "tail") || "all",
    });
    // Following ends on Ctrl-C: stop reading instead of dying mid-write.
    const stop = (): void => {
      res.destroy();
    };
    process.once("SIGINT", stop);
    try {
      await copyOutput(res, { stdout: cli.out, stderr: cli.err }, { tty: !!c.Config?.Tty });
    } catch (err) {
      if (!res.destroyed) throw err;
    } finally {
      process.off("SIGINT", stop);
    }
    return 0;
  },
};

/** The logs command. */
export const commands: Record<string, CommandDef> = { logs };
