// `stats`: per-container usage computed from each frame the way docker's CLI does it, redrawn twice a
// second while streaming, or printed once with --no-stream.

import type { EventMessage, StatsFrame } from "../apitypes/index.ts";
import { jsonLines } from "../client/index.ts";
import { bytesSize } from "../util/index.ts";
import { flag } from "./args.ts";
import { bool, type Cli, type CommandDef, errorText, FORMAT_FLAG_DESC, str, write } from "./common.ts";
import { contextJSON, parseFormat, renderList } from "./format/index.ts";
import { humanSize, shortId } from "./units.ts";

/** The numbers of one stats row, as docker's StatsEntry holds them. */
export interface StatsEntry {
  container: string;
  name: string;
  id: string;
  cpuPercent: number;
  memory: number;
  memoryLimit: number;
  memoryPercent: number;
  netRx: number;
  netTx: number;
  blockRead: number;
  blockWrite: number;
  pids: number;
  invalid: boolean;
}

/** CPU % from a frame and its `precpu_stats`: the container's share of system time times the CPUs online. */
export function cpuPercent(f: StatsFrame): number {
  const cpuDelta = (f.cpu_stats?.cpu_usage?.total_usage ?? 0) - (f.precpu_stats?.cpu_usage?.total_usage ?? 0);
  const sysDelta = (f.cpu_stats?.system_cpu_usage ?? 0) - (f.precpu_stats?.system_cpu_usage ?? 0);
  let online = f.cpu_stats?.online_cpus ?? 0;
  if (!online) online = f.cpu_stats?.cpu_usage?.percpu_usage?.length ?? 0;
  return sysDelta > 0 && cpuDelta > 0 ? (cpuDelta / sysDelta) * online * 100 : 0;
}

/** Memory in use minus the inactive page cache (cgroup v1 `total_inactive_file`, v2 `inactive_file`). */
export function memUsageNoCache(m: StatsFrame["memory_stats"]): number {
  const usage = m?.usage ?? 0;
  const st = m?.stats ?? {};
  if ("total_inactive_file" in st) {
    if (st.total_inactive_file < usage) return usage - st.total_inactive_file;
    return usage;
  }
  const inactive = st.inactive_file ?? 0;
  return inactive < usage ? usage - inactive : usage;
}

/** One frame turned into a row's numbers. */
export function entryFromFrame(container: string, f: StatsFrame): StatsEntry {
  const memory = memUsageNoCache(f.memory_stats);
  const memoryLimit = f.memory_stats?.limit ?? 0;
  let blockRead = 0;
  let blockWrite = 0;
  for (const e of f.blkio_stats?.io_service_bytes_recursive ?? []) {
    const op = (e.op ?? "").toLowerCase();
    if (op.startsWith("r")) blockRead += e.value;
    else if (op.startsWith("w")) blockWrite += e.value;
  }
  let netRx = 0;
  let netTx = 0;
  for (const n of Object.values(f.networks ?? {})) {
    netRx += n.rx_bytes;
    netTx += n.tx_bytes;
  }
  return {
    container,
    name: f.name ?? "",
    id: f.id ?? "",
    cpuPercent: cpuPercent(f),
    memory,
    memoryLimit,
    memoryPercent: memoryLimit ? (memory / memoryLimit) * 100 : 0,
    netRx,
    netTx,
    blockRead,
    blockWrite,
    pids: f.pids_stats?.current ?? 0,
    invalid: false,
  };
}

export { bytesSize };

/** Header text of each stats field. */
export const STATS_HEADERS: Record<string, string> = {
  Container: "CONTAINER",
  ID: "CONTAINER ID",
  Name: "NAME",
  CPUPerc: "CPU %",
  MemUsage: "MEM USAGE / LIMIT",
  MemPerc: "MEM %",
  NetIO: "NET I/O",
  BlockIO: "BLOCK I/O",
  PIDs: "PIDS",
};

const STATS_TABLE =
  "{{.ID}}\t{{.Name}}\t{{.CPUPerc}}\t{{.MemUsage}}\t{{.MemPerc}}\t{{.NetIO}}\t{{.BlockIO}}\t{{.PIDs}}";

/** One stats row as `--format` templates see it. */
export class StatsContext {
  readonly #e: StatsEntry;
  readonly #trunc: boolean;

