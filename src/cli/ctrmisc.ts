// Container odds and ends: top, pause, unpause, update, rename, port, diff, export, commit, prune.
import { createWriteStream } from "node:fs";
import { pipeline } from "node:stream/promises";
import type { ContainerUpdateRequest } from "../apitypes/index.ts";
import { type FlagSpec, flag } from "./args.ts";
import {
  type CommandDef,
  errorText,
  forEachTarget,
  int,
  list,
  pruneReport,
  StatusError,
  str,
  write,
} from "./common.ts";
import { tabwrite } from "./format/index.ts";
import { pruneCommand } from "./listing.ts";
import { bytesFlag as parseBytesFlag, parseRestart } from "./runconfig.ts";
import { humanSize } from "./units.ts";

const top: CommandDef = {
  spec: {
    name: "top",
    usage: "top CONTAINER [ps OPTIONS]",
    desc: "Display the running processes of a container",
    aliases: ["container top", "top"],
    minArgs: 1,
    interspersed: false,
    flags: [],
  },
  async run(cli, p) {
    const [ctr, ...psArgs] = p.args;
    const r = await cli.client().containerTop(ctr, { psArgs: psArgs.length ? psArgs.join(" ") : undefined });
    const lines = [r.Titles.join("\t"), ...r.Processes.map((row) => row.join("\t"))];
    await write(cli.out, tabwrite(`${lines.join("\n")}\n`, { minWidth: 20, padding: 3 }));
    return 0;
  },
};

function simple(
  name: string,
  desc: string,
  act: (cli: Parameters<CommandDef["run"]>[0], t: string) => Promise<void>,
) {
  const def: CommandDef = {
    spec: {
      name,
      usage: `${name} CONTAINER [CONTAINER...]`,
      desc,
      aliases: [`container ${name}`, name],
      minArgs: 1,
      flags: [],
    },
    run: (cli, p) =>
      forEachTarget(cli, p.args, async (t) => {
        await act(cli, t);
        return t;
      }),
  };
  return def;
}

const pause = simple("pause", "Pause all processes within one or more containers", (cli, t) =>
  cli.client().containerPause(t),
);
const unpause = simple("unpause", "Unpause all processes within one or more containers", (cli, t) =>
  cli.client().containerUnpause(t),
);

const UPDATE_FLAGS: FlagSpec[] = [
  flag.int("blkio-weight", "Block IO (relative weight), between 10 and 1000, or 0 to disable (default 0)", {
    typeName: "uint16",
  }),
  flag.int("cpu-period", "Limit CPU CFS (Completely Fair Scheduler) period"),
  flag.int("cpu-quota", "Limit CPU CFS (Completely Fair Scheduler) quota"),
  flag.int("cpu-rt-period", "Limit the CPU real-time period in microseconds"),
  flag.int("cpu-rt-runtime", "Limit the CPU real-time runtime in microseconds"),
  flag.int("cpu-shares", "CPU shares (relative weight)", { short: "c" }),
  flag.string("cpus", "Number of CPUs", { typeName: "decimal" }),
  flag.string("cpuset-cpus", "CPUs in which to allow execution (0-3, 0,1)"),
  flag.string("cpuset-mems", "MEMs in which to allow execution (0-3, 0,1)"),
  flag.string("memory", "Memory limit", { short: "m", typeName: "bytes" }),
  flag.string("memory-reservation", "Memory soft limit", { typeName: "bytes" }),
  flag.string("memory-swap", "Swap limit equal to memory plus swap: -1 to enable unlimited swap", {
    typeName: "bytes",
  }),
  flag.int("pids-limit", "Tune container pids limit (set -1 for unlimited)"),
  flag.string("restart", "Restart policy to apply when a container exits"),
];

function bytesFlag(p: Parameters<CommandDef["run"]>[1], name: string): number | undefined {
  return parseBytesFlag(p, name, { fail: (m) => new StatusError(125, `${m}\nSee 'wharf update --help'.`) });
}

