/**
 * Compose files for the validator tests, about the structured parts of a service: ports, volumes,
 * networks, depends_on, healthcheck, deploy, build and develop.
 */
import { type Case, web } from "./corpus-services.ts";

function ok(name: string, ...lines: string[]): Case {
  return { name, yaml: web(...lines) };
}

function bad(name: string, error: string, ...lines: string[]): Case {
  return { name, yaml: web(...lines), error };
}

const W = "services.web";

/** Ports and volumes. */
export const mountCases: Case[] = [
  ok("ports in short forms", "ports: [80, '8080:80', '127.0.0.1:53:53/udp', '9000-9010:9000-9010']"),
  ok("ports in the long form", "ports: [{target: 80, published: '8080', protocol: tcp, mode: host, x-a: 1}]"),
  ok(
    "a long-form port with a numeric published port",
    "ports: [{target: '80', published: 8080, host_ip: 0.0.0.0, name: web, app_protocol: http}]",
  ),
  bad("a port as a list", `${W}.ports[0]`, "ports: [[80]]"),
  bad("a long-form port with an unknown key", `${W}.ports[0]`, "ports: [{target: 80, bogus: 1}]"),
  bad("the same port twice", `${W}.ports`, "ports: [80, 80]"),
  bad("the same long-form port twice", `${W}.ports`, "ports: [{target: 80}, {target: 80}]"),
  bad("a target port with a fraction", `${W}.ports[0].target`, "ports: [{target: 80.5}]"),
  bad("ports as a string", `${W}.ports`, "ports: '80:80'"),
  ok("volumes in the short form", "volumes: ['./a:/a:ro', 'data:/data', /anon]"),
  ok(
    "a bind mount",
    "volumes: [{type: bind, source: ., target: /src, read_only: true, bind: {propagation: rprivate, create_host_path: true, selinux: z, recursive: readonly}}]",
  ),
  ok(
    "a volume mount",
    "volumes: [{type: volume, source: data, target: /d, volume: {nocopy: true, subpath: x, labels: [a=b]}}]",
  ),
  ok("a tmpfs mount", "volumes: [{type: tmpfs, target: /t, tmpfs: {size: 1000, mode: 1777}}]"),
  ok("a tmpfs size with a unit", "volumes: [{type: tmpfs, target: /t, tmpfs: {size: 1g}}]"),
  ok("an image mount", "volumes: [{type: image, source: img, target: /i, image: {subpath: a}}]"),
  ok(
    "npipe and cluster mounts",
    "volumes: [{type: npipe, source: a, target: b}, {type: cluster, source: c, target: d, consistency: cached}]",
  ),
  bad("a long-form volume without a type", `${W}.volumes[0]`, "volumes: [{source: a}]"),
  bad("an unknown mount type", `${W}.volumes[0].type`, "volumes: [{type: weird, target: /x}]"),
  bad(
    "an unknown SELinux label",
    `${W}.volumes[0].bind.selinux`,
    "volumes: [{type: bind, source: ., target: /s, bind: {selinux: q}}]",
  ),
  bad(
    "an unknown recursive mode",
    `${W}.volumes[0].bind.recursive`,
    "volumes: [{type: bind, source: ., target: /s, bind: {recursive: maybe}}]",
  ),
  bad(
    "a negative tmpfs size",
    `${W}.volumes[0].tmpfs.size`,
    "volumes: [{type: tmpfs, target: /t, tmpfs: {size: -1}}]",
  ),
  bad("the same volume twice", `${W}.volumes`, "volumes: [a:/a, a:/a]"),
  bad(
    "nocopy as a number",
    `${W}.volumes[0].volume.nocopy`,
    "volumes: [{type: volume, target: /x, volume: {nocopy: 1}}]",
  ),
  bad(
    "volume options with an unknown key",
    `${W}.volumes[0].volume`,
    "volumes: [{type: volume, target: /x, volume: {driver: y}}]",
  ),
  bad("a volume entry as a number", `${W}.volumes[0]`, "volumes: [5]"),
];

