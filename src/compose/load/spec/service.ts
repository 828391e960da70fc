/** One entry of `services:`: every field a service may have and the shape of its value. */
import {
  type Check,
  either,
  fields,
  flag,
  listOf,
  numeric,
  oneOfText,
  scalar,
  strings,
  text,
  textMatching,
  whole,
  wholeWithin,
} from "./check.ts";
import {
  command,
  envFile,
  extraHosts,
  hook,
  labelFile,
  listOrDict,
  mountedRefs,
  stringOrList,
  ulimits,
} from "./common.ts";
import { build, deploy, develop, gpus, healthcheck } from "./service-run.ts";
import {
  blkioConfig,
  credentialSpec,
  dependsOn,
  devices,
  extendsRef,
  logging,
  ports,
  provider,
  serviceModels,
  serviceNetworks,
  volumes,
} from "./service-wiring.ts";

/** Gives each of `names` the same check. */
function all(names: readonly string[], check: Check): Record<string, Check> {
  return Object.fromEntries(names.map((n) => [n, check]));
}

/** Settings that take a plain string. */
const TEXT_FIELDS = [
  "cgroup_parent",
  "cpuset",
  "domainname",
  "hostname",
  "image",
  "ipc",
  "isolation",
  "mac_address",
  "network_mode",
  "platform",
  "pull_refresh_after",
  "restart",
  "runtime",
  "stop_grace_period",
  "stop_signal",
  "user",
  "userns_mode",
  "uts",
  "working_dir",
];

/** On/off settings; a string is let through for interpolated values. */
const FLAG_FIELDS = ["attach", "init", "oom_kill_disable", "privileged", "read_only", "stdin_open", "tty"];

/** Quantities (CPU shares and periods, memory sizes, pid counts) as numbers or strings with units. */
const QUANTITY_FIELDS = [
  "cpu_period",
  "cpu_quota",
  "cpu_rt_period",
  "cpu_rt_runtime",
  "cpu_shares",
  "cpus",
  "mem_limit",
  "memswap_limit",
  "pids_limit",
  "shm_size",
];

/** Lists of strings where each may appear once. */
const STRING_SET_FIELDS = [
  "cap_add",
  "cap_drop",
  "device_cgroup_rules",
  "dns_opt",
  "external_links",
  "links",
  "profiles",
  "security_opt",
  "volumes_from",
];

/** Key/value settings written as a mapping or as `key=value` lines. */
const KEY_VALUE_FIELDS = ["annotations", "environment", "labels", "sysctls"];

const stringOrNumberSet = listOf(scalar("string", "number"), { unique: true });

/** A service definition. */
export const service: Check = fields({
  ...all(TEXT_FIELDS, text),
  ...all(FLAG_FIELDS, flag),
  ...all(QUANTITY_FIELDS, numeric),
  ...all(STRING_SET_FIELDS, strings),
  ...all(KEY_VALUE_FIELDS, listOrDict),
  ...all(["dns", "dns_search", "tmpfs"], stringOrList),
  ...all(["command", "entrypoint"], command),
  ...all(["configs", "secrets"], mountedRefs),
  ...all(["post_start", "pre_stop"], listOf(hook)),
  ...all(["expose", "group_add"], stringOrNumberSet),
  use_api_socket: scalar("boolean"),
  mem_reservation: scalar("string", "integer"),
  mem_swappiness: whole,
  scale: whole,
  cpu_count: either(text, wholeWithin(0, undefined)),
  cpu_percent: either(text, wholeWithin(0, 100)),
  oom_score_adj: either(text, wholeWithin(-1000, 1000)),
  pid: scalar("string", "null"),
  cgroup: oneOfText(["host", "private"]),
  container_name: textMatching("[a-zA-Z0-9][a-zA-Z0-9_.-]+"),
  pull_policy: textMatching(
    "always|never|build|if_not_present|missing|refresh|daily|weekly|every_([0-9]+[wdhms])+",
  ),
  storage_opt: fields({}, { open: true }),
  env_file: envFile,
  label_file: labelFile,
  extra_hosts: extraHosts,
  ulimits,
  gpus,
  healthcheck,
  build,
  deploy,
  develop,
  ports,
  volumes,
  networks: serviceNetworks,
  depends_on: dependsOn,
  devices,
  blkio_config: blkioConfig,
  logging,
  extends: extendsRef,
  provider,
  models: serviceModels,
  credential_spec: credentialSpec,
});
