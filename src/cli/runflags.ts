// The flags of `run`/`create`, as docker has them. Each is turned into API config in runconfig.ts.
import { type FlagSpec, flag } from "./args.ts";

type F = [name: string, short: string, type: FlagSpec["type"], typeName: string, desc: string];

const RAW: F[] = [
  ["add-host", "", "list", "list", "Add a custom host-to-IP mapping (host:ip)"],
  ["annotation", "", "list", "map", "Add an annotation to the container (passed through to the OCI runtime)"],
  ["attach", "a", "list", "list", "Attach to STDIN, STDOUT or STDERR"],
  ["blkio-weight", "", "int", "uint16", "Block IO (relative weight), between 10 and 1000, or 0 to disable"],
  ["cap-add", "", "list", "list", "Add Linux capabilities"],
  ["cap-drop", "", "list", "list", "Drop Linux capabilities"],
  ["cgroup-parent", "", "string", "string", "Optional parent cgroup for the container"],
  ["cgroupns", "", "string", "string", "Cgroup namespace to use (host|private)"],
  ["cidfile", "", "string", "string", "Write the container ID to the file"],
  ["cpu-period", "", "int", "int", "Limit CPU CFS (Completely Fair Scheduler) period"],
  ["cpu-quota", "", "int", "int", "Limit CPU CFS (Completely Fair Scheduler) quota"],
  ["cpu-shares", "c", "int", "int", "CPU shares (relative weight)"],
  ["cpus", "", "string", "decimal", "Number of CPUs"],
  ["cpuset-cpus", "", "string", "string", "CPUs in which to allow execution (0-3, 0,1)"],
  ["cpuset-mems", "", "string", "string", "MEMs in which to allow execution (0-3, 0,1)"],
  ["device", "", "list", "list", "Add a host device to the container"],
  ["device-cgroup-rule", "", "list", "list", "Add a rule to the cgroup allowed devices list"],
  ["disable-content-trust", "", "bool", "", "Skip image verification"],
  ["dns", "", "list", "list", "Set custom DNS servers"],
  ["dns-option", "", "list", "list", "Set DNS options"],
  ["dns-search", "", "list", "list", "Set custom DNS search domains"],
  ["domainname", "", "string", "string", "Container NIS domain name"],
  ["entrypoint", "", "string", "string", "Overwrite the default ENTRYPOINT of the image"],
  ["env", "e", "list", "list", "Set environment variables"],
  ["env-file", "", "list", "list", "Read in a file of environment variables"],
  ["expose", "", "list", "list", "Expose a port or a range of ports"],
  ["group-add", "", "list", "list", "Add additional groups to join"],
  ["health-cmd", "", "string", "string", "Command to run to check health"],
  ["health-interval", "", "string", "duration", "Time between running the check (ms|s|m|h)"],
  ["health-retries", "", "int", "int", "Consecutive failures needed to report unhealthy"],
  [
    "health-start-interval",
    "",
    "string",
    "duration",
    "Time between running the check during the start period (ms|s|m|h)",
  ],
  [
    "health-start-period",
    "",
    "string",
    "duration",
    "Start period for the container to initialize before starting health-retries countdown (ms|s|m|h)",
  ],
  ["health-timeout", "", "string", "duration", "Maximum time to allow one check to run (ms|s|m|h)"],
  ["hostname", "h", "string", "string", "Container host name"],
  ["init", "", "bool", "", "Run an init inside the container that forwards signals and reaps processes"],
  ["interactive", "i", "bool", "", "Keep STDIN open even if not attached"],
  ["ip", "", "string", "string", "IPv4 address (e.g., 172.30.100.104)"],
  ["ip6", "", "string", "string", "IPv6 address (e.g., 2001:db8::33)"],
  ["ipc", "", "string", "string", "IPC mode to use"],
  ["isolation", "", "string", "string", "Container isolation technology"],
  ["label", "l", "list", "list", "Set meta data on a container"],
  ["label-file", "", "list", "list", "Read in a line delimited file of labels"],
  ["link", "", "list", "list", "Add link to another container"],
  ["log-driver", "", "string", "string", "Logging driver for the container"],
  ["log-opt", "", "list", "list", "Log driver options"],
  ["mac-address", "", "string", "string", "Container MAC address (e.g., 92:d0:c6:0a:29:33)"],
  ["memory", "m", "string", "bytes", "Memory limit"],
  ["memory-reservation", "", "string", "bytes", "Memory soft limit"],
  [
    "memory-swap",
    "",
    "string",
    "bytes",
    "Swap limit equal to memory plus swap: '-1' to enable unlimited swap",
  ],
  ["memory-swappiness", "", "int", "int", "Tune container memory swappiness (0 to 100)"],
  ["mount", "", "list", "mount", "Attach a filesystem mount to the container"],
  ["name", "", "string", "string", "Assign a name to the container"],
  ["network", "", "list", "network", "Connect a container to a network"],
  ["network-alias", "", "list", "list", "Add network-scoped alias for the container"],
  ["no-healthcheck", "", "bool", "", "Disable any container-specified HEALTHCHECK"],
  ["oom-kill-disable", "", "bool", "", "Disable OOM Killer"],
  ["oom-score-adj", "", "int", "int", "Tune host's OOM preferences (-1000 to 1000)"],
  ["pid", "", "string", "string", "PID namespace to use"],
  ["pids-limit", "", "int", "int", "Tune container pids limit (set -1 for unlimited)"],
  ["platform", "", "string", "string", "Set platform if server is multi-platform capable"],
  ["privileged", "", "bool", "", "Give extended privileges to this container"],
  ["publish", "p", "list", "list", "Publish a container's port(s) to the host"],
  ["publish-all", "P", "bool", "", "Publish all exposed ports to random ports"],
  ["pull", "", "string", "string", 'Pull image before running ("always", "missing", "never")'],
  ["quiet", "q", "bool", "", "Suppress the pull output"],
  ["read-only", "", "bool", "", "Mount the container's root filesystem as read only"],
  ["restart", "", "string", "string", "Restart policy to apply when a container exits"],
  [
    "rm",
    "",
    "bool",
    "",
    "Automatically remove the container and its associated anonymous volumes when it exits",
  ],
  ["runtime", "", "string", "string", "Runtime to use for this container"],
  ["security-opt", "", "list", "list", "Security Options"],
  ["shm-size", "", "string", "bytes", "Size of /dev/shm"],
  ["stop-signal", "", "string", "string", "Signal to stop the container"],
  ["stop-timeout", "", "int", "int", "Timeout (in seconds) to stop a container"],
  ["storage-opt", "", "list", "list", "Storage driver options for the container"],
  ["sysctl", "", "list", "map", "Sysctl options"],
  ["tmpfs", "", "list", "list", "Mount a tmpfs directory"],
  ["tty", "t", "bool", "", "Allocate a pseudo-TTY"],
  ["ulimit", "", "list", "ulimit", "Ulimit options"],
  ["user", "u", "string", "string", "Username or UID (format: <name|uid>[:<group|gid>])"],
  ["userns", "", "string", "string", "User namespace to use"],
  ["uts", "", "string", "string", "UTS namespace to use"],
  ["volume", "v", "list", "list", "Bind mount a volume"],
  ["volume-driver", "", "string", "string", "Optional volume driver for the container"],
  ["volumes-from", "", "list", "list", "Mount volumes from the specified container(s)"],
  ["workdir", "w", "string", "string", "Working directory inside the container"],
];

function toSpec([name, short, type, typeName, desc]: F): FlagSpec {
  const f: FlagSpec = { name, type, desc };
  if (short) f.short = short;
  if (typeName) f.typeName = typeName;
  if (name === "pull") f.default = "missing";
  if (name === "network") f.aliases = ["net"];
  if (name === "network-alias") f.aliases = ["net-alias"];
  return f;
}

/** Flags of `create`. */
export const CREATE_FLAGS: FlagSpec[] = RAW.map(toSpec);

/** Flags of `run`: create's plus the foreground/background controls. */
export const RUN_FLAGS: FlagSpec[] = [
  ...CREATE_FLAGS,
  flag.bool("detach", "Run container in background and print container ID", { short: "d" }),
  flag.string("detach-keys", "Override the key sequence for detaching a container"),
  flag.bool("sig-proxy", "Proxy received signals to the process", { default: true }),
];