/** Networks and dependencies of a service. */
export const linkCases: Case[] = [
  ok("networks as names", "networks: [front, back]"),
  ok(
    "networks with settings",
    "networks: {front: null, back: {aliases: [a], ipv4_address: 1.2.3.4, priority: 10, driver_opts: {a: 1}}}",
  ),
  ok(
    "more network settings",
    "networks: {n: {ipv6_address: '::1', link_local_ips: [a], mac_address: m, interface_name: eth1, gw_priority: 1}}",
  ),
  ok("an extension key in a network attachment", "networks: {n: {x-a: 1}}"),
  bad("aliases as a string", `${W}.networks.front.aliases`, "networks: {front: {aliases: x}}"),
  bad("an unknown attachment setting", `${W}.networks.front`, "networks: {front: {foo: 1}}"),
  bad("an attached network name with a space", `${W}.networks`, "networks: {'bad name': null}"),
  bad("a network named twice", `${W}.networks`, "networks: [a, a]"),
  bad("networks as a string", `${W}.networks`, "networks: front"),
  bad("a priority as a string", `${W}.networks.n.priority`, "networks: {n: {priority: high}}"),
  ok("depends_on as names", "depends_on: [db]"),
  ok(
    "depends_on with conditions",
    "depends_on: {db: {condition: service_healthy, restart: true, required: false}}",
  ),
  ok("depends_on until done", "depends_on: {init: {condition: service_completed_successfully, x-a: 1}}"),
  bad("an unknown condition", `${W}.depends_on.db.condition`, "depends_on: {db: {condition: sometimes}}"),
  bad("a dependency without a condition", `${W}.depends_on.db`, "depends_on: {db: {}}"),
  bad(
    "a dependency with an unknown key",
    `${W}.depends_on.db`,
    "depends_on: {db: {condition: service_started, foo: 1}}",
  ),
  bad("depends_on as a string", `${W}.depends_on`, "depends_on: db"),
  bad(
    "required as a string",
    `${W}.depends_on.db.required`,
    "depends_on: {db: {condition: service_started, required: 'no'}}",
  ),
  bad("a dependency named twice", `${W}.depends_on`, "depends_on: [db, db]"),
];

