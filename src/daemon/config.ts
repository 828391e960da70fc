import { parseArgs } from "node:util";
import { InvalidParameterError } from "../errdefs/index.ts";
import type { LogLevel } from "../util/index.ts";

/** The daemon's settings, from its flags. */
export interface DaemonConfig {
  dataRoot: string;
  execRoot: string;
  /** Listen addresses: `unix:///path` or `tcp://host:port`. */
  hosts: string[];
  bridge: string;
  bip?: string;
  pidfile: string;
  logLevel: LogLevel;
  runtime: string;
  conmon: string;
  /** Parent cgroup of this daemon's containers; derived from the exec root so two daemons never share one. */
  cgroupParent: string;
  tls?: { cert: string; key: string; ca?: string; verify: boolean };
  /** Registries spoken to over plain HTTP besides loopback ones (`host[:port]` or CIDR). */
  insecureRegistries: string[];
  /** Mirrors for names without a registry host. */
  registryMirrors: string[];
}

/** Usage text of `wharf daemon`. */
export const DAEMON_USAGE = `Usage:  wharf daemon [OPTIONS]

A container engine that speaks the Docker Engine API

Options:
      --data-root string     Root directory of persistent state (default "/var/lib/wharf")
      --exec-root string     Root directory for execution state files (default "/run/wharf")
  -H, --host list            Daemon socket(s) to connect to (default unix:///run/wharf/wharf.sock)
      --bridge string        Attach containers to a network bridge (default "wharf0")
      --bip string           Specify default-bridge IP (CIDR)
  -p, --pidfile string       Path to use for daemon PID file (default "<exec-root>/wharf.pid")
  -l, --log-level string     Set the logging level ("debug"|"info"|"warn"|"error"|"fatal") (default "info")
  -D, --debug                Enable debug mode
      --runtime string       OCI runtime binary (default "runc")
      --cgroup-parent string Parent cgroup for all containers
      --tlscert string       Path to TLS certificate file
      --tlskey string        Path to TLS key file
      --tlscacert string     Trust certs signed only by this CA
      --tlsverify            Use TLS and verify the remote
      --insecure-registry list  Registries (host[:port] or CIDR) reached over plain HTTP
      --registry-mirror list    Registry URLs that serve names given without a registry host
`;

/** Parses `wharf daemon` flags; bad values are InvalidParameterErrors so start-up fails fast. */
export function parseDaemonFlags(argv: string[]): DaemonConfig | "help" {
  const { values } = parseArgs({
    args: argv,
    allowPositionals: false,
    options: {
      "data-root": { type: "string" },
      "exec-root": { type: "string" },
      host: { type: "string", short: "H", multiple: true },
      bridge: { type: "string", short: "b" },
      bip: { type: "string" },
      pidfile: { type: "string", short: "p" },
      "log-level": { type: "string", short: "l" },
      debug: { type: "boolean", short: "D" },
      runtime: { type: "string" },
      conmon: { type: "string" },
      "cgroup-parent": { type: "string" },
      tlscert: { type: "string" },
      tlskey: { type: "string" },
      tlscacert: { type: "string" },
      tlsverify: { type: "boolean" },
      "insecure-registry": { type: "string", multiple: true },
      "registry-mirror": { type: "string", multiple: true },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help) return "help";
  const execRoot = values["exec-root"] ?? "/run/wharf";
  const level = (values.debug ? "debug" : (values["log-level"] ?? "info")) as LogLevel;
  if (!["debug", "info", "warn", "error", "fatal"].includes(level))
    throw new InvalidParameterError(`invalid log level: ${level}`);
  const hosts = values.host?.length ? values.host : [`unix://${execRoot}/wharf.sock`];
  for (const h of hosts) {
    if (!/^(unix:\/\/\/|tcp:\/\/)/.test(h)) throw new InvalidParameterError(`invalid host address: ${h}`);
  }
  if (values.bip && !/^\d+\.\d+\.\d+\.\d+\/\d+$/.test(values.bip))
    throw new InvalidParameterError(`invalid --bip: ${values.bip}`);
  const bridge = values.bridge ?? "wharf0";
  if (!/^[a-zA-Z0-9_.-]{1,15}$/.test(bridge))
    throw new InvalidParameterError(`invalid bridge name: ${bridge}`);
  const cgroupParent =
    values["cgroup-parent"] ??
    (execRoot === "/run/wharf"
      ? "/wharf"
      : `/wharf-${execRoot.replace(/[^a-zA-Z0-9]+/g, "_").replace(/^_|_$/g, "")}`);
  const tls =
    values.tlscert && values.tlskey
      ? { cert: values.tlscert, key: values.tlskey, ca: values.tlscacert, verify: values.tlsverify ?? false }
      : undefined;
  return {
    dataRoot: values["data-root"] ?? "/var/lib/wharf",
    execRoot,
    hosts,
    bridge,
    bip: values.bip,
    pidfile: values.pidfile ?? `${execRoot}/wharf.pid`,
    logLevel: level,
    runtime: values.runtime ?? "runc",
    conmon: values.conmon ?? "conmon",
    cgroupParent,
    tls,
    insecureRegistries: values["insecure-registry"] ?? [],
    registryMirrors: (values["registry-mirror"] ?? []).map((m) => {
      if (!/^https?:\/\/[^/]+\/?$/.test(m)) throw new InvalidParameterError(`invalid mirror URL: ${m}`);
      return m.replace(/\/+$/, "");
    }),
  };
}
