// `volume create/ls/inspect/rm/prune`, with docker's flags, columns and messages.

import type { Volume } from "../apitypes/index.ts";
import { flag } from "./args.ts";
import {
  bool,
  type CommandDef,
  FORMAT_FLAG_DESC,
  filterFlag,
  filtersFrom,
  forEachTarget,
  kvMap,
  labelsText,
  list,
  naturalLess,
  pruneReport,
  StatusError,
  str,
  write,
} from "./common.ts";
import { contextJSON, renderList } from "./format/index.ts";
import { listFormat, pruneCommand } from "./listing.ts";
import { humanSize } from "./units.ts";

/** Header text of each `volume ls` field. */
export const VOLUME_HEADERS: Record<string, string> = {
  Name: "VOLUME NAME",
  Driver: "DRIVER",
  Scope: "SCOPE",
  Mountpoint: "MOUNTPOINT",
  Labels: "LABELS",
  Label: "LABEL",
  Links: "LINKS",
  Size: "SIZE",
  Group: "GROUP",
  Availability: "AVAILABILITY",
  Status: "STATUS",
};

/** One `volume ls` row. */
export class VolumeContext {
  readonly #v: Volume;
  constructor(v: Volume) {
    this.#v = v;
  }
  Name(): string {
    return this.#v.Name;
  }
  Driver(): string {
    return this.#v.Driver;
  }
  Scope(): string {
    return this.#v.Scope;
  }
  Mountpoint(): string {
    return this.#v.Mountpoint;
  }
  Labels(): string {
    return labelsText(this.#v.Labels);
  }
  Label(name: unknown): string {
    return this.#v.Labels?.[String(name)] ?? "";
  }
  Links(): string {
    const u = this.#v.UsageData;
    return u && u.RefCount !== -1 ? String(u.RefCount) : "N/A";
  }
  Size(): string {
    const u = this.#v.UsageData;
    return u && u.Size !== -1 ? humanSize(u.Size, 4) : "N/A";
  }
  Group(): string {
    return "N/A";
  }
  Availability(): string {
    return "N/A";
  }
  Status(): string {
    return "N/A";
  }
  toJSON(): Record<string, string> {
    return contextJSON(this);
  }
}

const create: CommandDef = {
  spec: {
    name: "volume create",
    usage: "volume create [OPTIONS] [VOLUME]",
    desc: "Create a volume",
    maxArgs: 1,
    flags: [
      flag.string("driver", "Specify volume driver name", { short: "d", default: "local" }),
      flag.list("label", "Set metadata for a volume"),
      flag.string("name", "Specify volume name", { hidden: true }),
      flag.list("opt", "Set driver specific options", { short: "o", typeName: "map" }),
    ],
  },
  async run(cli, p) {
    let name = str(p, "name");
    if (p.args[0]) {
      if (name)
        throw new StatusError(
          1,
          "conflicting options: cannot specify a volume-name through both --name and as a positional arg",
        );
      name = p.args[0];
    }
    const v = await cli.client().volumeCreate({
      Driver: str(p, "driver") || "local",
      DriverOpts: kvMap(list(p, "opt")),
      Labels: kvMap(list(p, "label")),
      Name: name,
    });
    await write(cli.out, `${v.Name}\n`);
    return 0;
  },
};

const ls: CommandDef = {
  spec: {
    name: "volume ls",
    usage: "volume ls [OPTIONS]",
    desc: "List volumes",
    aliases: ["volume ls", "volume list"],
    maxArgs: 0,
    flags: [
      filterFlag('Provide filter values (e.g. "dangling=true")', { short: true }),
      flag.string("format", FORMAT_FLAG_DESC),
      flag.bool("quiet", "Only display volume names", { short: "q" }),
      flag.bool("cluster", "Display only cluster volumes, and use cluster volume list formatting", {
        hidden: true,
      }),
    ],
  },
  async run(cli, p) {
    const r = await cli.client().volumeList(filtersFrom(list(p, "filter")));
    const vols = (r.Volumes ?? []).slice().sort((a, b) => naturalLess(a.Name, b.Name));
    const fmt = listFormat(p, { quiet: "{{.Name}}", table: "{{.Driver}}\t{{.Name}}" });
    await write(
      cli.out,
      renderList(
        fmt,
        vols.map((v) => new VolumeContext(v)),
        { headers: VOLUME_HEADERS },
      ),
    );
    return 0;
  },
};

const rm: CommandDef = {
  spec: {
    name: "volume rm",
    usage: "volume rm [OPTIONS] VOLUME [VOLUME...]",
    desc: "Remove one or more volumes",
    aliases: ["volume rm", "volume remove"],
    minArgs: 1,
    flags: [flag.bool("force", "Force the removal of one or more volumes", { short: "f" })],
  },
  run(cli, p) {
    return forEachTarget(cli, p.args, async (name) => {
      await cli.client().volumeRemove(name, { force: bool(p, "force") });
      return name;
    });
  },
};

const prune = pruneCommand({
  name: "volume prune",
  desc: "Remove unused local volumes",
  filterExample: "label=<label>",
  flags: [flag.bool("all", "Remove all unused volumes, not just anonymous ones", { short: "a" })],
  warning: (p) =>
    bool(p, "all")
      ? "WARNING! This will remove all local volumes not used by at least one container."
      : "WARNING! This will remove anonymous local volumes not used by at least one container.",
  async prune(cli, p, parsed) {
    const filters = { ...parsed, ...(bool(p, "all") ? { all: ["true"] } : {}) };
    const r = await cli.client().volumePrune(Object.keys(filters).length ? filters : undefined);
    return pruneReport("Deleted Volumes", r.VolumesDeleted ?? [], humanSize(r.SpaceReclaimed ?? 0, 4));
  },
});

/** The volume commands, by key. */
export const commands: Record<string, CommandDef> = {
  "volume create": create,
  "volume ls": ls,
  "volume rm": rm,
  "volume prune": prune,
};