/** Health checks, deploy, build and develop. */
export const runCases: Case[] = [
  ok(
    "a healthcheck",
    "healthcheck: {test: [CMD, 'true'], interval: 10s, timeout: 1s, retries: 3, start_period: 1s, start_interval: 1s}",
  ),
  ok(
    "a healthcheck as a shell string, and disabled",
    "healthcheck: {test: curl -f localhost, disable: false, x-a: 1}",
  ),
  bad("a number in the healthcheck test", `${W}.healthcheck.test[1]`, "healthcheck: {test: [CMD, 1]}"),
  bad("an interval as a number", `${W}.healthcheck.interval`, "healthcheck: {interval: 10}"),
  bad("an unknown healthcheck key", `${W}.healthcheck`, "healthcheck: {tests: x}"),
  bad("retries as a list", `${W}.healthcheck.retries`, "healthcheck: {retries: [3]}"),
  ok("deploy left empty", "deploy:"),
  ok(
    "deploy with resources",
    "deploy: {replicas: 2, resources: {limits: {cpus: '0.5', memory: 50M, pids: 10}, reservations: {cpus: 0.25, memory: 20M}}}",
  ),
  ok(
    "deploy device reservations",
    "deploy: {resources: {reservations: {devices: [{capabilities: [gpu], count: all, driver: nvidia}], generic_resources: [{discrete_resource_spec: {kind: gpu, value: 2}}]}}}",
  ),
  ok(
    "deploy policies",
    "deploy: {restart_policy: {condition: on-failure, max_attempts: 3, delay: 5s, window: 1m}, update_config: {parallelism: 2, order: start-first, delay: 1s}}",
  ),
  ok(
    "deploy placement and rollback",
    "deploy: {placement: {constraints: [a==b], preferences: [{spread: x}], max_replicas_per_node: 1}, rollback_config: {failure_action: pause, max_failure_ratio: 0.1, monitor: 5s}}",
  ),
  ok("deploy mode and labels", "deploy: {mode: global, endpoint_mode: vip, labels: [a=b]}"),
  bad("replicas with a fraction", `${W}.deploy.replicas`, "deploy: {replicas: 1.5}"),
  bad(
    "a memory limit as a number",
    `${W}.deploy.resources.limits.memory`,
    "deploy: {resources: {limits: {memory: 50}}}",
  ),
  bad(
    "an unknown update order",
    `${W}.deploy.update_config.order`,
    "deploy: {update_config: {order: random}}",
  ),
  bad(
    "a device reservation without capabilities",
    `${W}.deploy.resources.reservations.devices[0]`,
    "deploy: {resources: {reservations: {devices: [{count: 1}]}}}",
  ),
  bad(
    "placement constraints as a string",
    `${W}.deploy.placement.constraints`,
    "deploy: {placement: {constraints: a==b}}",
  ),
  bad("an unknown deploy key", `${W}.deploy`, "deploy: {mode: replicated, foo: 1}"),
  bad("deploy as a list", `${W}.deploy`, "deploy: [a]"),
  bad("an unknown resources key", `${W}.deploy.resources`, "deploy: {resources: {limit: {}}}"),
  ok("build as a context path", "build: ."),
  ok(
    "build with its common settings",
    "build: {context: ., dockerfile: Dockerfile, args: {A: 1, B: null}, target: prod, network: host, x-a: 1}",
  ),
  ok(
    "build caches, tags and platforms with repeats",
    "build: {context: ., cache_from: [a, a], cache_to: [b], tags: [t], platforms: [linux/amd64]}",
  ),
  ok(
    "build flags",
    "build: {no_cache: true, pull: 'false', privileged: true, provenance: false, sbom: 'mode=max', shm_size: 2g}",
  ),
  ok(
    "build secrets, ulimits, hosts, contexts",
    "build: {secrets: [{source: s, target: t, mode: 0400}], ulimits: {nofile: {soft: 1, hard: 2}}, extra_hosts: {h: [1.2.3.4]}, additional_contexts: [a=b], ssh: [default]}",
  ),
  ok(
    "an inline Dockerfile",
    "build: {dockerfile_inline: 'FROM scratch', entitlements: [network.host], labels: {a: b}, isolation: default}",
  ),
  bad("a numeric build context", `${W}.build.context`, "build: {context: 1}"),
  bad("an unknown build key", `${W}.build`, "build: {contexts: .}"),
  bad("a build arg twice", `${W}.build.args`, "build: {context: ., args: [A, A]}"),
  bad("a build shm_size with a fraction", `${W}.build.shm_size`, "build: {context: ., shm_size: 1.5}"),
  bad("build as a number", `${W}.build`, "build: 5"),
  bad("provenance as a number", `${W}.build.provenance`, "build: {provenance: 1}"),
  ok("develop left empty", "develop:"),
  ok(
    "develop watch rules",
    "develop: {watch: [{path: ./src, action: sync, target: /app, ignore: [node_modules], include: '*.js'}, {path: pkg.json, action: rebuild}]}",
  ),
  ok(
    "develop watch with an exec hook",
    "develop: {watch: [{path: x, action: sync+exec, target: /x, exec: {command: [ls]}, initial_sync: true}]}",
  ),
  bad("a watch rule without an action", `${W}.develop.watch[0]`, "develop: {watch: [{path: x}]}"),
  bad(
    "an unknown watch action",
    `${W}.develop.watch[0].action`,
    "develop: {watch: [{path: x, action: teleport}]}",
  ),
  bad(
    "initial_sync as a string",
    `${W}.develop.watch[0].initial_sync`,
    "develop: {watch: [{path: x, action: sync, initial_sync: 'yes'}]}",
  ),
  bad(
    "a watch exec hook without a command",
    `${W}.develop.watch[0].exec`,
    "develop: {watch: [{path: x, action: sync+exec, exec: {user: root}}]}",
  ),
  bad("an unknown develop key", `${W}.develop`, "develop: {watches: []}"),
];
