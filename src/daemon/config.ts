import { parseArgs } from "node:util";
import { InvalidParameterError } from "../errdefs/index.ts";
import type { HostForward } from "../network/index.ts";
import type { OciRlimit } from "../oci/index.ts";
import type { OciRuntimeConfig } from "../runtime/index.ts";
import type { LogLevel } from "../util/index.ts";
import { parseAddRuntimes } from "./runtimes.ts";

/** The daemon's settings, from its flags. */
export interface DaemonConfig {
  dataRoot: string;
  execRoot: string;
  /** Listen addresses: `unix:///path` or `tcp://host:port`. */
  hosts: string[];
  bridge: string;
  bip?: string;
  /** `--ipv6`: the default bridge has IPv6; `--fixed-cidr-v6` its subnet. */
  ipv6: boolean;
  fixedCidrV6?: string;
  pidfile: string;
  logLevel: LogLevel;
  /** runc's binary (`--runtime`). */
  runtime: string;
  /** `--add-runtime NAME=PATH`s. */
  addRuntimes: Record<string, OciRuntimeConfig>;
  /** `--default-runtime`, when given. */
  defaultRuntime?: string;
  /** `--config-file` (dockerd's daemon.json); read when present, required when named explicitly. */
  configFile: string;
  configFileExplicit: boolean;
  conmon: string;
  /** Parent cgroup of this daemon's containers; derived from the exec root so two daemons never share one. */
  cgroupParent: string;
  tls?: { cert: string; key: string; ca?: string; verify: boolean };
  /** Registries spoken to over plain HTTP besides loopback ones (`host[:port]` or CIDR). */
  insecureRegistries: string[];
  /** Mirrors for names without a registry host. */
  registryMirrors: string[];
  /** `--registry-mirror NAME=URL`: the mirror that serves one registry host (e.g. registry.k8s.io). */
  registryHostMirrors: Record<string, string>;
  /** `--cri-socket`: serve Kubernetes' CRI v1 on this unix socket; off when absent. */
  criSocket?: string;
  /** `--docker-socket`: a second unix socket, claimed only when no other daemon answers on it. */
  dockerSocket?: string;
  /** `--cri-stream-address`: where the CRI streaming server (exec, attach, port-forward URLs) listens. */
  criStreamAddress: string;
  /** CNI for pods: `--cni-conf-dir`, `--cni-bin-dir` (":"-separated), and the default network's bridge and subnet. */
  cni: { confDir: string; binDirs: string[]; bridge: string; subnet: string };
  /** `--tls=false` / `--tlsverify=false` given: plain TCP is then accepted (with a warning), else refused. */
  tlsExplicitlyOff: boolean;
  /** `--tls` given explicitly: server-only TLS (no client verification) is then accepted, as in Docker. */
  tlsExplicitlyOn: boolean;
  /** Group of the unix socket (`--group`); "docker" by default, used only when that group exists. */
  socketGroup: string;
  /** `--seccomp-profile`: a Docker-format profile file, "unconfined" or "builtin" (default). */
  seccompProfile: string;
  /** `--no-new-privileges`: every container gets no_new_privs. */
  noNewPrivileges: boolean;
  /** `--default-pids-limit`: pids limit of containers that set none; 0 = unlimited. */
  defaultPidsLimit: number;
  /** `--default-ulimit`s: every container's rlimits unless it sets its own. */
  defaultUlimits: OciRlimit[];
  /** `--userns-remap`: USER[:GROUP] (names or ids) or "default" (dockremap); containers' root maps to its ranges. */
  usernsRemap?: string;
  /**
   * `--storage-driver`: overlay2 (the kernel's overlayfs) or fuse-overlayfs (the same layers through FUSE).
   * Absent: overlay2, except that a rootless daemon whose kernel cannot mount overlayfs in a user
   * namespace (before 5.11) falls back to fuse-overlayfs, as Docker's rootless mode picks.
   */
  storageDriver?: "overlay2" | "fuse-overlayfs";
  /** `--rootless-net`: slirp4netns or pasta (default: slirp4netns when installed). */
  rootlessNet?: "slirp4netns" | "pasta";
  /** `--rootless-port-driver`: builtin or slirp4netns (default: slirp4netns's own under slirp4netns). */
  rootlessPortDriver?: "builtin" | "slirp4netns";
  /** Set inside a rootless daemon's namespaces (see rootless.ts): what differs from the root daemon. */
  rootless?: RootlessConfig;
  /** Hidden `--api-*` flags: the API server's HTTP limits (bytes, milliseconds), for tests and tuning. */
  httpLimits: {
    maxHeaderSize?: number;
    maxJsonBody?: number;
    headersTimeoutMs?: number;
    bodyTimeoutMs?: number;
  };
}

