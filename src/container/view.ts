import { join } from "node:path";
import type { ContainerInspectResponse, ContainerSummary, NetworkSettings } from "../apitypes/index.ts";
import { humanDuration, parseRfc3339Ns } from "../util/index.ts";
import type { Container } from "./container.ts";
import type { NetworkViews } from "./deps.ts";
import { toMountPoint } from "./mounts.ts";
import type { State } from "./state.ts";

/** The body of GET /containers/{id}/json: a view of the container, built afresh on every call. */
export function toInspect(
  c: Container,
  opts: {
    dir: string;
    lowerDirs: string[];
    networkSettings: NetworkSettings;
    execIds: string[];
    /** HostConfig.Links in dockerd's form (the record keeps the request's). */
    links?: string[];
  },
): ContainerInspectResponse {
  const rec = c.record;
  return {
    Id: rec.Id,
    Created: rec.Created,
    Path: rec.Path,
    Args: rec.Args,
    State: c.state.view(),
    Image: rec.Image,
    ResolvConfPath: rec.ResolvConfPath,
    HostnamePath: rec.HostnamePath,
    HostsPath: rec.HostsPath,
    LogPath: rec.LogPath,
    Name: rec.Name,
    RestartCount: c.state.restartCount,
    Driver: "overlay2",
    Platform: "linux",
    MountLabel: "",
    ProcessLabel: "",
    // The profile asked for is reported even though this host has no AppArmor to load it, as dockerd does.
    AppArmorProfile:
      (rec.HostConfig.SecurityOpt ?? [])
        .filter((o) => /^apparmor[=:]/.test(o))
        .pop()
        ?.slice("apparmor=".length) ?? "",
    ExecIDs: opts.execIds.length ? opts.execIds : null,
    HostConfig: { ...rec.HostConfig, Links: opts.links },
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
export function statusText(s: State, nowMs = Date.now()): string {
  const since = (t: string) => humanDuration(nowMs - Number(parseRfc3339Ns(t) / 1_000_000n));
  const status = s.status;
  if (s.running) {
    if (s.paused) return `Up ${since(s.startedAt)} (Paused)`;
    if (s.restarting) return `Restarting (${s.exitCode}) ${since(s.finishedAt)} ago`;
    const h = s.health?.Status;
    const health = h && h !== "none" ? ` (${healthWord(h)})` : "";
    return `Up ${since(s.startedAt)}${health}`;
  }
  if (status === "removing") return "Removal In Progress";
  if (status === "dead") return "Dead";
  if (status === "created" || s.finishedAt.startsWith("0001-")) return "Created";
  return `Exited (${s.exitCode}) ${since(s.finishedAt)} ago`;
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
export function toSummary(
  c: Container,
  net: ReturnType<NetworkViews["summary"]>,
  createdSec = Number(parseRfc3339Ns(c.record.Created) / 1_000_000_000n),
): ContainerSummary {
  const rec = c.record;
  return {
    Id: rec.Id,
    Names: [rec.Name],
    Image: rec.Config.Image ?? rec.Image,
    ImageID: rec.Image,
    Command: commandLine(rec.Path, rec.Args),
    Created: createdSec,
    Ports: net.ports,
    Labels: rec.Config.Labels ?? {},
    State: c.state.status,
    Status: statusText(c.state),
    HostConfig: { NetworkMode: rec.HostConfig.NetworkMode ?? "bridge" },
    NetworkSettings: { Networks: net.networks },
    Mounts: (rec.MountPoints ?? []).map(toMountPoint),
  };
}
