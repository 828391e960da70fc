/**
 * The daemon's OCI runtimes, configured as dockerd's are: runc always (`--runtime` names its binary),
 * `--add-runtime NAME=PATH` (repeatable), `runtimes` and `default-runtime` in the daemon config file, and
 * `--default-runtime`. gVisor's runsc is added as "runsc" when installed at /usr/bin/runsc (with the ptrace
 * platform: these machines have no /dev/kvm); it is the runtime `--isolation=sandbox` picks.
 */
import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { InvalidParameterError, isErrno } from "../errdefs/index.ts";
import type { OciRuntimeConfig } from "../runtime/index.ts";

/** Where gVisor's Debian package installs runsc. */
export const RUNSC_PATH = "/usr/bin/runsc";

/** The part of the daemon config file (`--config-file`, dockerd's daemon.json) wharf reads. */
export interface DaemonFileConfig {
  runtimes?: Record<string, OciRuntimeConfig>;
  "default-runtime"?: string;
  /** The CRI socket (`--cri-socket`); the flag wins over the file. */
  "cri-socket"?: string;
  /** `--userns-remap` (USER[:GROUP] or "default"); giving both is an error, as in dockerd. */
  "userns-remap"?: string;
  /** `--ipv6` and `--fixed-cidr-v6` for the default bridge; a flag and the file naming one is an error. */
  ipv6?: boolean;
  "fixed-cidr-v6"?: string;
}

/** The runtimes, ready for the runtime driver and the container service. */
export interface DaemonRuntimes {
  runtimes: Record<string, OciRuntimeConfig>;
  defaultName: string;
  /** The sandboxed runtime (`--isolation=sandbox`), when one is configured. */
  sandbox?: string;
}

const STOCK = "runc";
const FILE_KEYS = ["runtimes", "default-runtime", "cri-socket", "userns-remap", "ipv6", "fixed-cidr-v6"];

/** `--add-runtime NAME=PATH` values, checked with dockerd's texts. */
export function parseAddRuntimes(values: readonly string[]): Record<string, OciRuntimeConfig> {
  const out: Record<string, OciRuntimeConfig> = {};
  for (const val of values) {
    const eq = val.indexOf("=");
    const name = eq < 0 ? "" : val.slice(0, eq).trim().toLowerCase();
    const path = eq < 0 ? "" : val.slice(eq + 1).trim();
    if (!name || !path) throw new InvalidParameterError(`invalid runtime argument: ${val}`);
    if (name === STOCK) throw new InvalidParameterError(`runtime name '${STOCK}' is reserved`);
    if (out[name]) throw new InvalidParameterError(`runtime '${name}' was already defined`);
    out[name] = { path };
  }
  return out;
}

/** Reads the daemon config file; a missing file is no error unless it was named explicitly. */
export async function readDaemonFile(path: string, o: { explicit: boolean }): Promise<DaemonFileConfig> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (e) {
    if (isErrno(e, "ENOENT") && !o.explicit) return {};
    throw new InvalidParameterError(
      `unable to configure the Docker daemon with file ${path}: ${(e as Error).message}`,
    );
  }
  return parseDaemonFile(text, path);
}

/** Parses daemon.json's text: only the directives wharf knows, each of the right shape. */
export function parseDaemonFile(text: string, path: string): DaemonFileConfig {
  let v: unknown;
  try {
    v = text.trim() === "" ? {} : JSON.parse(text);
  } catch (e) {
    throw new InvalidParameterError(
      `unable to configure the Docker daemon with file ${path}: ${(e as Error).message}`,
    );
  }
  if (!v || typeof v !== "object" || Array.isArray(v))
    throw new InvalidParameterError(
      `unable to configure the Docker daemon with file ${path}: not a JSON object`,
    );
  const obj = v as Record<string, unknown>;
  const unknown = Object.keys(obj).filter((k) => !FILE_KEYS.includes(k));
  if (unknown.length)
    throw new InvalidParameterError(
      `the following directives don't match any configuration option: ${unknown.join(", ")}`,
    );
  const out: DaemonFileConfig = {};
  if (obj["default-runtime"] !== undefined) {
    if (typeof obj["default-runtime"] !== "string")
      throw new InvalidParameterError("default-runtime in the daemon config file must be a string");
    out["default-runtime"] = obj["default-runtime"];
  }
  if (obj["cri-socket"] !== undefined) {
    if (typeof obj["cri-socket"] !== "string" || !obj["cri-socket"].startsWith("/"))
      throw new InvalidParameterError("cri-socket in the daemon config file must be an absolute path");
    out["cri-socket"] = obj["cri-socket"];
  }
  if (obj["userns-remap"] !== undefined) {
    if (typeof obj["userns-remap"] !== "string")
      throw new InvalidParameterError("userns-remap in the daemon config file must be a string");
    out["userns-remap"] = obj["userns-remap"];
  }
  if (obj.ipv6 !== undefined) {
    if (typeof obj.ipv6 !== "boolean")
      throw new InvalidParameterError("ipv6 in the daemon config file must be true or false");
    out.ipv6 = obj.ipv6;
  }
  if (obj["fixed-cidr-v6"] !== undefined) {
    if (typeof obj["fixed-cidr-v6"] !== "string")
      throw new InvalidParameterError("fixed-cidr-v6 in the daemon config file must be a string");
    out["fixed-cidr-v6"] = obj["fixed-cidr-v6"];
  }
  if (obj.runtimes !== undefined) {
    if (!obj.runtimes || typeof obj.runtimes !== "object" || Array.isArray(obj.runtimes))
      throw new InvalidParameterError("runtimes in the daemon config file must be an object");
    out.runtimes = {};
    for (const [name, r] of Object.entries(obj.runtimes as Record<string, unknown>)) {
      const rt = r as { path?: unknown; runtimeArgs?: unknown } | null;
      if (!rt || typeof rt.path !== "string" || rt.path === "")
        throw new InvalidParameterError(`runtime ${name}: a path is required`);
      const args = rt.runtimeArgs ?? [];
      if (!Array.isArray(args) || args.some((a) => typeof a !== "string"))
        throw new InvalidParameterError(`runtime ${name}: runtimeArgs must be a list of strings`);
      out.runtimes[name] = { path: rt.path, runtimeArgs: args as string[] };
    }
  }
  return out;
}

