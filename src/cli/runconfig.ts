// Turns `run`/`create` flags into the create request, the way docker's CLI fills it in.
import { readFileSync } from "node:fs";
import type {
  ContainerCreateRequest,
  EndpointSettings,
  HealthConfig,
  HostConfig,
  Mount,
  PortBinding,
  RestartPolicy,
} from "../apitypes/index.ts";
import { type Parsed, UsageError } from "./args.ts";
import { bool, int, list, StatusError, str } from "./common.ts";
import { parseGoDuration, parseRamBytes } from "./units.ts";

/** A flag value docker rejects before calling the daemon; run.ts reports it for the command in use. */
export class FlagValueError extends Error {}

function invalid(msg: string): FlagValueError {
  return new FlagValueError(msg);
}

/** A typed flag docker rejects while parsing (bytes, decimal, duration): a usage error; run.ts adds the usage. */
function badFlag(flag: string, value: string, reason: string): UsageError {
  const short: Record<string, string> = { memory: "m", "cpu-shares": "c", attach: "a" };
  const label = short[flag] ? `-${short[flag]}, --${flag}` : `--${flag}`;
  return new UsageError(`invalid argument "${value}" for "${label}" flag: ${reason}`, { code: 125 });
}

/** Reads `K=V` lines from env/label files: blank lines and `#` comments skipped, bare `K` taken from our env. */
export function readKvFile(path: string, opts: { fromEnv: boolean }): string[] {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (err) {
    throw invalid(
      `open ${path}: ${(err as NodeJS.ErrnoException).code === "ENOENT" ? "no such file or directory" : String(err)}`,
    );
  }
  const out: string[] = [];
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.replace(/^\s+/, "");
    if (!line || line.startsWith("#")) continue;
    const eq = line.indexOf("=");
    if (eq < 0 && opts.fromEnv) {
      const v = process.env[line.trim()];
      if (v !== undefined) out.push(`${line.trim()}=${v}`);
      continue;
    }
    if (eq === 0) throw invalid(`invalid environment variable: ${line}`);
    out.push(line);
  }
  return out;
}

/** `-e K=V` as given; `-e K` takes K from our environment, and is dropped when unset there. */
export function resolveEnv(values: string[]): string[] {
  const out: string[] = [];
  for (const v of values) {
    if (v.includes("=")) {
      if (v.startsWith("=")) throw invalid(`invalid environment variable: ${v}`);
      out.push(v);
    } else if (process.env[v] !== undefined) {
      out.push(`${v}=${process.env[v]}`);
    }
  }
  return out;
}

function labelsFrom(values: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const l of values) {
    const eq = l.indexOf("=");
    if (eq < 0) out[l] = "";
    else out[l.slice(0, eq)] = l.slice(eq + 1);
  }
  return out;
}

function range(s: string): [number, number] {
  const [a, b] = s.split("-");
  const lo = Number(a);
  const hi = b === undefined ? lo : Number(b);
  if (!Number.isInteger(lo) || !Number.isInteger(hi) || lo < 0 || hi > 65535 || hi < lo) {
    throw invalid(`invalid containerPort: ${s}`);
  }
  return [lo, hi];
}

