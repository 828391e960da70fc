/** The resolved Compose model: what the loader produces and the planner and commands consume. */

/** A port in long syntax. */
export interface PortConfig {
  name?: string;
  mode: string;
  host_ip?: string;
  target: number;
  /** A port or a range `start-end`; absent to let the engine choose. */
  published?: string;
  protocol: string;
  app_protocol?: string;
}

/** A mount in long syntax; `source` of a named volume is the key under top-level `volumes`. */
export interface VolumeMountConfig {
  type: "bind" | "volume" | "tmpfs" | "npipe" | "cluster" | "image";
  source?: string;
  target: string;
  read_only?: boolean;
  consistency?: string;
  bind?: { propagation?: string; create_host_path?: boolean; selinux?: string; recursive?: string };
  volume?: { nocopy?: boolean; subpath?: string; labels?: Record<string, string> };
  tmpfs?: { size?: number; mode?: number };
  image?: { subpath?: string };
}

/** One `depends_on` entry. */
export interface DependsOnConfig {
  condition: "service_started" | "service_healthy" | "service_completed_successfully";
  required: boolean;
  restart?: boolean;
}

/** A service's attachment to a project network (null in YAML: defaults). */
export interface ServiceNetworkConfig {
  aliases?: string[];
  ipv4_address?: string;
  ipv6_address?: string;
  link_local_ips?: string[];
  mac_address?: string;
  driver_opts?: Record<string, string>;
  priority?: number;
  gw_priority?: number;
  interface_name?: string;
}

/** `build`, with the context resolved (absolute unless remote). */
export interface BuildConfig {
  context: string;
  dockerfile?: string;
  dockerfile_inline?: string;
  args?: Record<string, string | null>;
  labels?: Record<string, string | null>;
  target?: string;
  cache_from?: string[];
  tags?: string[];
  network?: string;
  pull?: boolean;
  no_cache?: boolean;
  extra_hosts?: Record<string, string | string[]>;
  shm_size?: number;
  platforms?: string[];
  [extra: string]: unknown;
}

/** `healthcheck`, durations as Go duration strings (`30s`). */
export interface HealthcheckConfig {
  test?: string[];
  interval?: string;
  timeout?: string;
  retries?: number;
  start_period?: string;
  start_interval?: string;
  disable?: boolean;
}

/** A service reference to a secret or config. */
export interface FileReferenceConfig {
  source: string;
  target?: string;
  uid?: string;
  gid?: string;
  mode?: number;
}

/** One service after loading: long syntax everywhere, paths absolute, durations and sizes normalised. */
export interface ServiceConfig {
  name: string;
  image?: string;
  build?: BuildConfig;
  command?: string[] | null;
  entrypoint?: string[] | null;
  environment?: Record<string, string | null>;
  env_file?: { path: string; required: boolean; format?: string }[];
  labels?: Record<string, string | null>;
  ports?: PortConfig[];
  expose?: string[];
  volumes?: VolumeMountConfig[];
  tmpfs?: string[];
  networks?: Record<string, ServiceNetworkConfig | null>;
  network_mode?: string;
  depends_on?: Record<string, DependsOnConfig>;
  healthcheck?: HealthcheckConfig;
  restart?: string;
  deploy?: {
    replicas?: number;
    resources?: {
      limits?: { cpus?: string | number; memory?: number; pids?: number };
      reservations?: { cpus?: string | number; memory?: number };
    };
    labels?: Record<string, string | null>;
    [extra: string]: unknown;
  };
  scale?: number;
  user?: string;
  working_dir?: string;
  hostname?: string;
  domainname?: string;
  init?: boolean;
  ulimits?: Record<string, number | { soft: number; hard: number }>;
  logging?: { driver?: string; options?: Record<string, string | null> };
  stop_signal?: string;
  stop_grace_period?: string;
  read_only?: boolean;
  cap_add?: string[];
  cap_drop?: string[];
  privileged?: boolean;
  security_opt?: string[];
  extra_hosts?: Record<string, string | string[]>;
  dns?: string[];
  dns_search?: string[];
  dns_opt?: string[];
  secrets?: FileReferenceConfig[];
  configs?: FileReferenceConfig[];
  profiles?: string[];
  pull_policy?: string;
  container_name?: string;
  tty?: boolean;
  stdin_open?: boolean;
  mem_limit?: number;
  mem_reservation?: number;
  memswap_limit?: number;
  shm_size?: number;
  cpus?: number;
  pids_limit?: number;
  sysctls?: Record<string, string | null>;
  platform?: string;
  [extra: string]: unknown;
}

/** A top-level network. */
export interface NetworkConfig {
  name: string;
  driver?: string;
  driver_opts?: Record<string, string | number>;
  external?: boolean;
  internal?: boolean;
  attachable?: boolean;
  enable_ipv6?: boolean;
  ipam?: { driver?: string; config?: { subnet?: string; ip_range?: string; gateway?: string }[] };
  labels?: Record<string, string | null>;
  [extra: string]: unknown;
}

/** A top-level volume. */
export interface VolumeConfig {
  name: string;
  driver?: string;
  driver_opts?: Record<string, string | number>;
  external?: boolean;
  labels?: Record<string, string | null>;
  [extra: string]: unknown;
}

/** A top-level secret or config. */
export interface FileObjectConfig {
  name: string;
  file?: string;
  environment?: string;
  content?: string;
  external?: boolean;
  [extra: string]: unknown;
}

/** A loaded project. */
export interface Project {
  name: string;
  /** The project directory: relative paths were resolved against it. */
  workingDir: string;
  /** Absolute paths of the files merged, in order (`-` for stdin). */
  configFiles: string[];
  /** The variables interpolation saw (environment over env files). */
  environment: Record<string, string>;
  services: Record<string, ServiceConfig>;
  /** Services left out by profiles, kept so `--profile`-less commands can name them in errors. */
  disabledServices: Record<string, ServiceConfig>;
  networks: Record<string, NetworkConfig>;
  volumes: Record<string, VolumeConfig>;
  secrets: Record<string, FileObjectConfig>;
  configs: Record<string, FileObjectConfig>;
  /** Top-level `x-*` fields. */
  extensions: Record<string, unknown>;
  /** Active profiles. */
  profiles: string[];
}