/** The default bridge's IPv6 from the flags and the file; one named in both is dockerd's conflict error. */
export function bridgeIpv6(
  flags: { ipv6: boolean; fixedCidrV6?: string },
  file: DaemonFileConfig,
): { ipv6: boolean; fixedCidrV6?: string } {
  const both = (name: string, flag: unknown, fromFile: unknown) =>
    new InvalidParameterError(
      `the following directives are specified both as a flag and in the configuration file: ${name}: (from flag: ${flag}, from file: ${fromFile})`,
    );
  if (flags.ipv6 && file.ipv6 !== undefined) throw both("ipv6", true, file.ipv6);
  if (flags.fixedCidrV6 && file["fixed-cidr-v6"] !== undefined)
    throw both("fixed-cidr-v6", flags.fixedCidrV6, file["fixed-cidr-v6"]);
  const fixed = flags.fixedCidrV6 ?? file["fixed-cidr-v6"];
  return { ipv6: flags.ipv6 || file.ipv6 === true, ...(fixed ? { fixedCidrV6: fixed } : {}) };
}

/**
 * Merges runc, the installed runsc, the flags' and the file's runtimes, as dockerd validates them: runc's
 * name is reserved, a name defined twice and a default that names no runtime are errors. `resolve` makes
 * each path absolute (conmon needs that).
 */
export function daemonRuntimes(o: {
  runcPath: string;
  added: Record<string, OciRuntimeConfig>;
  file: DaemonFileConfig;
  defaultFlag?: string;
  resolve: (path: string) => string;
  exists?: (path: string) => boolean;
  /** false: no runsc unless configured (a rootless daemon: runsc as installed wants real root). */
  autoRunsc?: boolean;
}): DaemonRuntimes {
  const exists = o.exists ?? existsSync;
  const fileRts = o.file.runtimes ?? {};
  if (fileRts[STOCK]) throw new InvalidParameterError(`runtime name '${STOCK}' is reserved`);
  for (const name of Object.keys(fileRts))
    if (o.added[name]) throw new InvalidParameterError(`runtime '${name}' was already defined`);
  if (o.defaultFlag !== undefined && o.file["default-runtime"] !== undefined)
    throw new InvalidParameterError(
      `the following directives are specified both as a flag and in the configuration file: default-runtime: (from flag: ${o.defaultFlag}, from file: ${o.file["default-runtime"]})`,
    );
  const runtimes: Record<string, OciRuntimeConfig> = { [STOCK]: { path: o.runcPath } };
  if (o.autoRunsc !== false && exists(RUNSC_PATH))
    runtimes.runsc = { path: RUNSC_PATH, runtimeArgs: ["--platform=ptrace"] };
  for (const [name, r] of Object.entries({ ...fileRts, ...o.added }))
    runtimes[name] = { path: o.resolve(r.path), runtimeArgs: [...(r.runtimeArgs ?? [])] };
  const defaultName = o.defaultFlag ?? o.file["default-runtime"] ?? STOCK;
  if (!runtimes[defaultName])
    throw new InvalidParameterError(`specified default runtime '${defaultName}' does not exist`);
  return { runtimes, defaultName, ...(runtimes.runsc ? { sandbox: "runsc" } : {}) };
}
