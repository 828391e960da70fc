/** `compose logs`, `compose events`, and the prefixed log printer `up` shares. */

import type { EventMessage } from "../../apitypes/index.ts";
import { demuxFrames, jsonLines } from "../../client/index.ts";
import { LABELS } from "../model.ts";
import { projectRefs } from "./apply.ts";
import { bool, type Flag, flag, parseFlags, str } from "./args.ts";
import type { ComposeContext } from "./context.ts";

const COLORS = [36, 33, 32, 35, 34, 96, 93, 92, 95, 94];

/** Options of the log printer. */
export interface FollowOptions {
  follow: boolean;
  prefix: boolean;
  color: boolean;
  timestamps?: boolean;
  tail?: string;
  since?: string;
  until?: string;
  signal?: AbortSignal;
}

/** `web-1` for `proj-web-1`: the prefix docker compose prints. */
function shortName(project: string, name: string): string {
  return name.startsWith(`${project}-`) ? name.slice(project.length + 1) : name;
}

/**
 * Streams the logs of containers, each line prefixed `name  | ` (padded to the longest name, coloured
 * per container), until the streams end or `signal` aborts.
 */
export async function followLogs(
  ctx: ComposeContext,
  containers: string[],
  opts: FollowOptions & { project?: string },
): Promise<void> {
  const e = ctx.engine();
  const labels = containers.map((c) =>
    opts.project ? shortName(opts.project, c) : c.replace(/^[^-]+-/, ""),
  );
  const width = Math.max(0, ...labels.map((l) => l.length));
  await Promise.all(
    containers.map(async (name, i) => {
      const label = labels[i].padEnd(width);
      const prefix = !opts.prefix
        ? ""
        : opts.color
          ? `\u001b[${COLORS[i % COLORS.length]}m${label}  |\u001b[0m `
          : `${label}  | `;
      let info: Awaited<ReturnType<typeof e.client.containerInspect>>;
      try {
        info = await e.client.containerInspect(name);
      } catch {
        return;
      }
      let res: Awaited<ReturnType<typeof e.client.containerLogs>>;
      try {
        res = await e.client.containerLogs(
          name,
          {
            stdout: true,
            stderr: true,
            follow: opts.follow,
            timestamps: opts.timestamps,
            tail: opts.tail ?? "all",
            since: opts.since,
            until: opts.until,
          },
          { signal: opts.signal },
        );
      } catch (err) {
        if (opts.signal?.aborted) return;
        throw err;
      }
      const partial = { 1: "", 2: "" } as Record<number, string>;
      const emit = (stream: number, text: string) => {
        const all = partial[stream] + text;
        const lines = all.split("\n");
        partial[stream] = lines.pop() ?? "";
        const out = stream === 2 && !opts.prefix ? ctx.io.err : ctx.io.out;
        for (const l of lines) out.write(`${prefix}${l}\n`);
      };
      try {
        if (info.Config?.Tty) {
          for await (const chunk of res) emit(1, (chunk as Buffer).toString("utf8"));
        } else {
          for await (const f of demuxFrames(res)) emit(f.stream, f.data.toString("utf8"));
        }
      } catch (err) {
        if (!opts.signal?.aborted) throw err;
      }
      for (const s of [1, 2]) if (partial[s]) ctx.io.out.write(`${prefix}${partial[s]}\n`);
    }),
  );
}

/** Flags of `logs`. */
export const LOGS_FLAGS: Flag[] = [
  flag.bool("follow", "Follow log output", { short: "f" }),
  flag.string("tail", "Number of lines to show from the end of the logs", { short: "n", default: "all" }),
  flag.bool("timestamps", "Show timestamps", { short: "t" }),
  flag.string("since", "Show logs since timestamp or relative time"),
  flag.string("until", "Show logs before a timestamp or relative time"),
  flag.bool("no-color", "Produce monochrome output"),
  flag.bool("no-log-prefix", "Don't print prefix in logs"),
  flag.int("index", "index of the container if service has multiple replicas"),
];

/** Runs `logs`. */
export async function logsCommand(ctx: ComposeContext, argv: string[]): Promise<number> {
  const f = parseFlags(argv, LOGS_FLAGS);
  const { name } = await ctx.projectName();
  let refs = await projectRefs(ctx, name, { services: f.args });
  const index = f.flags.index;
  if (typeof index === "number") refs = refs.filter((r) => r.number === index);
  const abort = new AbortController();
  const onSigint = () => abort.abort();
  process.once("SIGINT", onSigint);
  try {
    await followLogs(
      ctx,
      refs.map((r) => r.name),
      {
        project: name,
        follow: bool(f, "follow"),
        prefix: !bool(f, "no-log-prefix"),
        color: ctx.color && !bool(f, "no-color"),
        timestamps: bool(f, "timestamps"),
        tail: str(f, "tail"),
        since: str(f, "since"),
        until: str(f, "until"),
        signal: abort.signal,
      },
    );
  } finally {
    process.off("SIGINT", onSigint);
  }
  return 0;
}

/** Runs `events`: the project's container events, as text or `--json` lines. */
export async function eventsCommand(ctx: ComposeContext, argv: string[]): Promise<number> {
  const f = parseFlags(argv, [
    flag.bool("json", "Output events as a stream of json objects"),
    flag.string("since", "Show all events created since timestamp"),
    flag.string("until", "Stream events until this timestamp"),
  ]);
  const { name } = await ctx.projectName();
  const res = await ctx.engine().client.events({
    since: str(f, "since"),
    until: str(f, "until"),
    filters: { label: [`${LABELS.project}=${name}`], type: ["container"] },
  });
  for await (const ev of jsonLines<EventMessage>(res)) {
    const attrs = (ev.Actor?.Attributes ?? {}) as Record<string, string>;
    const service = attrs[LABELS.service] ?? "";
    const time = new Date(Number(ev.timeNano ?? 0) / 1e6 || Number(ev.time ?? 0) * 1000);
    if (bool(f, "json")) {
      ctx.print(
        `${JSON.stringify({ time: time.toISOString(), type: "container", action: ev.Action, id: ev.Actor?.ID, service, attributes: attrs })}\n`,
      );
    } else {
      const shown = Object.entries(attrs)
        .filter(([k]) => !k.startsWith("com.docker.compose."))
        .map(([k, v]) => `${k}=${v}`)
        .join(", ");
      ctx.print(`${time.toISOString()} container ${ev.Action} ${ev.Actor?.ID ?? ""} (${shown})\n`);
    }
  }
  return 0;
}
