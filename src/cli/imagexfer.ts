// `save`, `load`, `history` and `image prune`.

import { createReadStream, createWriteStream } from "node:fs";
import { rename, rm } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { pipeline } from "node:stream/promises";
import type { ImageHistoryResponseItem } from "../apitypes/index.ts";
import { humanDuration } from "../util/index.ts";
import { flag } from "./args.ts";
import { bool, type CommandDef, FORMAT_FLAG_DESC, list, StatusError, str, write } from "./common.ts";
import { contextJSON, renderList } from "./format/index.ts";
import { listFormat, pruneCommand } from "./listing.ts";
import { displayJsonMessages } from "./progress.ts";
import { ellipsis, humanSize, shortId } from "./units.ts";

const save: CommandDef = {
  spec: {
    name: "save",
    usage: "save [OPTIONS] IMAGE [IMAGE...]",
    desc: "Save one or more images to a tar archive (streamed to STDOUT by default)",
    aliases: ["image save", "save"],
    minArgs: 1,
    flags: [
      flag.string("output", "Write to a file, instead of STDOUT", { short: "o" }),
      flag.list("platform", "Save only the given platform(s)", { typeName: "stringSlice" }),
    ],
  },
  async run(cli, p) {
    const file = str(p, "output");
    if (!file && (cli.out as { isTTY?: boolean }).isTTY)
      throw new StatusError(1, "cowardly refusing to save to a terminal. Use the -o flag or redirect");
    const body = await cli.client().imageSave(p.args, { platform: list(p, "platform")[0] });
    if (!file) {
      await pipeline(body, cli.out, { end: false });
      return 0;
    }
    // Written beside the target and renamed, so a failed save never leaves half a file under its name.
    const tmp = join(dirname(file), `.${basename(file)}.${process.pid}.tmp`);
    try {
      await pipeline(body, createWriteStream(tmp));
      await rename(tmp, file);
    } catch (err) {
      await rm(tmp, { force: true });
      const code = (err as NodeJS.ErrnoException).code;
      if (code === "ENOENT" || code === "EACCES")
        throw new StatusError(
          1,
          `failed to save image: invalid output path: directory "${dirname(file)}" does not exist`,
        );
      throw err;
    }
    return 0;
  },
};

const load: CommandDef = {
  spec: {
    name: "load",
    usage: "load [OPTIONS]",
    desc: "Load an image from a tar archive or STDIN",
    aliases: ["image load", "load"],
    maxArgs: 0,
    flags: [
      flag.string("input", "Read from tar archive file, instead of STDIN", { short: "i" }),
      flag.list("platform", "Load only the given platform(s)", { typeName: "stringSlice" }),
      flag.bool("quiet", "Suppress the load output", { short: "q" }),
    ],
  },
  async run(cli, p) {
    const file = str(p, "input");
    if (!file && process.stdin.isTTY)
      throw new StatusError(1, "requested load from stdin, but stdin is empty");
    let input: NodeJS.ReadableStream = process.stdin;
    if (file) {
      const rs = createReadStream(file);
      await new Promise<void>((resolve, reject) => {
        rs.once("open", () => resolve());
        rs.once("error", (err: NodeJS.ErrnoException) =>
          reject(
            new StatusError(
              1,
              `open ${file}: ${err.code === "ENOENT" ? "no such file or directory" : err.message}`,
            ),
          ),
        );
      });
      input = rs;
    }
    const tty = !!(cli.out as { isTTY?: boolean }).isTTY;
    // Like docker: progress only for a terminal; otherwise the daemon is asked to stay quiet.
    const quiet = bool(p, "quiet") || !tty;
    const res = await cli.client().imageLoad(input as import("node:stream").Readable, { quiet });
    if ((res.headers["content-type"] ?? "").includes("json")) {
      await displayJsonMessages(res, cli.out, { tty, width: (cli.out as { columns?: number }).columns });
    } else {
      await pipeline(res, cli.out, { end: false });
    }
    return 0;
  },
};

/** Header text of each `history` field. */
export const HISTORY_HEADERS: Record<string, string> = {
  ID: "IMAGE",
  CreatedSince: "CREATED",
  CreatedAt: "CREATED AT",
  CreatedBy: "CREATED BY",
  Size: "SIZE",
  Comment: "COMMENT",
};

