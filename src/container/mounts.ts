import { posix } from "node:path";
import type { ContainerConfig, HostConfig, MountPoint } from "../apitypes/index.ts";
import { InvalidParameterError } from "../errdefs/index.ts";

/**
 * A mount as a container record keeps it: inspect's MountPoint (Source is the host path for binds; a
 * volume's mountpoint is looked up at start) plus what start needs.
 */
export interface StoredMount extends Omit<MountPoint, "Type"> {
  Type: "bind" | "volume" | "tmpfs";
  /** Copy the image's content at the destination into the volume when it is empty (Docker's default). */
  CopyUp?: boolean;
  /** VolumeOptions.Subpath (API 1.45): the part of the volume mounted, relative to its root. */
  Subpath?: string;
  /** A `-v /host:/ctr` bind whose host path is created when missing (`--mount` binds must exist). */
  CreateHostPath?: boolean;
  /** tmpfs mount options (size, mode, noexec...). */
  TmpfsOptions?: string[];
}

const PROPAGATIONS = new Set(["private", "rprivate", "shared", "rshared", "slave", "rslave"]);

function invalidSpec(spec: string, why: string): InvalidParameterError {
  return new InvalidParameterError(`invalid volume specification: '${spec}': ${why}`);
}

function checkDest(dest: string, spec: string, type: string): string {
  if (!posix.isAbsolute(dest))
    throw invalidSpec(
      spec,
      `invalid mount config for type "${type}": invalid mount path: '${dest}' mount path must be absolute`,
    );
  const clean = posix.normalize(dest);
  if (clean === "/")
    throw invalidSpec(
      spec,
      `invalid mount config for type "${type}": invalid specification: destination can't be '/'`,
    );
  return clean.replace(/\/+$/, "");
}

/** One `-v`/`--volume` bind string: `src:dst[:mode]` or `dst`. */
export function parseBind(spec: string): StoredMount {
  const parts = spec.split(":");
  if (parts.length < 1 || parts.length > 3 || parts.some((p) => p === ""))
    throw invalidSpec(spec, "invalid format");
  if (parts.length === 1) {
    return {
      Type: "volume",
      Source: "",
      Destination: checkDest(parts[0], spec, "volume"),
      Driver: "local",
      Mode: "",
      RW: true,
      Propagation: "",
      CopyUp: true,
    };
  }
  const [src, dst, mode = ""] = parts;
  const modes = mode ? mode.split(",") : [];
  let rw = true;
  let propagation = "";
  let nocopy = false;
  for (const m of modes) {
    if (m === "ro") rw = false;
    else if (m === "rw") rw = true;
    else if (m === "z" || m === "Z") continue;
    else if (PROPAGATIONS.has(m)) propagation = m;
    else if (m === "nocopy") nocopy = true;
    else throw invalidSpec(spec, `invalid mode: ${m}`);
  }
  const isBind = src.startsWith("/") || src.startsWith(".");
  if (isBind) {
    if (!src.startsWith("/")) throw invalidSpec(spec, "bind source path must be absolute");
    if (nocopy) throw invalidSpec(spec, "invalid mode: nocopy");
    return {
      Type: "bind",
      Source: posix.normalize(src),
      Destination: checkDest(dst, spec, "bind"),
      Mode: mode,
      RW: rw,
      Propagation: propagation || "rprivate",
      CreateHostPath: true,
    };
  }
  if (propagation) throw invalidSpec(spec, `invalid mode: ${propagation}`);
  return {
    Type: "volume",
    Name: src,
    Source: "",
    Destination: checkDest(dst, spec, "volume"),
    Driver: "local",
    // dockerd reports a named volume given without a mode as relabelled shared ("z").
    Mode: mode || "z",
    RW: rw,
    Propagation: "",
    CopyUp: !nocopy,
  };
}

type ApiMount = NonNullable<HostConfig["Mounts"]>[number];

