import { join } from "node:path";
import type { ContainerInspectResponse, ContainerSummary, NetworkSettings } from "../api/types.ts";
import { humanDuration, parseRfc3339Ns } from "../util/index.ts";
import type { ContainerRecord, ContainerStateDoc } from "./model.ts";
import { toMountPoint } from "./mounts.ts";

/** The body of GET /containers/{id}/json. */
export function toInspect(
  rec: ContainerRecord,
  st: ContainerStateDoc,
  opts: { dir: string; lowerDirs: string[]; networkSettings: NetworkSettings },
): ContainerInspectResponse {
  const { StartedAtNs: _s, HasBeenStarted: _h, ...rest } = st;
  return {
    Id: rec.Id,
    Created: rec.Created,
    Path: rec.Path,
    Args: rec.Args,
    State: { ...rest.State },
    Image: rec.Image,
    ResolvConfPath: rec.ResolvConfPath,
    HostnamePath: rec.HostnamePath,
    HostsPath: rec.HostsPath,
    LogPath: rec.LogPath,
    Name: rec.Name,
    RestartCount: st.RestartCount,
    Driver: "overlay2",
    Platform: "linux",
    MountLabel: "",
    ProcessLabel: "",
    AppArmorProfile: "",
    ExecIDs: null,
    HostConfig: rec.HostConfig,
    GraphDriver: {
      Name: "overlay2",
      Data: {
        LowerDir: opts.lowerDirs.join(":"),
        MergedDir: join(opts.dir, "merged"),
        UpperDir: join(opts.dir, "upper"),
        WorkDir: join(opts.dir, "work"),
      },
    },
    Mounts: (rec.MountPoints ?? []).map(toMountPoint),
    Config: rec.Config,
    NetworkSettings: opts.networkSettings,
  };
}

/** Docker's one-line status: "Up 5 seconds", "Exited (0) 2 minutes ago", "Created". */
export function statusText(st: ContainerStateDoc, nowMs = Date.now()): string {
  const s = st.State;
  const since = (t: string) => humanDuration(nowMs - Number(parseRfc3339Ns(t) / 1_000_000n));
  if (s.Running) {
    if (s.Paused) return `Up ${since(s.StartedAt)} (Paused)`;
    if (s.Restarting) return `Restarting (${s.ExitCode}) ${since(s.FinishedAt)} ago`;
    const health = s.Health?.Status && s.Health.Status !== "none" ? ` (${healthWord(s.Health.Status)})` : "";
    return `Up ${since(s.StartedAt)}${health}`;
  }
  if (s.Status === "removing") return "Removal In Progress";
  if (s.Dead) return "Dead";
  if (s.Status === "created" || s.FinishedAt.startsWith("0001-")) return "Created";
  return `Exited (${s.ExitCode}) ${since(s.FinishedAt)} ago`;
}

function healthWord(h: string): string {
  return h === "starting" ? "health: starting" : h;
}

/** The list view's command: Docker quotes the arguments that contain spaces in single quotes. */
export function commandLine(path: string, args: string[]): string {
  if (!args.length) return path;
  return `${path} ${args.map((a) => (a.includes(" ") ? `'${a}'` : a)).join(" ")}`;
}

/** One entry of GET /containers/json. */
export function toSummary(rec: ContainerRecord, st: ContainerStateDoc): ContainerSummary {
  return {
    Id: rec.Id,
    Names: [rec.Name],
    Image: rec.Config.Image ?? rec.Image,
    ImageID: rec.Image,
    Command: commandLine(rec.Path, rec.Args),
    Created: Number(parseRfc3339Ns(rec.Created) / 1_000_000_000n),
    Ports: [],
    Labels: rec.Config.Labels ?? {},
    State: st.State.Status,
    Status: statusText(st),
    HostConfig: { NetworkMode: rec.HostConfig.NetworkMode ?? "bridge" },
    NetworkSettings: { Networks: {} },
    Mounts: (rec.MountPoints ?? []).map(toMountPoint),
  };
}
