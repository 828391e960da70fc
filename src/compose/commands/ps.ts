/** `compose ps`, `ls`, `top`, `images`, `port`, `version`: read-only views of a project. */
import type { ContainerSummary, Port } from "../../apitypes/index.ts";
import { humanDuration, humanSize } from "../../util/index.ts";
import { COMPOSE_VERSION, LABELS } from "../model.ts";
import { bool, type Flag, flag, int, list, parseFlags, str } from "./args.ts";
import type { ComposeContext } from "./context.ts";

/** Left-aligned columns separated by three spaces, as Go's tabwriter prints docker's tables. */
export function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (r: string[]) =>
    r
      .map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i])))
      .join("   ")
      .trimEnd();
  return `${[header, ...rows].map(line).join("\n")}\n`;
}

/** `0.0.0.0:8080->80/tcp, :::8080->80/tcp` as docker prints ports. */
export function formatPorts(ports: Port[]): string {
  const parts = [...ports]
    .sort((a, b) => a.PrivatePort - b.PrivatePort || (a.IP ?? "").localeCompare(b.IP ?? ""))
    .map((p) => {
      if (p.PublicPort === undefined || p.PublicPort === 0) return `${p.PrivatePort}/${p.Type}`;
      const ip = p.IP?.includes(":") ? `[${p.IP}]` : (p.IP ?? "");
      return `${ip}:${p.PublicPort}->${p.PrivatePort}/${p.Type}`;
    });
  return [...new Set(parts)].join(", ");
}

function truncate(s: string, n: number): string {
  return s.length > n ? `${s.slice(0, n - 1)}…` : s;
}

/** Fills `{{.Field}}` (and `{{json .}}`) in a --format template from an object. */
function render(template: string, o: Record<string, unknown>): string {
  const t = template.replace(/\\t/g, "\t").replace(/\\n/g, "\n");
  return t.replace(
    /\{\{\s*(json\s+)?\.([A-Za-z]*)\s*\}\}/g,
    (_m, json: string | undefined, field: string) => {
      const v = field ? o[field] : o;
      return json
        ? JSON.stringify(v)
        : v === undefined || v === null
          ? ""
          : typeof v === "object"
            ? JSON.stringify(v)
            : String(v);
    },
  );
}

interface PsRow {
  ID: string;
  Name: string;
  Image: string;
  Command: string;
  Project: string;
  Service: string;
  Created: number;
  State: string;
  Status: string;
  Health: string;
  ExitCode: number;
  Publishers: { URL: string; TargetPort: number; PublishedPort: number; Protocol: string }[];
  Ports: string;
  Labels: string;
  LocalVolumes: string;
  Mounts: string;
  Networks: string;
  RunningFor: string;
  Size: string;
}

