import type { ContainerConfig, HostConfig } from "../apitypes/index.ts";
import { InvalidParameterError } from "../errdefs/index.ts";

/** The run-time part of an image's config (OCI `config` object, Docker's field names). */
export interface ImageRunConfig {
  Env?: string[] | null;
  Cmd?: string[] | null;
  Entrypoint?: string[] | null;
  WorkingDir?: string;
  User?: string;
  Labels?: Record<string, string> | null;
  ExposedPorts?: Record<string, object> | null;
  Volumes?: Record<string, object> | null;
  StopSignal?: string;
  Healthcheck?: ContainerConfig["Healthcheck"];
  OnBuild?: string[] | null;
  Shell?: string[] | null;
  ArgsEscaped?: boolean;
}

function envKey(e: string): string {
  const i = e.indexOf("=");
  return i < 0 ? e : e.slice(0, i);
}

/** Image env overlaid by the container's, key by key, order kept as Docker keeps it. */
export function mergeEnv(image: readonly string[], container: readonly string[]): string[] {
  const out: string[] = [];
  const pos = new Map<string, number>();
  for (const e of [...image, ...container]) {
    const k = envKey(e);
    const at = pos.get(k);
    if (at === undefined) {
      pos.set(k, out.length);
      out.push(e);
    } else out[at] = e;
  }
  return out;
}

/** `--entrypoint ""` arrives as [""]: an explicit reset to no entrypoint. */
function isReset(v: string[] | null | undefined): boolean {
  return Array.isArray(v) && v.length === 1 && v[0] === "";
}

/**
 * Fills a create request's config from the image's, with Docker's precedence: an entrypoint given at create
 * drops the image's CMD unless a CMD is given too.
 */
export function mergeImageConfig(cfg: ContainerConfig, img: ImageRunConfig): ContainerConfig {
  const out: ContainerConfig = { ...cfg };
  if (isReset(cfg.Entrypoint)) {
    out.Entrypoint = undefined;
  } else if (!cfg.Entrypoint || cfg.Entrypoint.length === 0) {
    out.Entrypoint = img.Entrypoint ?? undefined;
    if (!cfg.Cmd || cfg.Cmd.length === 0) out.Cmd = img.Cmd ?? undefined;
  }
  out.Env = mergeEnv(img.Env ?? [], cfg.Env ?? []);
  out.WorkingDir = cfg.WorkingDir || img.WorkingDir || "";
  out.User = cfg.User || img.User || "";
  out.Labels = { ...(img.Labels ?? {}), ...(cfg.Labels ?? {}) };
  const ports = { ...(img.ExposedPorts ?? {}), ...(cfg.ExposedPorts ?? {}) };
  out.ExposedPorts = Object.keys(ports).length ? ports : undefined;
  const vols = { ...(img.Volumes ?? {}), ...(cfg.Volumes ?? {}) };
  out.Volumes = Object.keys(vols).length ? vols : undefined;
  if (!cfg.StopSignal && img.StopSignal) out.StopSignal = img.StopSignal;
  if (!cfg.Healthcheck && img.Healthcheck) out.Healthcheck = img.Healthcheck;
  if (!cfg.OnBuild && img.OnBuild) out.OnBuild = img.OnBuild;
  if (!cfg.Shell && img.Shell) out.Shell = img.Shell;
  return out;
}

/** The process to run: entrypoint followed by cmd; Docker refuses a container with neither. */
export function commandOf(cfg: ContainerConfig): { path: string; args: string[] } {
  const argv = [...(cfg.Entrypoint ?? []), ...(cfg.Cmd ?? [])];
  if (argv.length === 0) throw new InvalidParameterError("No command specified");
  return { path: argv[0], args: argv.slice(1) };
}

/** Rejects host config values Docker rejects at create, with its texts. */
export function validateHostConfig(hc: HostConfig): void {
  if (hc.AutoRemove && hc.RestartPolicy?.Name && !["", "no"].includes(hc.RestartPolicy.Name))
    throw new InvalidParameterError("can't create 'AutoRemove' container with restart policy");
  const rp = hc.RestartPolicy?.Name;
  if (rp && !["", "no", "always", "unless-stopped", "on-failure"].includes(rp))
    throw new InvalidParameterError(`invalid restart policy '${rp}'`);
  if ((hc.RestartPolicy?.MaximumRetryCount ?? 0) < 0)
    throw new InvalidParameterError("invalid restart policy: maximum retry count cannot be negative");
  if (hc.RestartPolicy?.MaximumRetryCount && rp !== "on-failure")
    throw new InvalidParameterError(
      `invalid restart policy: maximum retry count can only be used with 'on-failure'`,
    );
  if ((hc.ShmSize ?? 0) < 0) throw new InvalidParameterError("SHM size can not be less than 0");
  if (hc.Memory && hc.Memory > 0 && hc.Memory < 6 * 1024 * 1024)
    throw new InvalidParameterError("Minimum memory limit allowed is 6MB");
  // overlay2's only option is size, which needs xfs project quotas; wharf keeps no quotas, so it refuses
  // the option with dockerd's text instead of taking it and ignoring it.
  for (const key of Object.keys(hc.StorageOpt ?? {})) {
    if (key.toLowerCase() === "size")
      throw new InvalidParameterError(
        "--storage-opt is supported only for overlay over xfs with 'pquota' mount option",
      );
    throw new InvalidParameterError(`Unknown option ${key}`);
  }
}
