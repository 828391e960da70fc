/** From a service of the model to the Engine API's container create body, as docker compose builds it. */
import type {
  ContainerCreateRequest,
  EndpointSettings,
  HostConfig,
  Mount,
  PortMap,
} from "../apitypes/index.ts";
import { parseDuration } from "./load/index.ts";
import { containerLabels, imageName, networkName, volumeName } from "./model.ts";
import type { Project, ServiceConfig, VolumeMountConfig } from "./types.ts";

/** What container creation needs besides the service. */
export interface CreateContext {
  project: Project;
  number: number;
  name: string;
  oneoff?: boolean;
  imageId?: string;
  /** False when the daemon has no network API yet: containers go on its default network. */
  networks: boolean;
  /** A `service:x` reference (network_mode, ipc, pid, volumes_from) → a container of x. */
  serviceContainer?: (service: string) => string | undefined;
  /** Anonymous volumes of the container being replaced, by target, so data survives a recreate. */
  anonymousVolumes?: Record<string, string>;
  /** Overrides for `run`: command, entrypoint, env, user, workdir, tty. */
  override?: Partial<
    Pick<ServiceConfig, "command" | "entrypoint" | "user" | "working_dir" | "tty" | "stdin_open">
  > & {
    env?: Record<string, string>;
    labels?: Record<string, string>;
  };
}

function ns(d: string | undefined): number | undefined {
  return d === undefined ? undefined : parseDuration(d);
}

function portKey(target: number, protocol: string): string {
  return `${target}/${protocol}`;
}

function restartPolicy(r: string | undefined): HostConfig["RestartPolicy"] {
  if (!r || r === "no") return { Name: "no" };
  const [name, count] = r.split(":");
  return {
    Name: name as "always" | "unless-stopped" | "on-failure",
    ...(count ? { MaximumRetryCount: Number(count) } : {}),
  };
}

function bindSpec(v: VolumeMountConfig): string {
  const opts: string[] = [];
  if (v.read_only) opts.push("ro");
  if (v.bind?.selinux) opts.push(v.bind.selinux);
  if (v.bind?.propagation) opts.push(v.bind.propagation);
  return `${v.source}:${v.target}${opts.length ? `:${opts.join(",")}` : ""}`;
}

function serviceRef(mode: string | undefined, ctx: CreateContext): string | undefined {
  if (!mode?.startsWith("service:")) return mode;
  const c = ctx.serviceContainer?.(mode.slice("service:".length));
  return c ? `container:${c}` : undefined;
}

/** The aliases a container gets on a project network: its service name plus configured ones. */
function endpoint(svc: ServiceConfig, key: string, ctx: CreateContext): EndpointSettings {
  const cfg = svc.networks?.[key] ?? null;
  const e: EndpointSettings = { Aliases: [svc.name, ...(cfg?.aliases ?? [])] };
  if (ctx.oneoff) e.Aliases = [];
  if (cfg?.ipv4_address || cfg?.ipv6_address) {
    e.IPAMConfig = {
      ...(cfg.ipv4_address ? { IPv4Address: cfg.ipv4_address } : {}),
      ...(cfg.ipv6_address ? { IPv6Address: cfg.ipv6_address } : {}),
    };
  }
  if (cfg?.mac_address) e.MacAddress = cfg.mac_address;
  if (cfg?.driver_opts) e.DriverOpts = cfg.driver_opts;
  return e;
}

/** The networks a service joins, ordered as compose does (by priority, then name). */
export function serviceNetworks(svc: ServiceConfig): string[] {
  return Object.entries(svc.networks ?? {})
    .sort(([a, x], [b, y]) => (y?.priority ?? 0) - (x?.priority ?? 0) || (a < b ? -1 : a > b ? 1 : 0))
    .map(([k]) => k);
}

