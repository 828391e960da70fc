// `system df` and `system prune`.

import type { DiskUsage } from "../apitypes/index.ts";
import { flag } from "./args.ts";
import { bool, type CommandDef, confirm, filtersFrom, list, pruneReport, str, write } from "./common.ts";
import { contextJSON, parseFormat, renderList } from "./format/index.ts";
import { imagePruneText } from "./imagexfer.ts";
import { humanSize } from "./units.ts";

/** One `system df` row: a resource type's totals. */
export class DfRow {
  readonly #type: string;
  readonly #total: number;
  readonly #active: number;
  readonly #size: number;
  readonly #reclaimable: number;
  readonly #percent: boolean;
  constructor(
    type: string,
    n: { total: number; active: number; size: number; reclaimable: number; percent: boolean },
  ) {
    this.#type = type;
    this.#total = n.total;
    this.#active = n.active;
    this.#size = n.size;
    this.#reclaimable = n.reclaimable;
    this.#percent = n.percent;
  }
  Type(): string {
    return this.#type;
  }
  TotalCount(): string {
    return String(this.#total);
  }
  Active(): string {
    return String(this.#active);
  }
  Size(): string {
    return humanSize(this.#size, 4);
  }
  Reclaimable(): string {
    const r = humanSize(this.#reclaimable, 4);
    if (this.#percent && this.#size > 0)
      return `${r} (${Math.trunc((this.#reclaimable * 100) / this.#size)}%)`;
    return r;
  }
  toJSON(): Record<string, string> {
    return contextJSON(this);
  }
}

/** The four rows docker shows, computed from `GET /system/df` as its formatter does. */
export function dfRows(du: DiskUsage): DfRow[] {
  const images = du.Images ?? [];
  const ctrs = du.Containers ?? [];
  const vols = du.Volumes ?? [];
  const cache = du.BuildCache ?? [];
  let usedByImages = 0;
  for (const i of images) {
    if (i.Containers !== 0 && i.Size !== -1 && i.SharedSize !== -1) usedByImages += i.Size - i.SharedSize;
  }
  const layers = du.LayersSize ?? 0;
  const active = (s: string | undefined): boolean => /running|paused|restarting/.test(s ?? "");
  const ctrSize = ctrs.reduce((a, c) => a + (c.SizeRw ?? 0), 0);
  const ctrFree = ctrs.filter((c) => !active(c.State)).reduce((a, c) => a + (c.SizeRw ?? 0), 0);
  const volSize = vols.reduce((a, v) => a + Math.max(0, v.UsageData?.Size ?? 0), 0);
  const volFree = vols
    .filter((v) => (v.UsageData?.RefCount ?? 0) === 0)
    .reduce((a, v) => a + Math.max(0, v.UsageData?.Size ?? 0), 0);
  return [
    new DfRow("Images", {
      total: images.length,
      active: images.filter((i) => i.Containers > 0).length,
      size: layers,
      reclaimable: layers - usedByImages,
      percent: true,
    }),
    new DfRow("Containers", {
      total: ctrs.length,
      active: ctrs.filter((c) => active(c.State)).length,
      size: ctrSize,
      reclaimable: ctrFree,
      percent: true,
    }),
    new DfRow("Local Volumes", {
      total: vols.length,
      active: vols.filter((v) => (v.UsageData?.RefCount ?? 0) > 0).length,
      size: volSize,
      reclaimable: volFree,
      percent: true,
    }),
    new DfRow("Build Cache", {
      total: cache.length,
      active: cache.filter((c) => c.InUse).length,
      // The docker CLI leaves out records shared with images: their bytes are counted there.
      size: cache.filter((c) => !c.Shared).reduce((a, c) => a + c.Size, 0),
      reclaimable: cache.filter((c) => !c.InUse && !c.Shared).reduce((a, c) => a + c.Size, 0),
      percent: false,
    }),
  ];
}

const DF_HEADERS: Record<string, string> = {
  Type: "TYPE",
  TotalCount: "TOTAL",
  Active: "ACTIVE",
  Size: "SIZE",
  Reclaimable: "RECLAIMABLE",
};

const df: CommandDef = {
  spec: {
    name: "system df",
    usage: "system df [OPTIONS]",
    desc: "Show docker disk usage",
    maxArgs: 0,
    flags: [
      flag.string("format", "Format output using a custom template"),
      flag.bool("verbose", "Show detailed information on space usage", { short: "v" }),
    ],
  },
  async run(cli, p) {
    const du = await cli.client().systemDf();
    const fmt = parseFormat(
      str(p, "format") || undefined,
      "{{.Type}}\t{{.TotalCount}}\t{{.Active}}\t{{.Size}}\t{{.Reclaimable}}",
    );
    await write(cli.out, renderList(fmt, dfRows(du), { headers: DF_HEADERS }));
    return 0;
  },
};

const prune: CommandDef = {
  spec: {
    name: "system prune",
    usage: "system prune [OPTIONS]",
    desc: "Remove unused data",
    maxArgs: 0,
    flags: [
      flag.bool("all", "Remove all unused images not just dangling ones", { short: "a" }),
      flag.list("filter", 'Provide filter values (e.g. "label=<key>=<value>")', { typeName: "filter" }),
      flag.bool("force", "Do not prompt for confirmation", { short: "f" }),
      flag.bool("volumes", "Prune anonymous volumes"),
    ],
  },
  async run(cli, p) {
    const all = bool(p, "all");
    const volumes = bool(p, "volumes");
    const lines = [
      "  - all stopped containers",
      "  - all networks not used by at least one container",
      ...(volumes ? ["  - all anonymous volumes not used by at least one container"] : []),
      all ? "  - all images without at least one container associated to them" : "  - all dangling images",
      all ? "  - all build cache" : "  - unused build cache",
    ];
    if (!bool(p, "force") && !(await confirm(cli, `WARNING! This will remove:\n${lines.join("\n")}\n`)))
      return 0;
    const client = cli.client();
    const filters = filtersFrom(list(p, "filter"));
    let reclaimed = 0;
    let out = "";
    const c = await client.containerPrune(filters);
    reclaimed += c.SpaceReclaimed ?? 0;
    out += pruneReport("Deleted Containers", c.ContainersDeleted ?? [], undefined);
    const n = await client.networkPrune(filters);
    out += pruneReport("Deleted Networks", n.NetworksDeleted ?? [], undefined);
    if (volumes) {
      const v = await client.volumePrune(filters);
      reclaimed += v.SpaceReclaimed ?? 0;
      out += pruneReport("Deleted Volumes", v.VolumesDeleted ?? [], undefined);
    }
    const i = await client.imagePrune({ ...filters, dangling: [String(!all)] });
    reclaimed += i.SpaceReclaimed ?? 0;
    if (i.ImagesDeleted?.length)
      out += imagePruneText(i.ImagesDeleted, 0).replace(/Total reclaimed space.*\n$/, "");
    // As with docker, a failure here (a daemon without a build cache API) fails the whole command.
    const b = await client.buildPrune({ all: all || undefined, filters });
    reclaimed += b.SpaceReclaimed ?? 0;
    out += pruneReport("Deleted build cache objects", b.CachesDeleted ?? [], undefined);
    await write(cli.out, `${out}Total reclaimed space: ${humanSize(reclaimed, 4)}\n`);
    return 0;
  },
};

/** The system df/prune commands, by key. */
export const commands: Record<string, CommandDef> = { "system df": df, "system prune": prune };