/** Parses `-p [ip:][hostPort:]containerPort[/proto]` (ranges allowed) into exposed ports and bindings. */
export function parsePublish(spec: string): { port: string; binding: PortBinding }[] {
  let rest = spec;
  let proto = "tcp";
  const slash = rest.lastIndexOf("/");
  if (slash >= 0) {
    proto = rest.slice(slash + 1).toLowerCase();
    rest = rest.slice(0, slash);
  }
  let ip = "";
  const v6 = /^\[([^\]]+)\]:(.*)$/.exec(rest);
  if (v6) {
    ip = v6[1];
    rest = v6[2];
  }
  const parts = rest.split(":");
  let hostPort = "";
  let containerPort: string;
  if (parts.length === 1) containerPort = parts[0];
  else if (parts.length === 2) [hostPort, containerPort] = parts;
  else if (parts.length === 3 && !v6) [ip, hostPort, containerPort] = parts;
  else throw invalid(`invalid proto: ${spec}`);
  if (!containerPort) throw invalid(`no port specified: ${spec}<empty>`);
  const [clo, chi] = range(containerPort);
  const [hlo, hhi] = hostPort ? range(hostPort) : [0, 0];
  if (hostPort && hhi - hlo !== chi - clo && hhi !== hlo) {
    throw invalid(`invalid ranges specified for container and host Ports: ${containerPort} and ${hostPort}`);
  }
  const out: { port: string; binding: PortBinding }[] = [];
  for (let p = clo; p <= chi; p++) {
    let hp = "";
    if (hostPort) hp = hhi !== hlo && hhi - hlo === chi - clo ? String(hlo + (p - clo)) : hostPort;
    out.push({ port: `${p}/${proto}`, binding: { HostIp: ip, HostPort: hp } });
  }
  return out;
}

/** Parses `--restart no|always|unless-stopped|on-failure[:N]`. */
export function parseRestart(s: string): RestartPolicy {
  if (!s) return { Name: "no", MaximumRetryCount: 0 };
  const colon = s.indexOf(":");
  const name = colon < 0 ? s : s.slice(0, colon);
  const count = colon < 0 ? "" : s.slice(colon + 1);
  if (colon === 0) throw invalid("invalid restart policy format: no policy provided before colon");
  // Policy names and where a count is allowed are the daemon's to judge, as with docker.
  const n = count === "" ? 0 : Number(count);
  if (!/^[+-]?\d*$/.test(count) || !Number.isInteger(n))
    throw invalid(`invalid restart policy format: maximum retry count must be an integer`);
  return { Name: name as RestartPolicy["Name"], MaximumRetryCount: n };
}

/** Parses `--mount type=bind,source=/a,target=/b,readonly`. */
export function parseMount(s: string): Mount {
  const m: Mount = { Type: "volume" };
  for (const field of s.split(",")) {
    const eq = field.indexOf("=");
    const k = (eq < 0 ? field : field.slice(0, eq)).trim().toLowerCase();
    const v = eq < 0 ? undefined : field.slice(eq + 1);
    switch (k) {
      case "type":
        m.Type = v as Mount["Type"];
        break;
      case "source":
      case "src":
        m.Source = v;
        break;
      case "target":
      case "dst":
      case "destination":
        m.Target = v;
        break;
      case "readonly":
      case "ro":
        m.ReadOnly = v === undefined || v === "1" || v === "true";
        break;
      case "bind-propagation":
        m.BindOptions = {
          ...m.BindOptions,
          Propagation: v as NonNullable<Mount["BindOptions"]>["Propagation"],
        };
        break;
      case "volume-nocopy":
        m.VolumeOptions = { ...m.VolumeOptions, NoCopy: v === undefined || v === "true" || v === "1" };
        break;
      case "tmpfs-size":
        m.TmpfsOptions = { ...m.TmpfsOptions, SizeBytes: parseRamBytes(v ?? "") };
        break;
      case "tmpfs-mode":
        m.TmpfsOptions = { ...m.TmpfsOptions, Mode: Number.parseInt(v ?? "", 8) };
        break;
      default:
        throw badFlag("mount", s, `unexpected key '${k}' in '${field}'`);
    }
  }
  if (!m.Target) throw badFlag("mount", s, "target is required");
  return m;
}

function ns(p: Parsed, name: string): number | undefined {
  const v = str(p, name);
  if (!v) return undefined;
  try {
    return Math.round(parseGoDuration(v) * 1e6);
  } catch (e) {
    throw badFlag(name, v, (e as Error).message);
  }
}

/**
 * A byte-size flag (`-m 512m`; `--memory-swap -1` is unlimited). A bad value is a usage error, or what
 * `fail` makes of its message (update words it as a plain error).
 */