/** One `--mount` entry from HostConfig.Mounts. */
export function parseMount(m: ApiMount): StoredMount {
  const spec = JSON.stringify(m);
  const type = m.Type ?? "";
  if (!m.Target)
    throw new InvalidParameterError(
      `invalid mount config for type "${type}": field Target must not be empty`,
    );
  if (type === "bind") {
    if (!m.Source)
      throw new InvalidParameterError(`invalid mount config for type "bind": field Source must not be empty`);
    if (!m.Source.startsWith("/"))
      throw new InvalidParameterError(
        `invalid mount config for type "bind": invalid mount path: '${m.Source}' mount path must be absolute`,
      );
    return {
      Type: "bind",
      Source: posix.normalize(m.Source),
      Destination: checkDest(m.Target, spec, "bind"),
      Mode: "",
      RW: !m.ReadOnly,
      Propagation: m.BindOptions?.Propagation || "rprivate",
      CreateHostPath: m.BindOptions?.CreateMountpoint === true,
    };
  }
  if (type === "volume") {
    const sub = m.VolumeOptions?.Subpath;
    // As Go's filepath.IsLocal, which dockerd asks: relative, and not leaving the volume lexically.
    if (sub && (sub.startsWith("/") || posix.normalize(sub).split("/")[0] === ".."))
      throw new InvalidParameterError(
        `invalid mount config for type "volume": subpath must be a relative path within the volume`,
      );
    return {
      ...(sub ? { Subpath: posix.normalize(sub) } : {}),
      Type: "volume",
      Name: m.Source || undefined,
      Source: "",
      Destination: checkDest(m.Target, spec, "volume"),
      Driver: m.VolumeOptions?.DriverConfig?.Name || "local",
      Mode: "z",
      RW: !m.ReadOnly,
      Propagation: "",
      CopyUp: !m.VolumeOptions?.NoCopy,
    };
  }
  if (type === "tmpfs") {
    if (m.Source)
      throw new InvalidParameterError(
        `invalid mount config for type "tmpfs": field Source must not be specified`,
      );
    const opts: string[] = [];
    if (m.TmpfsOptions?.SizeBytes) opts.push(`size=${m.TmpfsOptions.SizeBytes}`);
    if (m.TmpfsOptions?.Mode) opts.push(`mode=${m.TmpfsOptions.Mode.toString(8)}`);
    return {
      Type: "tmpfs",
      Source: "",
      Destination: checkDest(m.Target, spec, "tmpfs"),
      Mode: "",
      RW: !m.ReadOnly,
      Propagation: "",
      TmpfsOptions: opts,
    };
  }
  throw new InvalidParameterError(`invalid mount config: mount type unknown: "${type}"`);
}

/**
 * Every mount of a new container, from `-v`, `--mount`, `--tmpfs` and the image's VOLUMEs (anonymous volumes
 * for destinations nothing else covers). Two mounts on one destination are Docker's "Duplicate mount point".
 */
export function collectMounts(
  cfg: ContainerConfig,
  hc: HostConfig,
  inherited: StoredMount[] = [],
): StoredMount[] {
  const out: StoredMount[] = [];
  const seen = new Set<string>();
  const add = (m: StoredMount) => {
    if (seen.has(m.Destination)) throw new InvalidParameterError(`Duplicate mount point: ${m.Destination}`);
    seen.add(m.Destination);
    out.push(m);
  };
  for (const b of hc.Binds ?? []) add(parseBind(b));
  for (const m of hc.Mounts ?? []) add(parseMount(m));
  for (const [dst, opts] of Object.entries(hc.Tmpfs ?? {})) {
    add({
      Type: "tmpfs",
      Source: "",
      Destination: checkDest(dst, dst, "tmpfs"),
      Mode: "",
      RW: !opts.split(",").includes("ro"),
      Propagation: "",
      TmpfsOptions: opts ? opts.split(",").filter((o) => o !== "ro" && o !== "rw") : [],
    });
  }
  // --volumes-from: what the other container has, unless this one mounts something there itself.
  for (const m of inherited) if (!seen.has(m.Destination)) add(m);
  for (const dst of Object.keys(cfg.Volumes ?? {})) {
    const d = posix.normalize(dst).replace(/\/+$/, "");
    if (!seen.has(d)) add(parseBind(d));
  }
  return out;
}

/** `--volumes-from c[:ro|rw]`: the container ref and the forced mode, if any. */
export function parseVolumesFrom(spec: string): { ref: string; mode?: "ro" | "rw" } {
  const [ref, mode] = spec.split(":");
  if (mode && mode !== "ro" && mode !== "rw")
    throw new InvalidParameterError(`invalid mode for volumes-from: ${mode}`);
  return { ref, mode: mode as "ro" | "rw" | undefined };
}

/** The `Mounts` entry inspect and list show. */
export function toMountPoint(m: StoredMount): MountPoint {
  const base = {
    Type: m.Type,
    Source: m.Source,
    Destination: m.Destination,
    Mode: m.Mode,
    RW: m.RW,
    Propagation: m.Propagation,
  };
  if (m.Type === "volume") return { ...base, Name: m.Name, Driver: m.Driver ?? "local" };
  return base;
}
