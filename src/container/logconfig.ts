import type { HostConfig } from "../apitypes/index.ts";
import { InvalidParameterError } from "../errdefs/index.ts";

/** The driver name reported for the daemon's default log: Docker's, which clients (docker-py) check for. */
export const DEFAULT_LOG_DRIVER = "json-file";
/** Log drivers wharf accepts: all write conmon's k8s-file log except `none`, which keeps nothing. */
const DRIVERS = new Set(["", "json-file", "k8s-file", "local", "none"]);
const FILE_OPTS = new Set([
  "max-size",
  "max-file",
  "compress",
  "labels",
  "labels-regex",
  "env",
  "env-regex",
  "tag",
  "mode",
  "max-buffer-size",
]);

/** `--log-opt max-size` as Docker parses it: a number with an optional k/m/g unit (decimal, as units.FromHumanSize). */
export function parseLogSize(v: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*([kmgt]?)i?b?$/i.exec(v.trim());
  if (!m) throw new InvalidParameterError(`invalid size: '${v}'`);
  const mult = { "": 1, k: 1e3, m: 1e6, g: 1e9, t: 1e12 }[m[2].toLowerCase() as "" | "k" | "m" | "g" | "t"];
  return Math.round(Number(m[1]) * mult);
}

/** Rotation settings of a container's log: max bytes per file (0 = unlimited) and files kept. */
export function logRotation(lc: HostConfig["LogConfig"]): { maxSize: number; maxFile: number } {
  const cfg = lc?.Config ?? {};
  const maxSize = cfg["max-size"] ? parseLogSize(cfg["max-size"]) : 0;
  const maxFile = cfg["max-file"] ? Number(cfg["max-file"]) : 1;
  return { maxSize, maxFile };
}

/** Refuses unknown drivers and options with Docker's texts. */
export function checkLogConfig(lc: HostConfig["LogConfig"]): void {
  const type = lc?.Type ?? "";
  if (!DRIVERS.has(type))
    throw new InvalidParameterError(`logger: no log driver named '${type}' is registered`);
  const cfg = lc?.Config ?? {};
  if (type === "none" && Object.keys(cfg).length)
    throw new InvalidParameterError(`unknown log opt '${Object.keys(cfg)[0]}' for none log driver`);
  for (const k of Object.keys(cfg))
    if (!FILE_OPTS.has(k))
      throw new InvalidParameterError(`unknown log opt '${k}' for ${type || "json-file"} log driver`);
  const { maxFile } = logRotation(lc);
  if (cfg["max-size"] !== undefined && parseLogSize(cfg["max-size"]) <= 0)
    throw new InvalidParameterError("max-size must be a positive number");
  // Docker's json-file accepts max-file without max-size (nothing is then rotated): only its range is checked.
  if (cfg["max-file"] !== undefined && (!Number.isInteger(maxFile) || maxFile < 1))
    throw new InvalidParameterError("max-file cannot be less than 1");
}