export function bytesFlag(
  p: Parsed,
  name: string,
  o: { fail?: (message: string) => Error } = {},
): number | undefined {
  const v = str(p, name);
  if (!v) return undefined;
  if (name === "memory-swap" && v === "-1") return -1;
  try {
    return parseRamBytes(v);
  } catch (e) {
    const bad = badFlag(name, v, (e as Error).message);
    throw o.fail ? o.fail(bad.message) : bad;
  }
}

/** Capabilities as docker sends them: upper case with the `CAP_` prefix (`ALL` stays), without duplicates. */
export function normalizeCaps(caps: string[]): string[] | undefined {
  if (caps.length === 0) return undefined;
  const out = caps.map((c) => {
    const u = c.trim().toUpperCase();
    return u === "ALL" || u.startsWith("CAP_") ? u : `CAP_${u}`;
  });
  return [...new Set(out)];
}

function healthConfig(p: Parsed): HealthConfig | undefined {
  if (bool(p, "no-healthcheck")) {
    if (str(p, "health-cmd")) throw invalid("--no-healthcheck conflicts with --health-* options");
    return { Test: ["NONE"] };
  }
  const hc: HealthConfig = {};
  if (str(p, "health-cmd")) hc.Test = ["CMD-SHELL", str(p, "health-cmd")];
  const set = (k: keyof HealthConfig, v: number | undefined): void => {
    if (v !== undefined) (hc[k] as number) = v;
  };
  set("Interval", ns(p, "health-interval"));
  set("Timeout", ns(p, "health-timeout"));
  set("StartPeriod", ns(p, "health-start-period"));
  set("StartInterval", ns(p, "health-start-interval"));
  set("Retries", int(p, "health-retries"));
  return Object.keys(hc).length ? hc : undefined;
}