const update: CommandDef = {
  spec: {
    name: "update",
    usage: "update [OPTIONS] CONTAINER [CONTAINER...]",
    desc: "Update configuration of one or more containers",
    aliases: ["container update", "update"],
    minArgs: 1,
    flags: UPDATE_FLAGS,
  },
  async run(cli, p) {
    if (p.set.size === 0)
      throw new StatusError(1, "you must provide one or more flags when using this command");
    const body: ContainerUpdateRequest = {};
    const setNum = (k: keyof ContainerUpdateRequest, v: number | undefined): void => {
      if (v !== undefined) (body as Record<string, unknown>)[k] = v;
    };
    setNum("BlkioWeight", int(p, "blkio-weight"));
    setNum("CpuPeriod", int(p, "cpu-period"));
    setNum("CpuQuota", int(p, "cpu-quota"));
    setNum("CpuRealtimePeriod", int(p, "cpu-rt-period"));
    setNum("CpuRealtimeRuntime", int(p, "cpu-rt-runtime"));
    setNum("CpuShares", int(p, "cpu-shares"));
    setNum("Memory", bytesFlag(p, "memory"));
    setNum("MemoryReservation", bytesFlag(p, "memory-reservation"));
    setNum("MemorySwap", bytesFlag(p, "memory-swap"));
    setNum("PidsLimit", int(p, "pids-limit"));
    if (str(p, "cpuset-cpus")) body.CpusetCpus = str(p, "cpuset-cpus");
    if (str(p, "cpuset-mems")) body.CpusetMems = str(p, "cpuset-mems");
    const cpus = str(p, "cpus");
    if (cpus) {
      const n = Number(cpus);
      if (!Number.isFinite(n) || n < 0)
        throw new StatusError(
          125,
          `invalid argument "${cpus}" for "--cpus" flag: failed to parse ${cpus} as a rational number`,
        );
      body.NanoCpus = Math.round(n * 1e9);
    }
    if (p.set.has("restart")) {
      try {
        body.RestartPolicy = parseRestart(str(p, "restart"));
      } catch (err) {
        throw new StatusError(1, (err as Error).message);
      }
    }
    const warnings: string[] = [];
    const code = await forEachTarget(cli, p.args, async (t) => {
      const r = await cli.client().containerUpdate(t, body);
      warnings.push(...(r?.Warnings ?? []));
      return t;
    });
    for (const w of warnings) await write(cli.err, `${w}\n`);
    return code;
  },
};

const rename: CommandDef = {
  spec: {
    name: "rename",
    usage: "rename CONTAINER NEW_NAME",
    desc: "Rename a container",
    aliases: ["container rename", "rename"],
    minArgs: 2,
    maxArgs: 2,
    flags: [],
  },
  async run(cli, p) {
    const [oldName, newName] = p.args.map((a) => a.trim());
    if (!oldName || !newName) throw new StatusError(1, "Error: Neither old nor new names may be empty");
    try {
      await cli.client().containerRename(oldName, newName);
    } catch (err) {
      throw new StatusError(1, `${errorText(err)}\nError: failed to rename container named ${oldName}`);
    }
    return 0;
  },
};

function hostPort(ip: string, port: string): string {
  return ip.includes(":") ? `[${ip}]:${port}` : `${ip}:${port}`;
}

const port: CommandDef = {
  spec: {
    name: "port",
    usage: "port CONTAINER [PRIVATE_PORT[/PROTO]]",
    desc: "List port mappings or a specific mapping for the container",
    aliases: ["container port", "port"],
    minArgs: 1,
    maxArgs: 2,
    flags: [],
  },
  async run(cli, p) {
    const [ctr, want] = p.args;
    const c = await cli.client().containerInspect(ctr);
    const ports = c.NetworkSettings?.Ports ?? {};
    if (want) {
      let [num, proto = "tcp"] = want.split("/");
      proto = proto.toLowerCase();
      if (!/^\d+$/.test(num) || Number(num) > 65535)
        throw new StatusError(1, `Error: invalid port (${num}): invalid syntax`);
      const key = `${Number(num)}/${proto}`;
      const bindings = ports[key];
      if (bindings?.length) {
        await write(cli.out, bindings.map((b) => `${hostPort(b.HostIp ?? "", b.HostPort ?? "")}\n`).join(""));
        return 0;
      }
      throw new StatusError(1, `Error: No public port '${want}' published for ${ctr}`);
    }
    const keys = Object.keys(ports).sort((a, b) => {
      const [pa, ta] = a.split("/");
      const [pb, tb] = b.split("/");
      return Number(pa) - Number(pb) || (ta < tb ? -1 : ta > tb ? 1 : 0);
    });
    let out = "";
    for (const k of keys)
      for (const b of ports[k] ?? []) out += `${k} -> ${hostPort(b.HostIp ?? "", b.HostPort ?? "")}\n`;
    await write(cli.out, out);
    return 0;
  },
};