/** Go's time.RFC3339 in local time (`2006-01-02T15:04:05Z07:00`). */
function rfc3339(sec: number): string {
  const d = new Date(sec * 1000);
  const p = (n: number): string => String(n).padStart(2, "0");
  const off = -d.getTimezoneOffset();
  const zone =
    off === 0 ? "Z" : `${off > 0 ? "+" : "-"}${p(Math.trunc(Math.abs(off) / 60))}:${p(Math.abs(off) % 60)}`;
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}${zone}`;
}

/** One `history` row. */
export class HistoryContext {
  readonly #h: ImageHistoryResponseItem;
  readonly #trunc: boolean;
  readonly #human: boolean;
  readonly #now: number;
  constructor(h: ImageHistoryResponseItem, opts: { trunc: boolean; human: boolean; now?: number }) {
    this.#h = h;
    this.#trunc = opts.trunc;
    this.#human = opts.human;
    this.#now = opts.now ?? Date.now();
  }
  ID(): string {
    return this.#trunc && this.#h.Id !== "<missing>" ? shortId(this.#h.Id) : this.#h.Id;
  }
  CreatedAt(): string {
    return rfc3339(this.#h.Created);
  }
  CreatedSince(): string {
    if (!this.#human) return this.CreatedAt();
    return `${humanDuration(this.#now - this.#h.Created * 1000)} ago`;
  }
  CreatedBy(): string {
    const c = (this.#h.CreatedBy ?? "").replace(/\t/g, " ");
    return this.#trunc ? ellipsis(c, 45) : c;
  }
  Size(): string {
    return this.#human ? humanSize(this.#h.Size, 3) : String(this.#h.Size);
  }
  Comment(): string {
    return this.#h.Comment ?? "";
  }
  toJSON(): Record<string, string> {
    return contextJSON(this);
  }
}

const history: CommandDef = {
  spec: {
    name: "history",
    usage: "history [OPTIONS] IMAGE",
    desc: "Show the history of an image",
    aliases: ["image history", "history"],
    minArgs: 1,
    maxArgs: 1,
    flags: [
      flag.string("format", FORMAT_FLAG_DESC),
      flag.bool("human", "Print sizes and dates in human readable format", { short: "H", default: true }),
      flag.bool("no-trunc", "Don't truncate output"),
      flag.string(
        "platform",
        'Show history for the given platform. Formatted as "os[/arch[/variant]]" (e.g., "linux/amd64")',
      ),
      flag.bool("quiet", "Only show image IDs", { short: "q" }),
    ],
  },
  async run(cli, p) {
    const items = (await cli.client().imageHistory(p.args[0])) as unknown as ImageHistoryResponseItem[];
    const fmt = listFormat(p, {
      quiet: "{{.ID}}",
      table: "{{.ID}}\t{{.CreatedSince}}\t{{.CreatedBy}}\t{{.Size}}\t{{.Comment}}",
    });
    const now = Date.now();
    const rows = (items ?? []).map(
      (h) => new HistoryContext(h, { trunc: !bool(p, "no-trunc"), human: p.flags.human !== false, now }),
    );
    await write(cli.out, renderList(fmt, rows, { headers: HISTORY_HEADERS }));
    return 0;
  },
};

const prune = pruneCommand({
  name: "image prune",
  desc: "Remove unused images",
  filterExample: "until=<timestamp>",
  flags: [flag.bool("all", "Remove all unused images, not just dangling ones", { short: "a" })],
  warning: (p) =>
    bool(p, "all")
      ? "WARNING! This will remove all images without at least one container associated to them."
      : "WARNING! This will remove all dangling images.",
  async prune(cli, p, filters) {
    const r = await cli.client().imagePrune({ ...filters, dangling: [String(!bool(p, "all"))] });
    return imagePruneText(r.ImagesDeleted ?? [], r.SpaceReclaimed ?? 0);
  },
});

/** Docker's image prune report: `untagged:`/`deleted:` lines, then the space reclaimed. */
export function imagePruneText(
  deleted: { Untagged?: string; Deleted?: string }[],
  reclaimed: number,
): string {
  let s = "";
  if (deleted.length) {
    s += "Deleted Images:\n";
    for (const d of deleted) s += d.Untagged ? `untagged: ${d.Untagged}\n` : `deleted: ${d.Deleted}\n`;
    s += "\n";
  }
  return `${s}Total reclaimed space: ${humanSize(reclaimed, 4)}\n`;
}

/** The image transfer commands, by key. */
export const commands: Record<string, CommandDef> = { save, load, history, "image prune": prune };