/** What a rootless daemon does differently, chosen once at start-up. */
export interface RootlessConfig {
  /** Forwards a published port from the host (the launcher's port driver). */
  forward: HostForward;
  /** The user-mode network stack: slirp4netns or pasta. */
  network: string;
  /** Whether containers get cgroups (and so limits): not on cgroup v1, which has no delegation. */
  cgroups: boolean;
}

/** A hidden numeric flag: a positive whole number, or absent. */
function positive(name: string, v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  if (!/^\d+$/.test(v) || Number(v) <= 0) throw new InvalidParameterError(`invalid --${name}: ${v}`);
  return Number(v);
}

/** Usage text of `wharf daemon`. */
export const DAEMON_USAGE = `Usage:  wharf daemon [OPTIONS]

A container engine that speaks the Docker Engine API

Options:
      --data-root string     Root directory of persistent state (default "/var/lib/wharf")
      --exec-root string     Root directory for execution state files (default "/run/wharf")
  -H, --host list            Daemon socket(s) to connect to (default unix:///run/wharf/wharf.sock)
      --docker-socket string Also serve this unix socket (e.g. /var/run/docker.sock for tools that hard-code it),
                             unless another daemon answers there
      --bridge string        Attach containers to a network bridge (default "wharf0")
      --bip string           Specify default-bridge IP (CIDR)
      --ipv6                 Enable IPv6 networking (on the default bridge)
      --fixed-cidr-v6 string IPv6 subnet for fixed IPs (the default bridge's, with --ipv6)
  -p, --pidfile string       Path to use for daemon PID file (default "<exec-root>/wharf.pid")
  -l, --log-level string     Set the logging level ("debug"|"info"|"warn"|"error"|"fatal") (default "info")
  -D, --debug                Enable debug mode
      --runtime string       OCI runtime binary (default "runc")
      --add-runtime list     Register an additional OCI compatible runtime (NAME=PATH)
      --default-runtime string  Default OCI runtime for containers (default "runc")
      --config-file string   Daemon configuration file (default "/etc/wharf/daemon.json")
      --cgroup-parent string Parent cgroup for all containers
      --tlscert string       Path to TLS certificate file
      --tlskey string        Path to TLS key file
      --tlscacert string     Trust certs signed only by this CA
      --tls                  Use TLS; implied by --tlsverify (--tls=false allows plain TCP)
      --tlsverify            Use TLS and verify the remote
  -G, --group string         Group for the unix socket (default "docker")
      --seccomp-profile string  Path to seccomp profile; "unconfined" to turn seccomp off (default "builtin")
      --no-new-privileges    Set no-new-privileges by default for new containers
      --default-pids-limit int  Default max processes per container (0 = unlimited)
      --default-ulimit list  Default ulimits for containers (e.g. nofile=1024:2048)
      --userns-remap string  User/Group setting for user namespaces ("default" creates and uses dockremap)
      --insecure-registry list  Registries (host[:port] or CIDR) reached over plain HTTP
      --registry-mirror list    Registry URLs that serve names given without a registry host,
                             or NAME=URL: the mirror serving registry NAME (e.g. registry.k8s.io=http://127.0.0.1:5000)
      --cri-socket string    Serve the Kubernetes CRI v1 on this unix socket (off by default)
      --cri-stream-address string  Address of the CRI streaming server (default "127.0.0.1:0")
      --cni-conf-dir string  CNI network configs for pods (default "/etc/cni/net.d")
      --cni-bin-dir string   CNI plugin dirs, ":"-separated (default "/usr/lib/cni:/opt/cni/bin")
      --cni-bridge string    Bridge of the default pod network wharf writes when none is configured (default "wharfcni0")
      --cni-subnet string    Subnet of that default pod network (default "10.88.0.0/16")
      --rootless-net string     Rootless: slirp4netns or pasta (default slirp4netns when installed)
      --rootless-port-driver string  Rootless: builtin or slirp4netns (default slirp4netns; pasta: builtin)
  -s, --storage-driver string   overlay2 or fuse-overlayfs (default overlay2; rootless: fuse-overlayfs when
                                the kernel cannot mount overlayfs in a user namespace)

Run by a user other than root, the daemon is rootless (in a user namespace of the user's subordinate ids,
networked by slirp4netns); its defaults are then --data-root ~/.local/share/wharf,
--exec-root $XDG_RUNTIME_DIR/wharf, -H unix://$XDG_RUNTIME_DIR/wharf.sock and
--config-file ~/.config/wharf/daemon.json.
`;