const diff: CommandDef = {
  spec: {
    name: "diff",
    usage: "diff CONTAINER",
    desc: "Inspect changes to files or directories on a container's filesystem",
    aliases: ["container diff", "diff"],
    minArgs: 1,
    maxArgs: 1,
    flags: [],
  },
  async run(cli, p) {
    const changes = await cli.client().containerChanges(p.args[0]);
    const kinds = ["C", "A", "D"];
    await write(cli.out, changes.map((c) => `${kinds[c.Kind] ?? "?"} ${c.Path}\n`).join(""));
    return 0;
  },
};

const exportCmd: CommandDef = {
  spec: {
    name: "export",
    usage: "export [OPTIONS] CONTAINER",
    desc: "Export a container's filesystem as a tar archive",
    aliases: ["container export", "export"],
    minArgs: 1,
    maxArgs: 1,
    flags: [flag.string("output", "Write to a file, instead of STDOUT", { short: "o" })],
  },
  async run(cli, p) {
    const file = str(p, "output");
    if (!file && (cli.out as { isTTY?: boolean }).isTTY)
      throw new StatusError(1, "cowardly refusing to save to a terminal. Use the -o flag or redirect");
    const body = await cli.client().containerExport(p.args[0]);
    await pipeline(body, file ? createWriteStream(file) : cli.out, { end: !!file });
    return 0;
  },
};

const commit: CommandDef = {
  spec: {
    name: "commit",
    usage: "commit [OPTIONS] CONTAINER [REPOSITORY[:TAG]]",
    desc: "Create a new image from a container's changes",
    aliases: ["container commit", "commit"],
    minArgs: 1,
    maxArgs: 2,
    flags: [
      flag.string("author", 'Author (e.g., "John Hannibal Smith <hannibal@a-team.com>")', { short: "a" }),
      flag.list("change", "Apply Dockerfile instruction to the created image", { short: "c" }),
      flag.string("message", "Commit message", { short: "m" }),
      flag.bool("pause", "Pause container during commit", { short: "p", default: true }),
    ],
  },
  async run(cli, p) {
    const [ctr, ref] = p.args;
    let repo: string | undefined;
    let tag: string | undefined;
    if (ref) {
      const colon = ref.lastIndexOf(":");
      if (colon > ref.lastIndexOf("/")) {
        repo = ref.slice(0, colon);
        tag = ref.slice(colon + 1);
      } else repo = ref;
    }
    const r = await cli.client().commit({
      container: ctr,
      repo,
      tag,
      comment: str(p, "message") || undefined,
      author: str(p, "author") || undefined,
      pause: p.flags.pause !== false,
      changes: list(p, "change").length ? list(p, "change") : undefined,
    });
    await write(cli.out, `${r.Id}\n`);
    return 0;
  },
};

const prune = pruneCommand({
  name: "container prune",
  desc: "Remove all stopped containers",
  filterExample: "until=<timestamp>",
  warning: () => "WARNING! This will remove all stopped containers.",
  async prune(cli, _p, filters) {
    const r = await cli.client().containerPrune(filters);
    return pruneReport("Deleted Containers", r.ContainersDeleted ?? [], humanSize(r.SpaceReclaimed ?? 0, 4));
  },
});

/** The container odds and ends, by key. */
export const commands: Record<string, CommandDef> = {
  top,
  pause,
  unpause,
  update,
  rename,
  port,
  diff,
  export: exportCmd,
  commit,
  "container prune": prune,
};