/** The create body for one container of a service; extra networks are connected after creation. */
export function createBody(
  svc: ServiceConfig,
  ctx: CreateContext,
): {
  body: ContainerCreateRequest;
  extraNetworks: { name: string; endpoint: EndpointSettings }[];
} {
  const { project } = ctx;
  const o = ctx.override ?? {};
  const env: string[] = [];
  for (const [k, v] of Object.entries({ ...svc.environment, ...o.env }))
    if (v !== null && v !== undefined) env.push(`${k}=${v}`);
  const labels: Record<string, string> = {};
  for (const [k, v] of Object.entries(svc.labels ?? {})) if (v !== null) labels[k] = v;
  Object.assign(
    labels,
    containerLabels(project, svc, {
      number: ctx.number,
      oneoff: ctx.oneoff,
      imageId: ctx.imageId,
      envFiles: svc.env_file?.map((e) => e.path),
    }),
    o.labels,
  );
  const exposed: Record<string, object> = {};
  const bindings: PortMap = {};
  for (const p of svc.ports ?? []) {
    const key = portKey(p.target, p.protocol);
    exposed[key] = {};
    bindings[key] = [...(bindings[key] ?? []), { HostIp: p.host_ip ?? "", HostPort: p.published ?? "" }];
  }
  for (const e of svc.expose ?? []) {
    const [port, proto = "tcp"] = e.split("/");
    exposed[`${port}/${proto}`] = {};
  }
  const binds: string[] = [];
  const mounts: Mount[] = [];
  for (const v of svc.volumes ?? []) {
    if (v.type === "bind") {
      if (v.bind?.create_host_path) binds.push(bindSpec(v));
      else {
        mounts.push({
          Type: "bind",
          Source: v.source,
          Target: v.target,
          ReadOnly: v.read_only ?? false,
          ...(v.bind?.propagation ? { BindOptions: { Propagation: v.bind.propagation as "rprivate" } } : {}),
        });
      }
    } else if (v.type === "volume") {
      const source = v.source ? volumeName(project, v.source) : ctx.anonymousVolumes?.[v.target];
      const m: Mount = { Type: "volume", Target: v.target, ReadOnly: v.read_only ?? false };
      if (source) m.Source = source;
      if (v.volume?.nocopy || v.volume?.subpath) {
        m.VolumeOptions = {
          ...(v.volume.nocopy ? { NoCopy: true } : {}),
          ...(v.volume.subpath ? { Subpath: v.volume.subpath } : {}),
        };
      }
      mounts.push(m);
    } else if (v.type === "tmpfs") {
      mounts.push({
        Type: "tmpfs",
        Target: v.target,
        ReadOnly: v.read_only ?? false,
        ...(v.tmpfs ? { TmpfsOptions: { SizeBytes: v.tmpfs.size, Mode: v.tmpfs.mode } } : {}),
      });
    }
  }
  // Secrets and configs from files are bind-mounted read-only, as docker compose does without swarm.
  for (const s of svc.secrets ?? []) {
    const def = project.secrets[s.source];
    if (!def?.file) continue;
    const target = s.target?.startsWith("/") ? s.target : `/run/secrets/${s.target ?? s.source}`;
    mounts.push({ Type: "bind", Source: def.file, Target: target, ReadOnly: true });
  }
  for (const c of svc.configs ?? []) {
    const def = project.configs[c.source];
    if (!def?.file) continue;
    const target = c.target?.startsWith("/") ? c.target : `/${c.target ?? c.source}`;
    mounts.push({ Type: "bind", Source: def.file, Target: target, ReadOnly: true });
  }
  const tmpfs: Record<string, string> = {};
  for (const t of svc.tmpfs ?? []) {
    const i = t.indexOf(":");
    if (i < 0) tmpfs[t] = "";
    else tmpfs[t.slice(0, i)] = t.slice(i + 1);
  }
  const limits = svc.deploy?.resources?.limits;
  const reservations = svc.deploy?.resources?.reservations;
  const cpus = svc.cpus ?? (limits?.cpus !== undefined ? Number(limits.cpus) : undefined);
  const nets = ctx.networks && !svc.network_mode ? serviceNetworks(svc) : [];
  const host: HostConfig = {
    Binds: binds,
    Mounts: mounts,
    PortBindings: bindings,
    RestartPolicy: restartPolicy(svc.restart),
    NetworkMode: svc.network_mode
      ? serviceRef(svc.network_mode, ctx)
      : nets[0]
        ? networkName(project, nets[0])
        : undefined,
    Privileged: svc.privileged,
    CapAdd: svc.cap_add,
    CapDrop: svc.cap_drop,
    SecurityOpt: svc.security_opt,
    ExtraHosts: Object.entries(svc.extra_hosts ?? {}).flatMap(([h, ip]) =>
      (Array.isArray(ip) ? ip : [ip]).map((x) => `${h}:${x}`),
    ),
    Dns: svc.dns,
    DnsSearch: svc.dns_search,
    DnsOptions: svc.dns_opt,
    ReadonlyRootfs: svc.read_only,
    Init: svc.init,
    Tmpfs: Object.keys(tmpfs).length ? tmpfs : undefined,
    Ulimits: Object.entries(svc.ulimits ?? {}).map(([Name, v]) =>
      typeof v === "number" ? { Name, Soft: v, Hard: v } : { Name, Soft: v.soft, Hard: v.hard },
    ),
    LogConfig: svc.logging
      ? {
          Type: svc.logging.driver ?? "",
          Config: Object.fromEntries(
            Object.entries(svc.logging.options ?? {}).filter((e): e is [string, string] => e[1] !== null),
          ),
        }
      : undefined,
    Memory: svc.mem_limit ?? limits?.memory,
    MemoryReservation: svc.mem_reservation ?? reservations?.memory,
    MemorySwap: svc.memswap_limit,
    NanoCpus: cpus !== undefined ? Math.round(cpus * 1e9) : undefined,
    PidsLimit: svc.pids_limit ?? limits?.pids,
    ShmSize: svc.shm_size,
    Sysctls: svc.sysctls
      ? Object.fromEntries(Object.entries(svc.sysctls).filter((e): e is [string, string] => e[1] !== null))
      : undefined,
    CpuShares: svc.cpu_shares as number | undefined,
    CpusetCpus: svc.cpuset as string | undefined,
    OomScoreAdj: svc.oom_score_adj as number | undefined,
    OomKillDisable: svc.oom_kill_disable as boolean | undefined,
    IpcMode: serviceRef(svc.ipc as string | undefined, ctx),
    PidMode: serviceRef(svc.pid as string | undefined, ctx),
    GroupAdd: svc.group_add as string[] | undefined,
    CgroupParent: svc.cgroup_parent as string | undefined,
    UsernsMode: svc.userns_mode as string | undefined,
    UTSMode: svc.uts as string | undefined,
    CgroupnsMode: svc.cgroup as "private" | "host" | undefined,
    Runtime: svc.runtime as string | undefined,
    Isolation: svc.isolation as HostConfig["Isolation"] | undefined,
    Devices: svc.devices ? (svc.devices as unknown[]).map(deviceMapping) : undefined,
    DeviceCgroupRules: svc.device_cgroup_rules as string[] | undefined,
    MemorySwappiness: svc.mem_swappiness as number | undefined,
    StorageOpt: svc.storage_opt as Record<string, string> | undefined,
    Annotations: svc.annotations as Record<string, string> | undefined,
    Links: [
      ...((svc.links ?? []) as string[]).flatMap((l) => {
        const [service, alias = service] = String(l).split(":");
        const c = ctx.serviceContainer?.(service);
        return c ? [`${c}:${alias}`] : [];
      }),
      // external_links name containers outside the project, as they are.
      ...((svc.external_links ?? []) as string[]).map((l) =>
        String(l).includes(":") ? String(l) : `${l}:${l}`,
      ),
    ],
    VolumesFrom: ((svc.volumes_from ?? []) as string[]).flatMap((v) => {
      const s = String(v);
      if (s.startsWith("container:")) return [s.slice("container:".length)];
      const [service, mode] = s.split(":");
      const c = ctx.serviceContainer?.(service);
      return c ? [mode ? `${c}:${mode}` : c] : [];
    }),
  };
  const hc = svc.healthcheck;
  const body: ContainerCreateRequest = {
    Image: imageName(project.name, svc),
    Hostname: svc.hostname,
    Domainname: svc.domainname,
    User: o.user ?? svc.user,
    WorkingDir: o.working_dir ?? svc.working_dir,
    Tty: o.tty ?? svc.tty ?? false,
    OpenStdin: o.stdin_open ?? svc.stdin_open ?? false,
    AttachStdin: false,
    AttachStdout: false,
    AttachStderr: false,
    Env: env,
    Labels: labels,
    ExposedPorts: exposed,
    StopSignal: svc.stop_signal,
    StopTimeout: svc.stop_grace_period ? Math.round(parseDuration(svc.stop_grace_period) / 1e9) : undefined,
    Healthcheck: hc
      ? hc.disable
        ? { Test: ["NONE"] }
        : {
            Test: hc.test,
            Interval: ns(hc.interval),
            Timeout: ns(hc.timeout),
            Retries: hc.retries,
            StartPeriod: ns(hc.start_period),
            StartInterval: ns(hc.start_interval),
          }
      : undefined,
    HostConfig: host,
  };
  const cmd = o.command !== undefined ? o.command : svc.command;
  if (cmd) body.Cmd = cmd;
  const ep = o.entrypoint !== undefined ? o.entrypoint : svc.entrypoint;
  if (ep) body.Entrypoint = ep;
  if (nets.length > 0) {
    body.NetworkingConfig = {
      EndpointsConfig: { [networkName(project, nets[0])]: endpoint(svc, nets[0], ctx) },
    };
  }
  const extraNetworks = nets
    .slice(1)
    .map((k) => ({ name: networkName(project, k), endpoint: endpoint(svc, k, ctx) }));
  return { body: JSON.parse(JSON.stringify(body)) as ContainerCreateRequest, extraNetworks };
}

/** A `devices` entry, short (`/dev/x[:/dev/y[:rwm]]`) or long (`{source, target, permissions}`). */
function deviceMapping(d: unknown): {
  PathOnHost: string;
  PathInContainer: string;
  CgroupPermissions: string;
} {
  if (d && typeof d === "object") {
    const o = d as { source?: string; target?: string; permissions?: string };
    const src = String(o.source ?? "");
    return { PathOnHost: src, PathInContainer: o.target ?? src, CgroupPermissions: o.permissions ?? "rwm" };
  }
  const parts = String(d).split(":");
  // `/dev/x:rw` gives permissions, not a path.
  if (parts.length === 2 && /^[rwm]+$/.test(parts[1])) parts.splice(1, 0, parts[0]);
  const [host, inCtr = host, perms = "rwm"] = parts;
  return { PathOnHost: host, PathInContainer: inCtr, CgroupPermissions: perms };
}