/** Boolean flags that also take `=true|false`, as Go's flag package allows and Docker's docs use. */
const BOOL_FLAGS = ["tls", "tlsverify", "no-new-privileges", "debug", "ipv6"];

/**
 * Pulls `--flag=value` spellings of boolean flags out of argv (node's parseArgs refuses them) and
 * remembers which were given explicitly and with what value.
 */
function explicitBools(argv: string[]): { rest: string[]; given: Map<string, boolean> } {
  const given = new Map<string, boolean>();
  const rest: string[] = [];
  for (const a of argv) {
    const m = /^--([a-z0-9-]+)(?:=(.*))?$/.exec(a);
    if (!m || !BOOL_FLAGS.includes(m[1] ?? "")) {
      rest.push(a);
      continue;
    }
    const v = m[2] === undefined ? "true" : m[2];
    if (!/^(1|0|t|f|true|false|TRUE|FALSE|True|False)$/.test(v))
      throw new InvalidParameterError(`invalid boolean value "${v}" for --${m[1]}`);
    given.set(m[1] ?? "", /^(1|t|true)$/i.test(v));
  }
  return { rest, given };
}

/** `name=soft[:hard]` as `--ulimit` takes it. */
export function parseUlimit(s: string): OciRlimit {
  const m = /^([a-z]+)=(-?\d+)(?::(-?\d+))?$/.exec(s);
  if (!m) throw new InvalidParameterError(`invalid ulimit argument: ${s}`);
  const soft = Number(m[2]);
  const hard = m[3] === undefined ? soft : Number(m[3]);
  if (soft > hard)
    throw new InvalidParameterError(
      `ulimit soft limit must be less than or equal to hard limit: ${soft} > ${hard}`,
    );
  return { type: `RLIMIT_${(m[1] ?? "").toUpperCase()}`, soft, hard };
}

