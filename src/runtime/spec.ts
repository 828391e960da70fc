/**
 * OCI runtime spec generation with Docker's defaults (moby's oci/defaults.go and daemon/oci_linux.go, read
 * for behaviour): the same namespaces, capabilities, masked paths, mounts and device rules, so programs see
 * the environment they see under dockerd.
 */
import { InvalidParameterError } from "../errdefs/index.ts";
import type {
  OciDevice,
  OciDeviceCgroup,
  OciMount,
  OciNamespace,
  OciNamespaceType,
  OciResources,
  OciRlimit,
  OciSpec,
} from "../oci/index.ts";
import { ALL_CAPS, hostCaps } from "./caps.ts";
import type { SpecDevice } from "./devices.ts";
import { type SeccompChoice, seccompToOci } from "./seccomp.ts";
import { builtinSeccompProfile } from "./seccomp-default.ts";

export { ALL_CAPS };

/** Docker's default capability set for unprivileged containers. */
export const DEFAULT_CAPS: readonly string[] = [
  "CAP_CHOWN",
  "CAP_DAC_OVERRIDE",
  "CAP_FSETID",
  "CAP_FOWNER",
  "CAP_MKNOD",
  "CAP_NET_RAW",
  "CAP_SETGID",
  "CAP_SETUID",
  "CAP_SETFCAP",
  "CAP_SETPCAP",
  "CAP_NET_BIND_SERVICE",
  "CAP_SYS_CHROOT",
  "CAP_KILL",
  "CAP_AUDIT_WRITE",
];

/** Paths Docker hides from unprivileged containers. */
export const DEFAULT_MASKED_PATHS: readonly string[] = [
  "/proc/asound",
  "/proc/acpi",
  "/proc/kcore",
  "/proc/keys",
  "/proc/latency_stats",
  "/proc/timer_list",
  "/proc/timer_stats",
  "/proc/sched_debug",
  "/proc/scsi",
  "/sys/firmware",
  "/sys/devices/virtual/powercap",
];

/** Paths Docker makes read-only in unprivileged containers. */
export const DEFAULT_READONLY_PATHS: readonly string[] = [
  "/proc/bus",
  "/proc/fs",
  "/proc/irq",
  "/proc/sys",
  "/proc/sysrq-trigger",
];

const BUILTIN_SECCOMP = builtinSeccompProfile();

/** Docker's default PATH inside a container. */
export const DEFAULT_PATH_ENV = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/** Default parent of every container's cgroup; a daemon passes its own to keep its containers apart. */
export const DEFAULT_CGROUP_PARENT = "/wharf";

const DEFAULT_SHM_SIZE = 64 * 1024 * 1024;

/** The device nodes runc creates in /dev, as Docker lists them (null zero full random urandom tty). */
const DEFAULT_DEVICES: readonly OciDevice[] = [
  { type: "c", path: "/dev/null", major: 1, minor: 3, fileMode: 0o666, uid: 0, gid: 0 },
  { type: "c", path: "/dev/zero", major: 1, minor: 5, fileMode: 0o666, uid: 0, gid: 0 },
  { type: "c", path: "/dev/full", major: 1, minor: 7, fileMode: 0o666, uid: 0, gid: 0 },
  { type: "c", path: "/dev/random", major: 1, minor: 8, fileMode: 0o666, uid: 0, gid: 0 },
  { type: "c", path: "/dev/urandom", major: 1, minor: 9, fileMode: 0o666, uid: 0, gid: 0 },
  { type: "c", path: "/dev/tty", major: 5, minor: 0, fileMode: 0o666, uid: 0, gid: 0 },
];