  constructor(e: StatsEntry, trunc: boolean) {
    this.#e = e;
    this.#trunc = trunc;
  }
  Container(): string {
    return this.#e.container;
  }
  Name(): string {
    return this.#e.name.length > 1 ? this.#e.name.slice(1) : "--";
  }
  ID(): string {
    return this.#trunc ? shortId(this.#e.id) : this.#e.id;
  }
  CPUPerc(): string {
    return this.#e.invalid ? "--" : `${this.#e.cpuPercent.toFixed(2)}%`;
  }
  MemUsage(): string {
    return this.#e.invalid ? "-- / --" : `${bytesSize(this.#e.memory)} / ${bytesSize(this.#e.memoryLimit)}`;
  }
  MemPerc(): string {
    return this.#e.invalid ? "--" : `${this.#e.memoryPercent.toFixed(2)}%`;
  }
  NetIO(): string {
    return this.#e.invalid ? "--" : `${humanSize(this.#e.netRx, 3)} / ${humanSize(this.#e.netTx, 3)}`;
  }
  BlockIO(): string {
    return this.#e.invalid
      ? "--"
      : `${humanSize(this.#e.blockRead, 3)} / ${humanSize(this.#e.blockWrite, 3)}`;
  }
  PIDs(): string {
    return this.#e.invalid ? "--" : String(this.#e.pids);
  }
  toJSON(): Record<string, string> {
    return contextJSON(this);
  }
}

/** A container being watched: its latest numbers, an error, and how to stop watching. */
interface Watched {
  entry: StatsEntry;
  error?: string;
  first: Promise<void>;
  abort: AbortController;
}

function watch(cli: Cli, container: string, stream: boolean): Watched {
  const abort = new AbortController();
  const w: Watched = {
    entry: { ...entryFromFrame(container, {}), invalid: true },
    abort,
    first: Promise.resolve(),
  };
  w.first = new Promise<void>((resolveFirst) => {
    (async () => {
      try {
        const res = await cli.client().containerStats(container, { stream, signal: abort.signal });
        for await (const f of jsonLines<StatsFrame>(res)) {
          w.entry = entryFromFrame(container, f);
          w.error = undefined;
          resolveFirst();
        }
      } catch (err) {
        if (!abort.signal.aborted) {
          w.error = errorText(err);
          w.entry = { ...w.entry, invalid: true };
        }
      }
      resolveFirst();
    })();
  });
  return w;
}

const stats: CommandDef = {
  spec: {
    name: "stats",
    usage: "stats [OPTIONS] [CONTAINER...]",
    desc: "Display a live stream of container(s) resource usage statistics",
    aliases: ["container stats", "stats"],
    flags: [
      flag.bool("all", "Show all containers (default shows just running)", { short: "a" }),
      flag.string("format", FORMAT_FLAG_DESC),
      flag.bool("no-stream", "Disable streaming stats and only pull the first result"),
      flag.bool("no-trunc", "Do not truncate output"),
    ],
  },
  async run(cli, p) {
    const client = cli.client();
    const stream = !bool(p, "no-stream");
    const all = bool(p, "all");
    const showAll = p.args.length === 0;
    const watched = new Map<string, Watched>();
    const add = (name: string): void => {
      if (!watched.has(name)) watched.set(name, watch(cli, name, stream));
    };
    const events = new AbortController();
    if (showAll) {
      if (stream) {
        // Subscribed before listing, so a container started in between is not missed.
        const res = await client.events({ filters: { type: ["container"] } }, { signal: events.signal });
        (async () => {
          for await (const e of jsonLines<EventMessage>(res)) {
            const cid = shortId(e.Actor?.ID ?? "");
            if (e.Action === "start" || (e.Action === "create" && all)) add(cid);
            else if (e.Action === "die" && !all) {
              watched.get(cid)?.abort.abort();
              watched.delete(cid);
            }
          }
        })().catch(() => undefined);
      }
      for (const c of await client.containerList({ all })) add(shortId(c.Id));
    } else {
      for (const name of p.args) add(name);
    }
    await Promise.all([...watched.values()].map((w) => w.first));
    if (!showAll) {
      const errs = [...watched.values()].flatMap((w) => (w.error ? [w.error] : []));
      if (errs.length) {
        for (const w of watched.values()) w.abort.abort();
        await write(cli.err, `${errs.join("\n")}\n`);
        return 1;
      }
    }
    const fmt = parseFormat(str(p, "format") || undefined, STATS_TABLE);
    const trunc = !bool(p, "no-trunc");
    const stop = new Promise<void>((resolve) => {
      process.once("SIGINT", () => resolve());
    });
    try {
      for (;;) {
        const rows = [...watched.values()].map((w) => new StatsContext(w.entry, trunc));
        let text = renderList(fmt, rows, { headers: STATS_HEADERS });
        if (stream) text = `\x1b[2J\x1b[H${text}`;
        await write(cli.out, text);
        if (!stream || (watched.size === 0 && !showAll)) break;
        const tick = new Promise<"tick">((r) => setTimeout(() => r("tick"), 500));
        if ((await Promise.race([tick, stop.then(() => "stop" as const)])) === "stop") break;
        if (!showAll && [...watched.values()].every((w) => w.error)) break;
      }
    } finally {
      events.abort();
      for (const w of watched.values()) w.abort.abort();
    }
    return 0;
  },
};

/** The stats command. */
export const commands: Record<string, CommandDef> = { stats };