function psRow(c: ContainerSummary): PsRow {
  const l = c.Labels ?? {};
  const health =
    /\((healthy|unhealthy|health: starting)\)/.exec(c.Status ?? "")?.[1]?.replace("health: ", "") ?? "";
  const exit = /Exited \((\d+)\)/.exec(c.Status ?? "");
  return {
    ID: c.Id,
    Name: (c.Names?.[0] ?? "").replace(/^\//, ""),
    Image: c.Image,
    Command: c.Command,
    Project: l[LABELS.project] ?? "",
    Service: l[LABELS.service] ?? "",
    Created: c.Created,
    State: c.State,
    Status: c.Status,
    Health: health,
    ExitCode: exit ? Number(exit[1]) : 0,
    Publishers: (c.Ports ?? []).map((p) => ({
      URL: p.IP ?? "",
      TargetPort: p.PrivatePort,
      PublishedPort: p.PublicPort ?? 0,
      Protocol: p.Type,
    })),
    Ports: formatPorts(c.Ports ?? []),
    Labels: Object.entries(l)
      .map(([k, v]) => `${k}=${v}`)
      .join(","),
    LocalVolumes: String((c.Mounts ?? []).filter((m) => m.Type === "volume").length),
    Mounts: (c.Mounts ?? []).map((m) => m.Name ?? m.Source ?? "").join(","),
    Networks: Object.keys(c.NetworkSettings?.Networks ?? {}).join(","),
    RunningFor: `${humanDuration(Date.now() - c.Created * 1000)} ago`,
    Size: "0B",
  };
}

/** Flags of `ps`. */
export const PS_FLAGS: Flag[] = [
  flag.bool("all", "Show all stopped containers (including those created by the run command)", {
    short: "a",
  }),
  flag.bool("quiet", "Only display IDs", { short: "q" }),
  flag.bool("services", "Display services"),
  flag.string("format", "Format output using a custom template ('table', 'json', or a Go template)", {
    default: "table",
  }),
  flag.list("status", "Filter services by status"),
  flag.list("filter", "Filter services by a property (status=running)"),
  flag.bool("no-trunc", "Don't truncate output"),
  flag.bool("orphans", "Include orphaned services (not declared by project)", { default: true }),
];

/** Runs `ps`. */
export async function psCommand(ctx: ComposeContext, argv: string[]): Promise<number> {
  const f = parseFlags(argv, PS_FLAGS);
  const { name, project } = await ctx.projectName();
  if (project) for (const s of f.args) if (!project.services[s]) throw new Error(`no such service: ${s}`);
  const statuses = [
    ...list(f, "status"),
    ...list(f, "filter")
      .filter((x) => x.startsWith("status="))
      .map((x) => x.slice("status=".length)),
  ];
  let cs = await ctx.engine().client.containerList({
    all: bool(f, "all") || statuses.length > 0,
    filters: { label: [`${LABELS.project}=${name}`] },
  });
  cs = cs.filter((c) => {
    const l = c.Labels ?? {};
    // Some engines treat any filter as `all`; without -a only live containers are shown.
    if (!bool(f, "all") && statuses.length === 0 && !["running", "paused", "restarting"].includes(c.State))
      return false;
    if (!bool(f, "all") && l[LABELS.oneoff] === "True") return false;
    if (f.args.length > 0 && !f.args.includes(l[LABELS.service] ?? "")) return false;
    if (statuses.length > 0 && !statuses.includes(c.State)) return false;
    if (f.flags.orphans === false && project && !project.services[l[LABELS.service] ?? ""]) return false;
    return true;
  });
  const rows = cs.map(psRow).sort((a, b) => a.Name.localeCompare(b.Name));
  if (bool(f, "services")) {
    ctx.print([...new Set(rows.map((r) => r.Service))].map((s) => `${s}\n`).join(""));
    return 0;
  }
  if (bool(f, "quiet")) {
    ctx.print(rows.map((r) => `${r.ID}\n`).join(""));
    return 0;
  }
  const format = str(f, "format") ?? "table";
  if (format === "json") {
    ctx.print(rows.map((r) => `${JSON.stringify(r)}\n`).join(""));
    return 0;
  }
  if (format !== "table" && !format.startsWith("table ")) {
    ctx.print(rows.map((r) => `${render(format, r as unknown as Record<string, unknown>)}\n`).join(""));
    return 0;
  }
  const noTrunc = bool(f, "no-trunc");
  ctx.print(
    table(
      ["NAME", "IMAGE", "COMMAND", "SERVICE", "CREATED", "STATUS", "PORTS"],
      rows.map((r) => [
        r.Name,
        r.Image,
        JSON.stringify(noTrunc ? r.Command : truncate(r.Command, 20)),
        r.Service,
        r.RunningFor,
        r.Status,
        r.Ports,
      ]),
    ),
  );
  return 0;
}

/** Runs `ls`: projects with containers on the engine. */
export async function lsCommand(ctx: ComposeContext, argv: string[]): Promise<number> {
  const f = parseFlags(argv, [
    flag.bool("all", "Show all stopped Compose projects", { short: "a" }),
    flag.bool("quiet", "Only display project names", { short: "q" }),
    flag.string("format", "Format the output. Values: [table | json]", { default: "table" }),
    flag.list("filter", "Filter output based on conditions provided"),
  ]);
  const cs = await ctx.engine().client.containerList({ all: true, filters: { label: [LABELS.project] } });
  const projects = new Map<string, { states: Map<string, number>; files: string }>();
  for (const c of cs) {
    const l = c.Labels ?? {};
    const p = l[LABELS.project];
    if (!p) continue;
    const e = projects.get(p) ?? { states: new Map(), files: l[LABELS.configFiles] ?? "" };
    e.states.set(c.State, (e.states.get(c.State) ?? 0) + 1);
    projects.set(p, e);
  }
  const names = list(f, "filter")
    .filter((x) => x.startsWith("name="))
    .map((x) => x.slice(5));
  const rows = [...projects.entries()]
    .filter(([, e]) => bool(f, "all") || e.states.has("running"))
    .filter(([n]) => names.length === 0 || names.some((x) => n.includes(x)))
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([n, e]) => ({
      Name: n,
      Status: [...e.states.entries()]
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([s, k]) => `${s}(${k})`)
        .join(", "),
      ConfigFiles: e.files,
    }));
  if (bool(f, "quiet")) ctx.print(rows.map((r) => `${r.Name}\n`).join(""));
  else if (str(f, "format") === "json") ctx.print(`${JSON.stringify(rows)}\n`);
  else
    ctx.print(
      table(
        ["NAME", "STATUS", "CONFIG FILES"],
        rows.map((r) => [r.Name, r.Status, r.ConfigFiles]),
      ),
    );
  return 0;
}