/** The devices cgroup rules of an unprivileged Docker container (its devices.list). */
const DEFAULT_DEVICE_RULES: readonly OciDeviceCgroup[] = [
  { allow: false, access: "rwm" },
  { allow: true, type: "c", access: "m" },
  { allow: true, type: "b", access: "m" },
  { allow: true, type: "c", major: 1, minor: 3, access: "rwm" },
  { allow: true, type: "c", major: 1, minor: 5, access: "rwm" },
  { allow: true, type: "c", major: 1, minor: 7, access: "rwm" },
  { allow: true, type: "c", major: 1, minor: 8, access: "rwm" },
  { allow: true, type: "c", major: 1, minor: 9, access: "rwm" },
  { allow: true, type: "c", major: 5, minor: 0, access: "rwm" },
  { allow: true, type: "c", major: 5, minor: 1, access: "rwm" },
  { allow: true, type: "c", major: 5, minor: 2, access: "rwm" },
  { allow: true, type: "c", major: 136, access: "rwm" },
  { allow: true, type: "c", major: 10, minor: 200, access: "rwm" },
];

/** A mount the caller adds: binds (hosts, resolv.conf, hostname, volumes) or tmpfs. */
export interface SpecMount {
  destination: string;
  source: string;
  /** "bind" (default) or a filesystem type such as "tmpfs". */
  type?: string;
  readonly?: boolean;
  /** Bind propagation; Docker's default is rprivate. */
  propagation?: "private" | "rprivate" | "shared" | "rshared" | "slave" | "rslave";
  /** Extra mount options, appended verbatim (e.g. "nosuid", "size=1m"). */
  options?: string[];
}

/** cgroup limits in Docker's HostConfig units. */
export interface SpecResources {
  /** Bytes; 0 or absent = unlimited. */
  memory?: number;
  /** Memory + swap in bytes; -1 = unlimited swap. */
  memorySwap?: number;
  memoryReservation?: number;
  memorySwappiness?: number;
  oomKillDisable?: boolean;
  cpuShares?: number;
  cpuQuota?: number;
  cpuPeriod?: number;
  /** CPUs × 1e9, as `--cpus` sends it; turned into quota over a 100 ms period. */
  nanoCpus?: number;
  cpusetCpus?: string;
  cpusetMems?: string;
  /** 0 or absent = unlimited; -1 also unlimited, as Docker treats it. */
  pidsLimit?: number;
  blkioWeight?: number;
}

/** Everything that varies between containers; the rest is Docker's defaults. */
export interface SpecInput {
  /** The container ID: names the cgroup. */
  id: string;
  /** Absolute path of the root filesystem (the overlay's merged dir). */
  rootfs: string;
  readonlyRootfs?: boolean;
  args: string[];
  env?: string[];
  /** Absolute working directory inside the container; "/" when absent. */
  cwd?: string;
  terminal?: boolean;
  consoleSize?: { height: number; width: number };
  /** Resolved numeric user (see user.ts); root when absent. */
  user?: { uid: number; gid: number; additionalGids?: number[]; umask?: number };
  hostname?: string;
  /** Docker labels, written as OCI annotations. */
  labels?: Record<string, string>;
  capAdd?: string[];
  capDrop?: string[];
  privileged?: boolean;
  mounts?: SpecMount[];
  /** /dev/shm size in bytes (Docker's ShmSize); 64 MiB when absent or 0. */
  shmSize?: number;
  /** Namespaces to join instead of creating (e.g. a network namespace set up by the network driver). */
  namespacePaths?: Partial<Record<OciNamespaceType, string>>;
  /** Namespaces shared with the host (`--net=host`, `--pid=host`, ...): neither created nor joined. */
  hostNamespaces?: OciNamespaceType[];
  /** User `--ulimit`s; they win over `defaultRlimits`. */
  rlimits?: OciRlimit[];
  /** The daemon's own limits (see daemonRlimits()); absent means runc inherits them from conmon. */
  defaultRlimits?: OciRlimit[];
  oomScoreAdj?: number;
  /** Parent of the container's cgroup; DEFAULT_CGROUP_PARENT when absent. */
  cgroupParent?: string;
  /**
   * false for a rootless daemon without cgroup delegation (cgroup v1): no cgroupsPath and no limits, so
   * runc's rootless cgroup manager leaves cgroups alone instead of failing on directories it may not create.
   */
  cgroups?: boolean;
  resources?: SpecResources;
  sysctls?: Record<string, string>;
  /** Extra device nodes (`--device`), with their cgroup permissions ("rwm" when absent). */
  devices?: SpecDevice[];
  /** `--device-cgroup-rule`s, allowed after Docker's defaults (see parseDeviceCgroupRule). */
  deviceRules?: OciDeviceCgroup[];
  /** Overrides of Docker's masked and read-only paths (`--security-opt systempaths=unconfined` gives []). */
  maskedPaths?: string[];
  readonlyPaths?: string[];
  noNewPrivileges?: boolean;
  /** The seccomp filter; wharf's built-in profile when absent. Privileged containers never get one. */
  seccomp?: SeccompChoice;
  /**
   * `--init`: host path of a statically linked init (tini-static or catatonit, see findInitBinary),
   * bind-mounted read-only at DOCKER_INIT_PATH and run as pid 1 with `-- <args>`.
   */
  init?: { path: string };
  /**
   * `--userns-remap`: a new user namespace with these mappings (container ids from 0). A network
   * namespace it does not own (one made by the network driver, or the host's) cannot get a sysfs of its
   * own there, so /sys is then the host's bound read-only, as runc's rootless spec does.
   */
  userns?: { uidMappings: OciIdMapping[]; gidMappings: OciIdMapping[] };
}

