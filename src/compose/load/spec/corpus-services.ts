// biome-ignore-all lint/suspicious/noTemplateCurlyInString: these strings are Compose templates, not JS ones
/**
 * Compose files for the validator tests, about services: each case is valid, or names the path of the
 * error docker compose reports first. Written for these tests, one concern per case.
 */

/** One Compose file and the verdict on it: no `error` means valid, else the path docker compose names. */
export interface Case {
  name: string;
  yaml: string;
  error?: string;
}

/** A file with one service `web` (image x) and these further lines, in YAML, inside it. */
export function web(...lines: string[]): string {
  return `services:\n  web:\n    image: x\n${lines.map((l) => `    ${l}\n`).join("")}`;
}

function ok(name: string, ...lines: string[]): Case {
  return { name, yaml: web(...lines) };
}

function bad(name: string, error: string, ...lines: string[]): Case {
  return { name, yaml: web(...lines), error };
}

const W = "services.web";

/** Service fields with plain values, lists, key/value sets and limits. */
export const serviceFieldCases: Case[] = [
  { name: "an image alone", yaml: "services:\n  web:\n    image: nginx\n" },
  { name: "service names with dots, dashes and underscores", yaml: "services:\n  my.svc_1-x: {image: a}\n" },
  { name: "no services at all", yaml: "services: {}\n" },
  { name: "a service left empty", yaml: "services:\n  web:\n", error: W },
  { name: "a service as a list", yaml: "services:\n  web: [image]\n", error: W },
  { name: "services as a list", yaml: "services: [web]\n", error: "services" },
  { name: "a service name with a space", yaml: 'services:\n  "my web": {image: x}\n', error: "services" },
  { name: "a misspelt field", yaml: "services:\n  web:\n    imag: x\n", error: W },
  { name: "the image as a list", yaml: "services:\n  web:\n    image: [x]\n", error: `${W}.image` },
  ok("extension fields in a service", "x-meta: {anything: [1, {a: b}]}"),
  ok(
    "on/off settings as booleans and strings",
    "tty: true",
    "stdin_open: true",
    "init: 'true'",
    "attach: false",
  ),
  ok("privileged and read_only", "privileged: false", "read_only: ${RO:-false}"),
  bad("tty as a number", `${W}.tty`, "tty: 1"),
  ok("use_api_socket", "use_api_socket: true"),
  bad("use_api_socket as a string", `${W}.use_api_socket`, "use_api_socket: 'true'"),
  ok("quantities", "cpus: 1.5", "cpu_shares: 512", "mem_limit: 1g", "memswap_limit: -1", "shm_size: 64m"),
  ok("whole quantities", "scale: 3", "mem_reservation: 1g", "mem_swappiness: 0", "pids_limit: 100"),
  bad("scale with a fraction", `${W}.scale`, "scale: 1.5"),
  bad("mem_reservation with a fraction", `${W}.mem_reservation`, "mem_reservation: 1.5"),
  bad("mem_limit as a list", `${W}.mem_limit`, "mem_limit: [1]"),
  ok(
    "cpu_count, cpu_percent, oom_score_adj in range",
    "cpu_count: 2",
    "cpu_percent: 50",
    "oom_score_adj: -500",
  ),
  ok("oom_score_adj interpolated", "oom_score_adj: '${ADJ}'"),
  bad("a negative cpu_count", `${W}.cpu_count`, "cpu_count: -1"),
  bad("cpu_count with a fraction", `${W}.cpu_count`, "cpu_count: 1.5"),
  bad("cpu_percent over 100", `${W}.cpu_percent`, "cpu_percent: 101"),
  bad("oom_score_adj under -1000", `${W}.oom_score_adj`, "oom_score_adj: -1001"),
  ok("pid null or host", "pid: host"),
  ok("pid null", "pid:"),
  bad("pid as a number", `${W}.pid`, "pid: 1"),
  ok("cgroup host", "cgroup: host"),
  bad("cgroup shared", `${W}.cgroup`, "cgroup: shared"),
  ok("a container name", "container_name: my-app.1"),
  bad("a container name of one letter", `${W}.container_name`, "container_name: a"),
  bad("a container name of punctuation", `${W}.container_name`, "container_name: '-_'"),
  ok("pull policies", "pull_policy: always"),
  ok("pull policy every 12h", "pull_policy: every_12h"),
  bad("an unknown pull policy", `${W}.pull_policy`, "pull_policy: sometimes"),
  ok("strings", "hostname: h", "domainname: d", "user: '1000:1000'", "working_dir: /app", "restart: always"),
  ok("more strings", "stop_signal: SIGTERM", "stop_grace_period: 1m", "network_mode: host", "ipc: shareable"),
  bad("working_dir as a number", `${W}.working_dir`, "working_dir: 5"),
  ok(
    "the remaining strings",
    "cgroup_parent: p",
    "cpuset: 0-1",
    "platform: linux/amd64",
    "runtime: runc",
    "uts: host",
  ),
  ok(
    "the remaining strings and flags",
    "userns_mode: host",
    "pull_refresh_after: 1h",
    "oom_kill_disable: true",
  ),
  ok(
    "CPU periods and quotas",
    "cpu_quota: 50000",
    "cpu_period: 100ms",
    "cpu_rt_period: 1000",
    "cpu_rt_runtime: 95",
  ),
  ok(
    "entrypoint and string sets",
    "entrypoint: [sh, -c]",
    "device_cgroup_rules: ['c 1:3 mr']",
    "dns_opt: [use-vc]",
    "external_links: [a]",
  ),
  ok(
    "blkio limits of every kind",
    "blkio_config: {device_read_iops: [{path: a, rate: 1}], device_write_bps: [{path: a, rate: 1}], device_write_iops: [{path: a, rate: '1'}]}",
  ),
  ok("credential_spec from the registry", "credential_spec: {registry: r, config: c}"),
  ok(
    "gpu requests by id, a config by gid",
    "gpus: [{device_ids: ['0'], capabilities: [gpu]}]",
    "configs: [{source: c, gid: '0', target: /c}]",
  ),
  ok("capabilities and security options", "cap_add: [NET_ADMIN]", "cap_drop: [ALL]", "security_opt: [a]"),
  bad("a capability twice", `${W}.cap_add`, "cap_add: [NET_ADMIN, NET_ADMIN]"),
  bad("cap_add as a string", `${W}.cap_add`, "cap_add: NET_ADMIN"),
  bad("a number among external links", `${W}.external_links[0]`, "external_links: [1]"),
  ok("profiles, links, volumes_from", "profiles: [debug]", "links: [db]", "volumes_from: [other:ro]"),
  bad("a profile twice", `${W}.profiles`, "profiles: [a, a]"),
  ok("expose and group_add with numbers and strings", "expose: [80, '90']", "group_add: [wheel, 100]"),
  bad("a port exposed twice", `${W}.expose`, "expose: [80, 80]"),
  bad("a group as a boolean", `${W}.group_add[0]`, "group_add: [true]"),
  ok("command null", "command:"),
  ok("command as a string", "command: echo hi"),
  ok("command as a list with repeats", "command: [echo, hi, hi]"),
  bad("command as a number", `${W}.command`, "command: 5"),
  bad("a number in the command list", `${W}.command[1]`, "command: [echo, 1]"),
  bad("entrypoint as a mapping", `${W}.entrypoint`, "entrypoint: {sh: c}"),
  ok("environment as a mapping of scalars", "environment: {A: 1, B: true, C: null, D: s}"),
  ok("environment as lines", "environment: [A=1, B]"),
  bad("an environment value as a list", `${W}.environment.A`, "environment: {A: [1]}"),
  bad("an environment line twice", `${W}.environment`, "environment: [A=1, A=1]"),
  bad("environment as a string", `${W}.environment`, "environment: A=1"),
  bad("a label with an empty key", `${W}.labels`, "labels: {'': x}"),
  ok("labels, annotations, sysctls", "labels: {com.example: x}", "annotations: [a=b]", "sysctls: {a.b: 1}"),
  bad("annotations as a number", `${W}.annotations`, "annotations: 5"),
  ok("env_file as a path", "env_file: .env"),
  ok("env_file entries", "env_file: [a.env, {path: b.env, required: false, format: raw}]"),
  bad("an env_file entry without a path", `${W}.env_file[0]`, "env_file: [{required: true}]"),
  bad("an env_file entry with an unknown key", `${W}.env_file[0]`, "env_file: [{path: a, foo: 1}]"),
  bad("an env_file entry with an extension key", `${W}.env_file[0]`, "env_file: [{path: a, x-foo: 1}]"),
  ok("label_file", "label_file: [a.labels, a.labels]"),
  bad("label_file as a number", `${W}.label_file`, "label_file: 5"),
  ok("ulimits as numbers and pairs", "ulimits: {nproc: 65535, nofile: {soft: 1, hard: 2}}"),
  ok("ulimits with a key compose leaves unchecked", "ulimits: {NOFILE: [1]}"),
  bad("a ulimit pair without hard", `${W}.ulimits.nofile`, "ulimits: {nofile: {soft: 1}}"),
  bad("a ulimit as a list", `${W}.ulimits.nofile`, "ulimits: {nofile: [1]}"),
  bad("ulimits as a list", `${W}.ulimits`, "ulimits: [nofile]"),
  ok("extra_hosts as lines", "extra_hosts: ['somehost=1.2.3.4']"),
  ok("extra_hosts as a mapping", "extra_hosts: {somehost: 1.2.3.4, other: ['::1', '::1']}"),
  bad("an extra host as a number", `${W}.extra_hosts.h`, "extra_hosts: {h: 1}"),
  ok("dns as one or several", "dns: 8.8.8.8", "dns_search: [a, b]", "tmpfs: /run"),
  bad("a dns server twice", `${W}.dns`, "dns: [a, a]"),
  bad("tmpfs as a number", `${W}.tmpfs`, "tmpfs: 5"),
  ok("gpus all", "gpus: all"),
  ok("gpus requests with keys compose leaves unchecked", "gpus: [{driver: nvidia, count: 1, anything: 1}]"),
  bad("gpus some", `${W}.gpus`, "gpus: some"),
  bad("gpu capabilities as a string", `${W}.gpus[0].capabilities`, "gpus: [{capabilities: gpu}]"),
  ok(
    "secrets and configs",
    "secrets: [s1, {source: s2, target: /run/s, uid: '100', mode: 0440}]",
    "configs: [c]",
  ),
  bad("a secret uid as a number", `${W}.secrets[0].uid`, "secrets: [{source: s, uid: 100}]"),
  bad("a config entry with an unknown key", `${W}.configs[0]`, "configs: [{source: c, path: /x}]"),
  ok("logging", "logging: {driver: json-file, options: {max-size: 10m, max-file: 3, x: null}}"),
  bad("a logging option as a list", `${W}.logging.options.a`, "logging: {driver: x, options: {a: [1]}}"),
  bad("logging with an unknown key", `${W}.logging`, "logging: {drivers: x}"),
  ok("storage_opt takes any mapping", "storage_opt: {size: 20G, nested: {a: [1]}}"),
  bad("storage_opt as a list", `${W}.storage_opt`, "storage_opt: [a]"),
  ok(
    "lifecycle hooks",
    "post_start: [{command: [echo, hi], user: root, privileged: true}]",
    "pre_stop: [{command: x}]",
  ),
  bad("a hook without a command", `${W}.post_start[0]`, "post_start: [{user: root}]"),
  ok("blkio_config", "blkio_config: {weight: 300, device_read_bps: [{path: /dev/sda, rate: 12mb}]}"),
  ok("blkio weights per device", "blkio_config: {weight_device: [{path: /dev/sda, weight: 400}]}"),
  bad("blkio_config with an extension key", `${W}.blkio_config`, "blkio_config: {weight: 300, x-a: 1}"),
  bad(
    "a blkio limit with a weight",
    `${W}.blkio_config.device_read_bps[0]`,
    "blkio_config: {device_read_bps: [{path: a, rate: 1, weight: 1}]}",
  ),
  ok("devices", "devices: ['/dev/fuse', {source: /dev/sda, target: /dev/xvda, permissions: rwm}]"),
  bad("a device without a source", `${W}.devices[0]`, "devices: [{target: /dev/x}]"),
  ok("extends a service", "extends: base"),
  ok("extends a service in a file", "extends: {service: base, file: common.yaml}"),
  bad("extends without the service", `${W}.extends`, "extends: {file: a.yaml}"),
  ok("a provider", "provider: {type: model, options: {model: ai/x, flags: [a, 1, true]}}"),
  bad("a provider without a type", `${W}.provider`, "provider: {options: {}}"),
  bad(
    "a provider option as a mapping",
    `${W}.provider.options.a`,
    "provider: {type: x, options: {a: {b: 1}}}",
  ),
  ok("models as names", "models: [m]"),
  ok("models with variables", "models: {m: {endpoint_var: URL, model_var: M}}"),
  bad("a model with an unknown key", `${W}.models.m`, "models: {m: {endpoint: x}}"),
  ok("credential_spec", "credential_spec: {file: x.json}"),
  bad("credential_spec with an unknown key", `${W}.credential_spec`, "credential_spec: {foo: 1}"),
];