/** The CRI and CNI flags, checked. */
function criFlags(
  values: Record<string, string | boolean | (string | boolean)[] | undefined>,
): Pick<DaemonConfig, "criSocket" | "criStreamAddress" | "cni"> {
  const str = (k: string) => (typeof values[k] === "string" ? (values[k] as string) : undefined);
  const socket = str("cri-socket")?.replace(/^unix:\/\//, "");
  if (socket !== undefined && !socket.startsWith("/"))
    throw new InvalidParameterError(`invalid --cri-socket: ${socket} (an absolute path)`);
  const stream = str("cri-stream-address") ?? "127.0.0.1:0";
  if (!/^[^:]+:\d+$/.test(stream)) throw new InvalidParameterError(`invalid --cri-stream-address: ${stream}`);
  const bridge = str("cni-bridge") ?? "wharfcni0";
  if (!/^[a-zA-Z0-9_.-]{1,15}$/.test(bridge))
    throw new InvalidParameterError(`invalid --cni-bridge: ${bridge}`);
  const subnet = str("cni-subnet") ?? "10.88.0.0/16";
  if (!/^\d+\.\d+\.\d+\.\d+\/\d+$/.test(subnet))
    throw new InvalidParameterError(`invalid --cni-subnet: ${subnet}`);
  return {
    ...(socket ? { criSocket: socket } : {}),
    criStreamAddress: stream,
    cni: {
      confDir: str("cni-conf-dir") ?? "/etc/cni/net.d",
      binDirs: (str("cni-bin-dir") ?? "/usr/lib/cni:/opt/cni/bin").split(":").filter(Boolean),
      bridge,
      subnet,
    },
  };
}

/** Parses `wharf daemon` flags; bad values are InvalidParameterErrors so start-up fails fast. */
export function parseDaemonFlags(
  argv: string[],
  o: { defaults?: { dataRoot: string; execRoot: string; host: string; configFile: string } } = {},
): DaemonConfig | "help" {
  const { rest, given } = explicitBools(argv);
  const { values } = parseArgs({
    args: rest,
    allowPositionals: false,
    options: {
      "data-root": { type: "string" },
      "exec-root": { type: "string" },
      host: { type: "string", short: "H", multiple: true },
      bridge: { type: "string", short: "b" },
      bip: { type: "string" },
      "fixed-cidr-v6": { type: "string" },
      pidfile: { type: "string", short: "p" },
      "log-level": { type: "string", short: "l" },
      debug: { type: "boolean", short: "D" },
      runtime: { type: "string" },
      "add-runtime": { type: "string", multiple: true },
      "default-runtime": { type: "string" },
      "config-file": { type: "string" },
      conmon: { type: "string" },
      "cgroup-parent": { type: "string" },
      tlscert: { type: "string" },
      tlskey: { type: "string" },
      tlscacert: { type: "string" },
      group: { type: "string", short: "G" },
      "seccomp-profile": { type: "string" },
      "default-pids-limit": { type: "string" },
      "default-ulimit": { type: "string", multiple: true },
      "userns-remap": { type: "string" },
      "insecure-registry": { type: "string", multiple: true },
      "registry-mirror": { type: "string", multiple: true },
      "cri-socket": { type: "string" },
      "docker-socket": { type: "string" },
      "cri-stream-address": { type: "string" },
      "cni-conf-dir": { type: "string" },
      "cni-bin-dir": { type: "string" },
      "cni-bridge": { type: "string" },
      "cni-subnet": { type: "string" },
      "storage-driver": { type: "string", short: "s" },
      "rootless-net": { type: "string" },
      "rootless-port-driver": { type: "string" },
      "api-max-header-size": { type: "string" },
      "api-max-json-body": { type: "string" },
      "api-headers-timeout-ms": { type: "string" },
      "api-body-timeout-ms": { type: "string" },
      "api-max-hijacked-per-client": { type: "string" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help) return "help";
  const execRoot = values["exec-root"] ?? o.defaults?.execRoot ?? "/run/wharf";
  const level = (given.get("debug") || values.debug ? "debug" : (values["log-level"] ?? "info")) as LogLevel;
  if (!["debug", "info", "warn", "error", "fatal"].includes(level))
    throw new InvalidParameterError(`invalid log level: ${level}`);
  const hosts = values.host?.length
    ? values.host
    : [o.defaults && values["exec-root"] === undefined ? o.defaults.host : `unix://${execRoot}/wharf.sock`];
  for (const h of hosts) {
    if (!/^(unix:\/\/\/|tcp:\/\/)/.test(h)) throw new InvalidParameterError(`invalid host address: ${h}`);
  }
  if (values.bip && !/^\d+\.\d+\.\d+\.\d+\/\d+$/.test(values.bip))
    throw new InvalidParameterError(`invalid --bip: ${values.bip}`);
  const fixed6 = values["fixed-cidr-v6"];
  if (fixed6 !== undefined && !/^[0-9a-fA-F:.]+\/\d{1,3}$/.test(fixed6))
    throw new InvalidParameterError(`invalid --fixed-cidr-v6: ${fixed6}`);
  const bridge = values.bridge ?? "wharf0";
  if (!/^[a-zA-Z0-9_.-]{1,15}$/.test(bridge))
    throw new InvalidParameterError(`invalid bridge name: ${bridge}`);
  const cgroupParent =
    values["cgroup-parent"] ??
    (execRoot === "/run/wharf"
      ? "/wharf"
      : `/wharf-${execRoot.replace(/[^a-zA-Z0-9]+/g, "_").replace(/^_|_$/g, "")}`);
  const verify = given.get("tlsverify") === true;
  // --tlsverify implies --tls; either set to false is the explicit opt-out Docker asks for.
  const tlsOn = given.get("tls") ?? (verify || undefined);
  const tls =
    tlsOn !== false && values.tlscert && values.tlskey
      ? { cert: values.tlscert, key: values.tlskey, ca: values.tlscacert, verify }
      : undefined;
  const driver = values["storage-driver"];
  if (driver !== undefined && driver !== "overlay2" && driver !== "fuse-overlayfs")
    throw new InvalidParameterError(
      `error initializing graphdriver: driver not supported: ${driver} (overlay2 or fuse-overlayfs)`,
    );
  const rnet = values["rootless-net"];
  if (rnet !== undefined && rnet !== "slirp4netns" && rnet !== "pasta")
    throw new InvalidParameterError(`invalid --rootless-net: ${rnet} (slirp4netns or pasta)`);
  const rports = values["rootless-port-driver"];
  if (rports !== undefined && rports !== "builtin" && rports !== "slirp4netns")
    throw new InvalidParameterError(`invalid --rootless-port-driver: ${rports} (builtin or slirp4netns)`);
  const pids = values["default-pids-limit"] ?? "0";
  if (!/^-?\d+$/.test(pids)) throw new InvalidParameterError(`invalid --default-pids-limit: ${pids}`);
  return {
    dataRoot: values["data-root"] ?? o.defaults?.dataRoot ?? "/var/lib/wharf",
    execRoot,
    hosts,
    bridge,
    bip: values.bip,
    ipv6: given.get("ipv6") === true,
    ...(fixed6 ? { fixedCidrV6: fixed6 } : {}),
    pidfile: values.pidfile ?? `${execRoot}/wharf.pid`,
    ...(values["docker-socket"] ? { dockerSocket: values["docker-socket"].replace(/^unix:\/\//, "") } : {}),
    logLevel: level,
    runtime: values.runtime ?? "runc",
    addRuntimes: parseAddRuntimes(values["add-runtime"] ?? []),
    ...(values["default-runtime"] ? { defaultRuntime: values["default-runtime"] } : {}),
    configFile: values["config-file"] ?? o.defaults?.configFile ?? "/etc/wharf/daemon.json",
    configFileExplicit: values["config-file"] !== undefined,
    conmon: values.conmon ?? "conmon",
    cgroupParent,
    tls,
    tlsExplicitlyOff: given.get("tls") === false || given.get("tlsverify") === false,
    tlsExplicitlyOn: given.get("tls") === true,
    socketGroup: values.group ?? "docker",
    seccompProfile: values["seccomp-profile"] || "builtin",
    noNewPrivileges: given.get("no-new-privileges") === true,
    defaultPidsLimit: Math.max(0, Number(pids)),
    defaultUlimits: (values["default-ulimit"] ?? []).map(parseUlimit),
    ...(values["userns-remap"] !== undefined ? { usernsRemap: values["userns-remap"] } : {}),
    httpLimits: Object.fromEntries(
      (
        [
          ["maxHeaderSize", "api-max-header-size"],
          ["maxJsonBody", "api-max-json-body"],
          ["headersTimeoutMs", "api-headers-timeout-ms"],
          ["bodyTimeoutMs", "api-body-timeout-ms"],
          ["maxHijackedPerClient", "api-max-hijacked-per-client"],
        ] as const
      ).flatMap(([k, flag]) => {
        const n = positive(flag, values[flag]);
        return n === undefined ? [] : [[k, n]];
      }),
    ),
    ...(driver ? { storageDriver: driver } : {}),
    ...(rnet ? { rootlessNet: rnet } : {}),
    ...(rports ? { rootlessPortDriver: rports } : {}),
    insecureRegistries: values["insecure-registry"] ?? [],
    registryMirrors: (values["registry-mirror"] ?? [])
      .filter((m) => !/^[^=/]+=/.test(m))
      .map((m) => {
        if (!/^https?:\/\/[^/]+\/?$/.test(m)) throw new InvalidParameterError(`invalid mirror URL: ${m}`);
        return m.replace(/\/+$/, "");
      }),
    registryHostMirrors: Object.fromEntries(
      (values["registry-mirror"] ?? [])
        .filter((m) => /^[^=/]+=/.test(m))
        .map((m) => {
          const [name = "", url = ""] = [m.slice(0, m.indexOf("=")), m.slice(m.indexOf("=") + 1)];
          if (!/^https?:\/\/[^/]+\/?$/.test(url)) throw new InvalidParameterError(`invalid mirror URL: ${m}`);
          return [name, url.replace(/\/+$/, "")];
        }),
    ),
    ...criFlags(values),
  };
}