/** One line of a user namespace's uid_map or gid_map. */
export interface OciIdMapping {
  containerID: number;
  hostID: number;
  size: number;
}

/** Where `--init` puts the init binary inside the container, as Docker does. */
export const DOCKER_INIT_PATH = "/sbin/docker-init";

/** Builds the config.json for a container from its settings, with Docker's defaults for the rest. */
export function buildSpec(input: SpecInput): OciSpec {
  if (!input.rootfs.startsWith("/"))
    throw new InvalidParameterError(`rootfs must be absolute: ${input.rootfs}`);
  if (input.args.length === 0) throw new InvalidParameterError("no command specified");
  const cwd = input.cwd || "/";
  if (!cwd.startsWith("/")) {
    throw new InvalidParameterError(
      `the working directory '${cwd}' is invalid, it needs to be an absolute path`,
    );
  }
  const privileged = input.privileged === true;
  const user = input.user ?? { uid: 0, gid: 0 };
  const caps = resolveCaps(input.capAdd ?? [], input.capDrop ?? [], privileged);
  // Docker gives non-root processes the bounding set only, so they gain capabilities through setcap'd
  // binaries but hold none by default.
  const held = user.uid === 0 ? caps : [];
  const hostname = input.hostname ?? input.id.slice(0, 12);

  const spec: OciSpec = {
    ociVersion: "1.0.2",
    process: {
      terminal: input.terminal === true,
      user: {
        uid: user.uid,
        gid: user.gid,
        ...(user.umask !== undefined ? { umask: user.umask } : {}),
        ...(user.additionalGids?.length ? { additionalGids: [...user.additionalGids] } : {}),
      },
      args: input.init ? [DOCKER_INIT_PATH, "--", ...input.args] : [...input.args],
      env: buildEnv(input.env ?? [], hostname, input.terminal === true),
      cwd,
      capabilities: { bounding: caps, effective: held, permitted: held, inheritable: [], ambient: [] },
      noNewPrivileges: input.noNewPrivileges === true,
    },
    root: { path: input.rootfs, readonly: input.readonlyRootfs === true },
    // A UTS namespace joined (another container's, or the host's) keeps its own name: runc would set it.
    ...(input.hostNamespaces?.includes("uts") || input.namespacePaths?.uts ? {} : { hostname }),
    mounts: buildMounts(input, privileged),
    linux: {
      namespaces: buildNamespaces(input),
      devices: [...DEFAULT_DEVICES.map((d) => ({ ...d })), ...(input.devices ?? []).map(stripAccess)],
      ...(input.cgroups === false
        ? { resources: { devices: buildResources(input, privileged).devices } }
        : {
            cgroupsPath: cgroupsPath(input.cgroupParent ?? DEFAULT_CGROUP_PARENT, input.id),
            resources: buildResources(input, privileged),
          }),
      maskedPaths: privileged ? [] : [...(input.maskedPaths ?? DEFAULT_MASKED_PATHS)],
      readonlyPaths: privileged ? [] : [...(input.readonlyPaths ?? DEFAULT_READONLY_PATHS)],
    },
  };
  if (input.userns) {
    spec.linux.uidMappings = input.userns.uidMappings.map((m) => ({ ...m }));
    spec.linux.gidMappings = input.userns.gidMappings.map((m) => ({ ...m }));
  }
  const seccomp = input.seccomp ?? { kind: "builtin" };
  // As in dockerd: privileged means no filter at all; other rules depend on the capabilities granted.
  if (!privileged && seccomp.kind !== "unconfined") {
    const profile = seccomp.kind === "profile" ? seccomp.profile : BUILTIN_SECCOMP;
    spec.linux.seccomp = seccompToOci(profile, { caps });
  }
  if (input.consoleSize) spec.process.consoleSize = { ...input.consoleSize };
  const rlimits = mergeRlimits(input.defaultRlimits ?? [], input.rlimits ?? []);
  if (rlimits.length) spec.process.rlimits = rlimits;
  if (input.oomScoreAdj !== undefined) spec.process.oomScoreAdj = input.oomScoreAdj;
  if (input.sysctls && Object.keys(input.sysctls).length) spec.linux.sysctl = { ...input.sysctls };
  // As dockerd: a shared bind needs the root to be a shared mount too, a slave one at least a slave.
  const props = (input.mounts ?? []).map((m) => m.propagation ?? "");
  if (props.some((p) => p === "shared" || p === "rshared")) spec.linux.rootfsPropagation = "rshared";
  else if (props.some((p) => p === "slave" || p === "rslave")) spec.linux.rootfsPropagation = "rslave";
  if (input.labels && Object.keys(input.labels).length) spec.annotations = { ...input.labels };
  return spec;
}