/** Runs `top`. */
export async function topCommand(ctx: ComposeContext, argv: string[]): Promise<number> {
  const f = parseFlags(argv, []);
  const { name } = await ctx.projectName();
  const cs = await ctx.engine().client.containerList({ filters: { label: [`${LABELS.project}=${name}`] } });
  const rows = cs
    .map(psRow)
    .filter((r) => r.State === "running")
    .filter((r) => f.args.length === 0 || f.args.includes(r.Service))
    .sort((a, b) => a.Name.localeCompare(b.Name));
  for (const r of rows) {
    const top = await ctx.engine().client.containerTop(r.ID);
    ctx.print(`${r.Name}\n${table(top.Titles ?? [], top.Processes ?? [])}\n`);
  }
  return 0;
}

/** Runs `images`. */
export async function imagesCommand(ctx: ComposeContext, argv: string[]): Promise<number> {
  const f = parseFlags(argv, [
    flag.bool("quiet", "Only display IDs", { short: "q" }),
    flag.string("format", "Format the output. Values: [table | json]", { default: "table" }),
  ]);
  const { name } = await ctx.projectName();
  const cs = await ctx
    .engine()
    .client.containerList({ all: true, filters: { label: [`${LABELS.project}=${name}`] } });
  const rows: { ContainerName: string; Repository: string; Tag: string; ID: string; Size: number }[] = [];
  for (const c of cs.map((x) => ({ c: x, r: psRow(x) })).sort((a, b) => a.r.Name.localeCompare(b.r.Name))) {
    if (f.args.length > 0 && !f.args.includes(c.r.Service)) continue;
    const img = await ctx
      .engine()
      .client.imageInspect(c.c.ImageID || c.c.Image)
      .catch(() => undefined);
    const tag = img?.RepoTags?.[0] ?? c.c.Image;
    const i = tag.lastIndexOf(":");
    const [repo, t] = i > tag.lastIndexOf("/") ? [tag.slice(0, i), tag.slice(i + 1)] : [tag, "latest"];
    rows.push({
      ContainerName: c.r.Name,
      Repository: repo,
      Tag: t,
      ID: img?.Id ?? c.c.ImageID,
      Size: img?.Size ?? 0,
    });
  }
  if (bool(f, "quiet")) ctx.print([...new Set(rows.map((r) => r.ID))].map((x) => `${x}\n`).join(""));
  else if (str(f, "format") === "json") ctx.print(`${JSON.stringify(rows)}\n`);
  else {
    ctx.print(
      table(
        ["CONTAINER", "REPOSITORY", "TAG", "IMAGE ID", "SIZE"],
        rows.map((r) => [
          r.ContainerName,
          r.Repository,
          r.Tag,
          r.ID.replace(/^sha256:/, "").slice(0, 12),
          humanSize(r.Size),
        ]),
      ),
    );
  }
  return 0;
}

/** Runs `port SERVICE PRIVATE_PORT`. */
export async function portCommand(ctx: ComposeContext, argv: string[]): Promise<number> {
  const f = parseFlags(argv, [
    flag.string("protocol", "tcp or udp", { default: "tcp" }),
    flag.int("index", "Index of the container if service has multiple replicas", { default: 1 }),
  ]);
  const [service, port] = f.args;
  if (!service || !port) throw new Error('"compose port" requires exactly 2 arguments: SERVICE PRIVATE_PORT');
  const { name } = await ctx.projectName();
  const cs = await ctx.engine().client.containerList({
    all: true,
    filters: {
      label: [
        `${LABELS.project}=${name}`,
        `${LABELS.service}=${service}`,
        `${LABELS.number}=${int(f, "index") ?? 1}`,
      ],
    },
  });
  if (cs.length === 0) throw new Error(`service "${service}" is not running`);
  const proto = str(f, "protocol") ?? "tcp";
  const p = (cs[0].Ports ?? []).find(
    (x) => x.PrivatePort === Number(port) && x.Type === proto && x.PublicPort,
  );
  if (!p) throw new Error(`no port ${port}/${proto} for container ${psRow(cs[0]).Name}`);
  ctx.print(`${p.IP ?? ""}:${p.PublicPort}\n`);
  return 0;
}

/** Runs `version`. */
export async function versionCommand(ctx: ComposeContext, argv: string[]): Promise<number> {
  const f = parseFlags(argv, [
    flag.bool("short", "Shows only Compose's version number"),
    flag.string("format", "Format the output. Values: [pretty | json]", { short: "f", default: "pretty" }),
  ]);
  if (bool(f, "short")) ctx.print(`${COMPOSE_VERSION}\n`);
  else if (str(f, "format") === "json") ctx.print(`${JSON.stringify({ version: `v${COMPOSE_VERSION}` })}\n`);
  else ctx.print(`wharf compose version v${COMPOSE_VERSION}\n`);
  return 0;
}
