import type { OciRlimit, OciSpec } from "../oci/index.ts";
import {
  buildSpec,
  daemonRlimits,
  devicesFromRequest,
  ensureWorkdir,
  findInitBinary,
  parseDeviceCgroupRule,
  parseSecurityOpts,
  resolveUser,
  type SeccompChoice,
  type SpecMount,
} from "../runtime/index.ts";
import type { IdMap } from "../util/index.ts";
import type { ContainerRecord } from "./model.ts";
import { specResources } from "./resources.ts";

/** What a run adds to a container's record to make its OCI spec. */
export interface SpecRequest {
  record: ContainerRecord;
  /** The mounted overlay rootfs. */
  rootfs: string;
  /** Mounts the engine adds: /etc/hosts, /etc/hostname, /etc/resolv.conf, then volumes, binds and tmpfs. */
  mounts: SpecMount[];
  /** The network namespace to join, or the host's; with the user namespace that owns it, when one does. */
  network?: { netnsPath?: string; host?: boolean; usernsPath?: string | undefined };
  /** Variables of legacy links, before the container's own (which win on the same name), as dockerd. */
  linkEnv?: string[];
  /** IPC, PID and UTS namespaces of `--ipc/--pid/--uts` modes: joined by path, or the host's. */
  shared?: { paths: Partial<Record<"ipc" | "pid" | "uts", string>>; host: ("ipc" | "pid" | "uts")[] };
}

/** Turns a container about to start into its OCI runtime spec. */
export type SpecBuilder = (req: SpecRequest) => Promise<OciSpec>;

/** The daemon's defaults for every container (`--seccomp-profile`, `--no-new-privileges`, ...). */
export interface SpecDefaults {
  /** The profile of containers that ask for none; wharf's built-in one when absent. */
  seccomp?: SeccompChoice;
  noNewPrivileges?: boolean;
  /** Pids limit of containers that set none; 0 or absent = unlimited. */
  defaultPidsLimit?: number;
  /** `--default-ulimit`s: over the daemon's own limits, under a container's `--ulimit`s. */
  defaultUlimits?: OciRlimit[];
  /** false when containers get no cgroups of their own (a rootless daemon on cgroup v1). */
  cgroups?: boolean;
  /** `--userns-remap`: containers (but `--userns=host` ones) get a user namespace of this mapping. */
  idMap?: IdMap;
}

/**
 * The spec builder of this daemon: the container's config and HostConfig mapped onto runtime/'s builder,
 * under the daemon's cgroup parent and with the daemon's own rlimits as defaults (as dockerd passes its own).
 */
export function specBuilder(opts: { cgroupParent: string } & SpecDefaults): SpecBuilder {
  const rlimits = [...daemonRlimits(), ...(opts.defaultUlimits ?? [])];
  return async ({ record, rootfs, mounts, network, linkEnv, shared }) => {
    const c = record.Config;
    const hc = record.HostConfig;
    const user = await resolveUser(rootfs, c.User ?? "", { groupAdd: hc.GroupAdd });
    const cwd = c.WorkingDir || "/";
    // Docker creates a missing working dir owned by root, whatever the user.
    await ensureWorkdir(rootfs, cwd, opts.idMap?.root ?? { uid: 0, gid: 0 });
    let init: { path: string } | undefined;
    if (hc.Init) {
      const path = findInitBinary();
      if (!path)
        throw new Error("docker-init binary not found in the daemon's PATH: install tini or catatonit");
      init = { path };
    }
    const resources = specResources(hc);
    if (!resources.pidsLimit && opts.defaultPidsLimit && hc.PidsLimit == null)
      resources.pidsLimit = opts.defaultPidsLimit;
    const sec = parseSecurityOpts(hc.SecurityOpt);
    // Privileged containers get every device through their cgroup already; dockerd still adds the nodes.
    const devices = (await Promise.all((hc.Devices ?? []).map((d) => devicesFromRequest(d)))).flat();
    const deviceRules = (hc.DeviceCgroupRules ?? []).map(parseDeviceCgroupRule);
    const remap = opts.idMap && hc.UsernsMode !== "host" ? opts.idMap : undefined;
    // Joining another container's IPC or PID namespace means joining its user namespace too (as dockerd):
    // only the namespace's owner may mount its mqueue or procfs.
    const joined = Object.values(shared?.paths ?? {}).find((p) => /^\/proc\/\d+\/ns\//.test(p));
    const userPath = !remap
      ? undefined
      : (network?.usernsPath ?? (joined ? joined.replace(/\/ns\/[a-z]+$/, "/ns/user") : undefined));
    return buildSpec({
      id: record.Id,
      rootfs,
      readonlyRootfs: hc.ReadonlyRootfs,
      args: [record.Path, ...record.Args],
      env: withLinkEnv(c.Env ?? [], linkEnv),
      cwd,
      terminal: c.Tty,
      consoleSize: hc.ConsoleSize?.[0] ? { height: hc.ConsoleSize[0], width: hc.ConsoleSize[1] } : undefined,
      user: { uid: user.uid, gid: user.gid, additionalGids: user.additionalGids },
      hostname: c.Hostname,
      labels: c.Labels,
      capAdd: hc.CapAdd ?? undefined,
      capDrop: hc.CapDrop ?? undefined,
      privileged: hc.Privileged,
      mounts,
      shmSize: hc.ShmSize,
      defaultRlimits: rlimits,
      rlimits: hc.Ulimits?.map((u) => ({
        type: `RLIMIT_${(u.Name ?? "").toUpperCase()}`,
        soft: u.Soft ?? 0,
        hard: u.Hard ?? 0,
      })),
      oomScoreAdj: hc.OomScoreAdj || undefined,
      cgroupParent: hc.CgroupParent || opts.cgroupParent,
      ...(opts.cgroups === false ? { cgroups: false } : {}),
      resources,
      sysctls: hc.Sysctls,
      devices,
      deviceRules,
      init,
      noNewPrivileges: sec.noNewPrivileges ?? opts.noNewPrivileges,
      seccomp: sec.seccomp ?? opts.seccomp,
      namespacePaths: {
        ...shared?.paths,
        ...(network?.netnsPath ? { network: network.netnsPath } : {}),
        ...(userPath ? { user: userPath } : {}),
      },
      ...(remap ? { userns: { uidMappings: [...remap.uids], gidMappings: [...remap.gids] } } : {}),
      hostNamespaces: [...(shared?.host ?? []), ...(network?.host ? (["network"] as const) : [])],
      maskedPaths: hc.MaskedPaths ?? undefined,
      readonlyPaths: hc.ReadonlyPaths ?? undefined,
    });
  };
}

/** Link variables first, then the container's own; a name the container sets is its own value only. */
function withLinkEnv(env: string[], linkEnv: string[] | undefined): string[] {
  if (!linkEnv?.length) return env;
  const own = new Set(env.map((e) => e.split("=", 1)[0]));
  return [...linkEnv.filter((e) => !own.has(e.split("=", 1)[0])), ...env];
}