/** `/wharf/<id>` style cgroup path: all of one daemon's containers under one parent. */
export function cgroupsPath(parent: string, id: string): string {
  const p = parent.replace(/\/+$/, "");
  return `${p.startsWith("/") ? p : `/${p}`}/${id}`;
}

/**
 * Docker's capability arithmetic: defaults, minus drops, plus adds; `ALL` on either side; names with or
 * without `CAP_`. "All" (privileged, `--cap-add ALL`) means all the daemon itself holds (hostCaps).
 */
export function resolveCaps(add: string[], drop: string[], privileged: boolean): string[] {
  if (privileged) return [...hostCaps()];
  const norm = (c: string): string => {
    const u = c.trim().toUpperCase();
    if (u === "ALL") return u;
    const name = u.startsWith("CAP_") ? u : `CAP_${u}`;
    if (!ALL_CAPS.includes(name)) throw new InvalidParameterError(`unknown capability: "${c}"`);
    return name;
  };
  const adds = add.map(norm);
  const drops = drop.map(norm);
  let caps: string[];
  if (adds.includes("ALL")) {
    caps = [...hostCaps()];
    // With add ALL, Docker still honours explicit drops other than ALL.
    return caps.filter((c) => !drops.includes(c));
  }
  caps = drops.includes("ALL") ? [] : DEFAULT_CAPS.filter((c) => !drops.includes(c));
  for (const c of adds) if (!caps.includes(c)) caps.push(c);
  return caps;
}