/** Builds the create request from flags, the image and the command after it. */
export function buildCreateRequest(p: Parsed, image: string, cmd: string[]): ContainerCreateRequest {
  const detach = bool(p, "detach");
  const interactive = bool(p, "interactive");
  const attach = list(p, "attach").map((a) => a.toLowerCase());
  for (const a of attach)
    if (!["stdin", "stdout", "stderr"].includes(a))
      throw badFlag("attach", a, "valid streams are STDIN, STDOUT and STDERR");
  if (detach && attach.length)
    throw new StatusError(1, "conflicting options: cannot specify both --attach and --detach");
  const restart = parseRestart(str(p, "restart"));
  if (bool(p, "rm") && restart.Name !== "no")
    throw invalid("conflicting options: cannot specify both --restart and --rm");

  const attachStdin = attach.length ? attach.includes("stdin") : interactive && !detach;
  const attachStdout = attach.length ? attach.includes("stdout") : !detach;
  const attachStderr = attach.length ? attach.includes("stderr") : !detach;

  const env = [
    ...list(p, "env-file").flatMap((f) => readKvFile(f, { fromEnv: true })),
    ...resolveEnv(list(p, "env")),
  ];
  const labels = labelsFrom([
    ...list(p, "label-file").flatMap((f) => readKvFile(f, { fromEnv: false })),
    ...list(p, "label"),
  ]);

  const exposed: Record<string, object> = {};
  const bindings: Record<string, PortBinding[]> = {};
  for (const spec of list(p, "publish")) {
    for (const { port, binding } of parsePublish(spec)) {
      exposed[port] = {};
      bindings[port] = [...(bindings[port] ?? []), binding];
    }
  }
  for (const e of list(p, "expose")) {
    const [ports, proto = "tcp"] = e.split("/");
    const [lo, hi] = range(ports);
    for (let x = lo; x <= hi; x++) exposed[`${x}/${proto}`] = {};
  }

  const binds: string[] = [];
  const volumes: Record<string, object> = {};
  for (const v of list(p, "volume")) {
    // A bare container path is an anonymous volume; anything with a source is a bind or named volume.
    if (/^\/[^:]*$/.test(v)) volumes[v] = {};
    else binds.push(v);
  }
  const tmpfs: Record<string, string> = {};
  for (const t of list(p, "tmpfs")) {
    const i = t.indexOf(":");
    tmpfs[i < 0 ? t : t.slice(0, i)] = i < 0 ? "" : t.slice(i + 1);
  }

  const networks = list(p, "network");
  const networkMode = networks[0] ?? "default";
  const userDefined = (n: string): boolean =>
    !["default", "bridge", "host", "none", "nat"].includes(n) && !n.startsWith("container:");
  if (networks.some(userDefined) && networks.some((n) => !userDefined(n)))
    throw invalid("conflicting options: cannot attach both user-defined and non-user-defined network-modes");
  const aliases = list(p, "network-alias");
  if (aliases.length && !userDefined(networkMode))
    throw invalid("network-scoped aliases are only supported for user-defined networks");
  const endpoints: Record<string, EndpointSettings> = {};
  for (const [i, n] of (networks.length ? networks : ["default"]).entries()) {
    const ep: EndpointSettings = {};
    if (i === 0) {
      // The plain flags configure the first network, as docker's CLI does.
      if (aliases.length) ep.Aliases = aliases;
      if (list(p, "link").length && userDefined(n)) ep.Links = list(p, "link");
      if (str(p, "ip") || str(p, "ip6")) {
        ep.IPAMConfig = { IPv4Address: str(p, "ip") || undefined, IPv6Address: str(p, "ip6") || undefined };
      }
      if (str(p, "mac-address")) ep.MacAddress = str(p, "mac-address");
    }
    if (i === 0 && networks.length <= 1 && Object.keys(ep).length === 0) continue;
    endpoints[n] = ep;
  }

  const cpus = str(p, "cpus");
  let nanoCpus: number | undefined;
  if (cpus) {
    const n = Number(cpus);
    if (!Number.isFinite(n) || n < 0)
      throw badFlag("cpus", cpus, `failed to parse ${cpus} as a rational number`);
    nanoCpus = Math.round(n * 1e9);
  }

  const host: HostConfig = {
    Binds: binds.length ? binds : undefined,
    ContainerIDFile: str(p, "cidfile"),
    LogConfig: { Type: str(p, "log-driver"), Config: labelsFrom(list(p, "log-opt")) },
    NetworkMode: networkMode,
    PortBindings: bindings,
    RestartPolicy: restart,
    AutoRemove: bool(p, "rm"),
    VolumesFrom: list(p, "volumes-from").length ? list(p, "volumes-from") : undefined,
    Mounts: list(p, "mount").length ? list(p, "mount").map(parseMount) : undefined,
    ConsoleSize:
      bool(p, "tty") && process.stdout.isTTY ? [process.stdout.rows, process.stdout.columns] : [0, 0],
    CapAdd: normalizeCaps(list(p, "cap-add")),
    CapDrop: normalizeCaps(list(p, "cap-drop")),
    CgroupnsMode: (str(p, "cgroupns") || undefined) as HostConfig["CgroupnsMode"],
    Dns: list(p, "dns"),
    DnsOptions: list(p, "dns-option"),
    DnsSearch: list(p, "dns-search"),
    ExtraHosts: list(p, "add-host").length ? list(p, "add-host") : undefined,
    GroupAdd: list(p, "group-add").length ? list(p, "group-add") : undefined,
    IpcMode: str(p, "ipc"),
    Links: list(p, "link").length ? list(p, "link") : undefined,
    OomScoreAdj: int(p, "oom-score-adj") ?? 0,
    PidMode: str(p, "pid"),
    Privileged: bool(p, "privileged"),
    PublishAllPorts: bool(p, "publish-all"),
    ReadonlyRootfs: bool(p, "read-only"),
    SecurityOpt: list(p, "security-opt").length ? list(p, "security-opt").map(securityOpt) : undefined,
    StorageOpt: list(p, "storage-opt").length ? labelsFrom(list(p, "storage-opt")) : undefined,
    Tmpfs: Object.keys(tmpfs).length ? tmpfs : undefined,
    UTSMode: str(p, "uts"),
    UsernsMode: str(p, "userns"),
    ShmSize: bytesFlag(p, "shm-size") ?? 0,
    Sysctls: list(p, "sysctl").length ? labelsFrom(list(p, "sysctl")) : undefined,
    Runtime: str(p, "runtime") || undefined,
    Isolation: (str(p, "isolation") || "") as HostConfig["Isolation"],
    Annotations: list(p, "annotation").length ? labelsFrom(list(p, "annotation")) : undefined,
    Init: bool(p, "init") ? true : undefined,
    CpuShares: int(p, "cpu-shares") ?? 0,
    Memory: bytesFlag(p, "memory") ?? 0,
    NanoCpus: nanoCpus ?? 0,
    CgroupParent: str(p, "cgroup-parent"),
    BlkioWeight: int(p, "blkio-weight") ?? 0,
    CpuPeriod: int(p, "cpu-period") ?? 0,
    CpuQuota: int(p, "cpu-quota") ?? 0,
    CpusetCpus: str(p, "cpuset-cpus"),
    CpusetMems: str(p, "cpuset-mems"),
    Devices: list(p, "device").map((d) => {
      const [onHost, inCtr, perms] = d.split(":");
      return { PathOnHost: onHost, PathInContainer: inCtr || onHost, CgroupPermissions: perms || "rwm" };
    }),
    DeviceCgroupRules: list(p, "device-cgroup-rule").length ? list(p, "device-cgroup-rule") : undefined,
    MemoryReservation: bytesFlag(p, "memory-reservation") ?? 0,
    MemorySwap: bytesFlag(p, "memory-swap") ?? 0,
    MemorySwappiness: int(p, "memory-swappiness") ?? -1,
    OomKillDisable: bool(p, "oom-kill-disable"),
    PidsLimit: int(p, "pids-limit") ?? 0,
    Ulimits: list(p, "ulimit").map((u) => {
      const [name, vals = ""] = u.split("=");
      const [soft, hard] = vals.split(":");
      const s = Number(soft);
      if (!name || !Number.isInteger(s)) throw badFlag("ulimit", u, `invalid ulimit argument: ${u}`);
      return { Name: name, Soft: s, Hard: hard === undefined ? s : Number(hard) };
    }),
  };

  const req: ContainerCreateRequest = {
    Hostname: str(p, "hostname"),
    Domainname: str(p, "domainname"),
    User: str(p, "user"),
    AttachStdin: attachStdin,
    AttachStdout: attachStdout,
    AttachStderr: attachStderr,
    Tty: bool(p, "tty"),
    OpenStdin: interactive,
    StdinOnce: interactive && attachStdin,
    Env: env,
    Cmd: cmd.length ? cmd : undefined,
    Image: image,
    Volumes: volumes,
    WorkingDir: str(p, "workdir"),
    Entrypoint: p.set.has("entrypoint") ? [str(p, "entrypoint")] : undefined,
    Labels: labels,
    HostConfig: host,
  };
  if (Object.keys(exposed).length) req.ExposedPorts = exposed;
  if (str(p, "stop-signal")) req.StopSignal = str(p, "stop-signal");
  if (int(p, "stop-timeout") !== undefined) req.StopTimeout = int(p, "stop-timeout");
  const hc = healthConfig(p);
  if (hc) req.Healthcheck = hc;
  if (Object.keys(endpoints).length) req.NetworkingConfig = { EndpointsConfig: endpoints };
  return req;
}

/**
 * As the docker CLI does, `seccomp=<file>` is sent as `seccomp=<the file's JSON, compacted>`: the daemon
 * never reads client paths.
 */
function securityOpt(opt: string): string {
  const m = /^seccomp[=:](.*)$/s.exec(opt);
  const v = m?.[1];
  if (v === undefined || v === "unconfined" || v === "builtin" || v.trimStart().startsWith("{")) return opt;
  let text: string;
  try {
    text = readFileSync(v, "utf8");
  } catch (e) {
    throw new StatusError(125, `opening seccomp profile (${v}) failed: ${(e as Error).message}`);
  }
  try {
    return `seccomp=${JSON.stringify(JSON.parse(text))}`;
  } catch (e) {
    throw new StatusError(125, `compacting json for seccomp profile (${v}) failed: ${(e as Error).message}`);
  }
}
