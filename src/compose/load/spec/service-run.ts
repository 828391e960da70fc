/** How a service is built, deployed, watched in development and health-checked. */
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
  whole,
} from "./check.ts";
import { extraHosts, hook, listOrDict, mountedRefs, stringOrList, ulimits } from "./common.ts";

/** A build context path, or the full build section. */
export const build: Check = either(
  text,
  fields({
    context: text,
    dockerfile: text,
    dockerfile_inline: text,
    entitlements: listOf(text),
    args: listOrDict,
    ssh: listOrDict,
    labels: listOrDict,
    cache_from: listOf(text),
    cache_to: listOf(text),
    no_cache: flag,
    additional_contexts: listOrDict,
    network: text,
    provenance: scalar("string", "boolean"),
    sbom: scalar("string", "boolean"),
    pull: flag,
    target: text,
    shm_size: whole,
    extra_hosts: extraHosts,
    isolation: text,
    privileged: flag,
    secrets: mountedRefs,
    tags: listOf(text),
    ulimits,
    platforms: listOf(text),
  }),
);

/** The container's health probe. */
export const healthcheck: Check = fields({
  disable: flag,
  interval: text,
  retries: numeric,
  test: either(text, listOf(text)),
  timeout: text,
  start_period: text,
  start_interval: text,
});

/** What `compose watch` does for one path. */
export const WATCH_ACTIONS = ["rebuild", "sync", "restart", "sync+restart", "sync+exec"] as const;

/** The develop section: paths `compose watch` follows. */
export const develop: Check = fields(
  {
    watch: listOf(
      fields(
        {
          ignore: stringOrList,
          include: stringOrList,
          path: text,
          action: oneOfText(WATCH_ACTIONS),
          target: text,
          exec: hook,
          initial_sync: scalar("boolean"),
        },
        { required: ["path", "action"] },
      ),
    ),
  },
  { nullable: true },
);

const deviceRequest = {
  capabilities: strings,
  count: scalar("string", "integer"),
  device_ids: strings,
  driver: text,
  options: listOrDict,
};

/** `gpus: all`, or device requests (whose other keys go unchecked). */
export const gpus: Check = either(oneOfText(["all"]), listOf(fields(deviceRequest, { open: true })));

const rollout = fields({
  parallelism: whole,
  delay: text,
  failure_action: text,
  monitor: text,
  max_failure_ratio: numeric,
  order: oneOfText(["start-first", "stop-first"]),
});

const resources = fields({
  limits: fields({ cpus: numeric, memory: text, pids: whole }),
  reservations: fields({
    cpus: numeric,
    memory: text,
    generic_resources: listOf(fields({ discrete_resource_spec: fields({ kind: text, value: numeric }) })),
    devices: listOf(fields(deviceRequest, { required: ["capabilities"] })),
  }),
});

/** The deploy section: replicas, resources, restart policy, placement and rollouts. */
export const deploy: Check = fields(
  {
    mode: text,
    endpoint_mode: text,
    replicas: whole,
    labels: listOrDict,
    rollback_config: rollout,
    update_config: rollout,
    resources,
    restart_policy: fields({ condition: text, delay: text, max_attempts: whole, window: text }),
    placement: fields({
      constraints: listOf(text),
      preferences: listOf(fields({ spread: text })),
      max_replicas_per_node: whole,
    }),
  },
  { nullable: true },
);