function buildEnv(env: string[], hostname: string, terminal: boolean): string[] {
  const out: string[] = [];
  const keys = new Set(env.map((e) => e.split("=", 1)[0]));
  // Docker puts its own variables first and lets the container's config override them.
  if (!keys.has("PATH")) out.push(DEFAULT_PATH_ENV);
  if (!keys.has("HOSTNAME")) out.push(`HOSTNAME=${hostname}`);
  if (terminal && !keys.has("TERM")) out.push("TERM=xterm");
  out.push(...env);
  return out;
}

function buildNamespaces(input: SpecInput): OciNamespace[] {
  const host = new Set(input.hostNamespaces ?? []);
  const paths = input.namespacePaths ?? {};
  const out: OciNamespace[] = [];
  for (const type of ["pid", "network", "ipc", "uts", "mount"] as const) {
    if (host.has(type) && type !== "mount") continue;
    const path = paths[type];
    out.push(path ? { type, path } : { type });
  }
  if (input.userns) out.push(paths.user ? { type: "user", path: paths.user } : { type: "user" });
  return out;
}

function buildMounts(input: SpecInput, privileged: boolean): OciMount[] {
  const shmSize = input.shmSize && input.shmSize > 0 ? input.shmSize : DEFAULT_SHM_SIZE;
  const defaults: OciMount[] = [
    { destination: "/proc", type: "proc", source: "proc", options: ["nosuid", "noexec", "nodev"] },
    {
      destination: "/dev",
      type: "tmpfs",
      source: "tmpfs",
      options: ["nosuid", "strictatime", "mode=755", "size=65536k"],
    },
    {
      destination: "/dev/pts",
      type: "devpts",
      source: "devpts",
      options: ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"],
    },
    {
      destination: "/sys",
      type: "sysfs",
      source: "sysfs",
      options: ["nosuid", "noexec", "nodev", privileged ? "rw" : "ro"],
    },
    {
      destination: "/sys/fs/cgroup",
      type: "cgroup",
      source: "cgroup",
      options: ["nosuid", "noexec", "nodev", "relatime", privileged ? "rw" : "ro"],
    },
    { destination: "/dev/mqueue", type: "mqueue", source: "mqueue", options: ["nosuid", "noexec", "nodev"] },
    {
      destination: "/dev/shm",
      type: "tmpfs",
      source: "shm",
      options: ["nosuid", "noexec", "nodev", "mode=1777", `size=${shmSize}`],
    },
  ];
  // sysfs may be mounted only by the user namespace that owns the network namespace.
  const foreignNet =
    !!input.userns &&
    !input.namespacePaths?.user &&
    (!!input.namespacePaths?.network || !!input.hostNamespaces?.includes("network"));
  if (foreignNet) {
    const sys = defaults.find((m) => m.destination === "/sys");
    if (sys)
      Object.assign(sys, {
        type: "bind",
        source: "/sys",
        options: ["rbind", "nosuid", "noexec", "nodev", "ro"],
      });
  }
  const user = (input.mounts ?? []).map(toOciMount);
  if (input.init) {
    user.push({
      destination: DOCKER_INIT_PATH,
      type: "bind",
      source: input.init.path,
      options: ["rbind", "rprivate", "ro", "nosuid", "nodev"],
    });
  }
  const taken = new Set(user.map((m) => m.destination));
  // A user mount on a default's destination replaces it, as in Docker (e.g. -v /host/shm:/dev/shm).
  const kept = defaults.filter((m) => !taken.has(m.destination));
  // Parents must be mounted before children, or the child is hidden; sort by depth, stable otherwise.
  const depth = (p: string): number => p.split("/").filter(Boolean).length;
  const sorted = user
    .map((m, i) => ({ m, i }))
    .sort((a, b) => depth(a.m.destination) - depth(b.m.destination) || a.i - b.i)
    .map((x) => x.m);
  return [...kept, ...sorted];
}

function toOciMount(m: SpecMount): OciMount {
  const dest = normalizeDest(m.destination);
  const type = m.type ?? "bind";
  if (type === "bind") {
    const options = ["rbind", m.propagation ?? "rprivate"];
    if (m.readonly) options.push("ro");
    options.push(...(m.options ?? []));
    return { destination: dest, type: "bind", source: m.source, options };
  }
  const options = [...(m.options ?? [])];
  if (m.readonly) options.push("ro");
  if (type === "tmpfs" && !options.some((o) => o.startsWith("nosuid")))
    options.unshift("nosuid", "nodev", "noexec");
  return { destination: dest, type, source: m.source || type, options };
}

function normalizeDest(dest: string): string {
  if (!dest.startsWith("/"))
    throw new InvalidParameterError(`invalid mount config: mount path must be absolute: ${dest}`);
  const parts: string[] = [];
  for (const p of dest.split("/")) {
    if (p === "" || p === ".") continue;
    if (p === "..") parts.pop();
    else parts.push(p);
  }
  return `/${parts.join("/")}`;
}

function buildResources(input: SpecInput, privileged: boolean): OciResources {
  const devices: OciDeviceCgroup[] = privileged
    ? [{ allow: true, access: "rwm" }]
    : DEFAULT_DEVICE_RULES.map((r) => ({ ...r }));
  if (!privileged) {
    for (const d of input.devices ?? []) {
      if (d.type !== "c" && d.type !== "b") continue;
      devices.push({ allow: true, type: d.type, major: d.major, minor: d.minor, access: d.access ?? "rwm" });
    }
    for (const r of input.deviceRules ?? []) devices.push({ ...r });
  }
  return { devices, ...(input.resources ? limitsToOci(input.resources) : {}) };
}

/** The cgroup limits of `r` in OCI form (no device rules); zero and absent fields are left out. */
export function limitsToOci(r: SpecResources): OciResources {
  const out: OciResources = {};
  const memory: NonNullable<OciResources["memory"]> = {};
  if (r.memory) memory.limit = r.memory;
  if (r.memorySwap) memory.swap = r.memorySwap;
  if (r.memoryReservation) memory.reservation = r.memoryReservation;
  if (r.memorySwappiness !== undefined && r.memorySwappiness >= 0) memory.swappiness = r.memorySwappiness;
  if (r.oomKillDisable) memory.disableOOMKiller = true;
  if (Object.keys(memory).length) out.memory = memory;
  const cpu: NonNullable<OciResources["cpu"]> = {};
  if (r.cpuShares) cpu.shares = r.cpuShares;
  if (r.nanoCpus) {
    cpu.period = 100_000;
    cpu.quota = Math.round((r.nanoCpus * 100_000) / 1e9);
  }
  if (r.cpuQuota) cpu.quota = r.cpuQuota;
  if (r.cpuPeriod) cpu.period = r.cpuPeriod;
  if (r.cpusetCpus) cpu.cpus = r.cpusetCpus;
  if (r.cpusetMems) cpu.mems = r.cpusetMems;
  if (Object.keys(cpu).length) out.cpu = cpu;
  if (r.pidsLimit && r.pidsLimit > 0) out.pids = { limit: r.pidsLimit };
  if (r.blkioWeight) out.blockIO = { weight: r.blkioWeight };
  return out;
}

function mergeRlimits(defaults: OciRlimit[], user: OciRlimit[]): OciRlimit[] {
  const byType = new Map<string, OciRlimit>();
  for (const r of [...defaults, ...user]) {
    const type = r.type.toUpperCase().startsWith("RLIMIT_")
      ? r.type.toUpperCase()
      : `RLIMIT_${r.type.toUpperCase()}`;
    byType.set(type, { type, hard: r.hard, soft: r.soft });
  }
  return [...byType.values()];
}

function stripAccess(d: SpecDevice): OciDevice {
  const { access: _access, ...dev } = d;
  return dev;
}
