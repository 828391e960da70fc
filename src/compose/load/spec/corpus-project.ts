/**
 * Compose files for the validator tests, about the top of the file: version, name, include, extension
 * fields and the networks, volumes, secrets, configs and models sections.
 */
import type { Case } from "./corpus-services.ts";

const svc = "services:\n  web: {image: x}\n";

function ok(name: string, yaml: string): Case {
  return { name, yaml };
}

function bad(name: string, error: string, yaml: string): Case {
  return { name, yaml, error };
}

/** The top level and the sections beside services. */
export const projectCases: Case[] = [
  ok("a version and a name", `version: '3.8'\nname: myproj\n${svc}`),
  ok(
    "extension fields reused through a merge key",
    "x-common: &c {image: x, restart: always}\nservices:\n  web:\n    <<: *c\n",
  ),
  ok("extension fields of any shape", `x-a: 1\nx-b: [1, {c: d}]\n${svc}`),
  ok("empty sections", `${svc}networks: {}\nvolumes: {}\nsecrets: {}\nconfigs: {}\n`),
  bad("a misspelt section", "(root)", "servics: {}\n"),
  bad("an extension field with a capital X", "(root)", `X-a: 1\n${svc}`),
  bad("a numeric version", "version", `version: 3\n${svc}`),
  bad("a numeric name", "name", `name: 5\n${svc}`),
  ok("includes", "include: [other.yaml, {path: [a.yaml, b.yaml], env_file: .env, project_directory: .}]\n"),
  bad("include as a string", "include", "include: other.yaml\n"),
  bad("an include with an unknown key", "include[0]", "include: [{path: a, foo: 1}]\n"),
  bad("an include with an extension key", "include[0]", "include: [{path: a, x-foo: 1}]\n"),
  bad("an include path twice", "include[0].path", "include: [{path: [a, a]}]\n"),
  ok(
    "networks left to defaults and driven",
    `${svc}networks:\n  front:\n  back: {driver: bridge, driver_opts: {com.docker.network.bridge.name: br0, mtu: 1500}}\n`,
  ),
  ok(
    "a network with IPAM",
    `${svc}networks:\n  n:\n    ipam: {driver: default, config: [{subnet: 172.28.0.0/16, ip_range: 172.28.5.0/24, gateway: 172.28.5.254, aux_addresses: {host1: 172.28.1.5}}], options: {foo: bar}}\n`,
  ),
  ok(
    "network flags and labels",
    `${svc}networks:\n  n: {internal: true, enable_ipv4: true, enable_ipv6: false, attachable: 'true', labels: [a=b], x-a: 1}\n`,
  ),
  ok(
    "external networks",
    `${svc}networks:\n  ext: {external: true, name: real}\n  legacy: {external: {name: real2}}\n`,
  ),
  ok("a network key compose leaves unchecked", `${svc}networks:\n  'bad name!': 5\n`),
  bad("a numeric network driver", "networks.n.driver", `${svc}networks:\n  n: {driver: 1}\n`),
  bad(
    "a numeric subnet",
    "networks.n.ipam.config[0].subnet",
    `${svc}networks:\n  n: {ipam: {config: [{subnet: 1}]}}\n`,
  ),
  bad(
    "a numeric IPAM option",
    "networks.n.ipam.options.a",
    `${svc}networks:\n  n: {ipam: {options: {a: 1}}}\n`,
  ),
  bad("an unknown IPAM key", "networks.n.ipam", `${svc}networks:\n  n: {ipam: {drivers: x}}\n`),
  bad(
    "an aux address with an empty name",
    "networks.n.ipam.config[0].aux_addresses",
    `${svc}networks:\n  n: {ipam: {config: [{aux_addresses: {'': x}}]}}\n`,
  ),
  bad(
    "an external network with an unknown key",
    "networks.n.external",
    `${svc}networks:\n  n: {external: {name: x, foo: 1}}\n`,
  ),
  bad("external as a number", "networks.n.external", `${svc}networks:\n  n: {external: 5}\n`),
  bad("internal as a number", "networks.n.internal", `${svc}networks:\n  n: {internal: 1}\n`),
  bad("a network label as a list", "networks.n.labels.a", `${svc}networks:\n  n: {labels: {a: [b]}}\n`),
  bad(
    "a driver option as a list",
    "networks.n.driver_opts.a",
    `${svc}networks:\n  n: {driver_opts: {a: [1]}}\n`,
  ),
  bad("an unknown network key", "networks.n", `${svc}networks:\n  n: {foo: 1}\n`),
  bad("networks as a list", "networks", `${svc}networks: [a]\n`),
  ok(
    "volumes left to defaults and driven",
    `${svc}volumes:\n  data:\n  other: {driver: local, driver_opts: {type: nfs, o: 'addr=1'}, labels: {a: b}, name: x}\n`,
  ),
  ok(
    "external volumes",
    `${svc}volumes:\n  a: {external: true}\n  b: {external: {name: real}}\n  c: {external: false, x-a: 1}\n`,
  ),
  bad("an unknown volume key", "volumes.v", `${svc}volumes:\n  v: {driver: local, foo: 1}\n`),
  bad("a volume name with a space", "volumes", `${svc}volumes:\n  'bad name':\n`),
  bad(
    "an external volume with an unknown key",
    "volumes.v.external",
    `${svc}volumes:\n  v: {external: {name: x, foo: 1}}\n`,
  ),
  bad("a volume as a number", "volumes.v", `${svc}volumes:\n  v: 5\n`),
  bad("a volume label twice", "volumes.v.labels", `${svc}volumes:\n  v: {labels: [a, a]}\n`),
  ok(
    "secrets from files, the environment and elsewhere",
    `${svc}secrets:\n  s1: {file: ./s.txt}\n  s2: {environment: TOKEN}\n  s3: {external: true}\n`,
  ),
  ok(
    "a legacy external secret with keys compose leaves unchecked",
    `${svc}secrets:\n  s: {external: {name: n, anything: 1}}\n`,
  ),
  ok(
    "secret drivers",
    `${svc}secrets:\n  s: {name: n, driver: d, driver_opts: {a: 1}, template_driver: golang, labels: [a=b]}\n`,
  ),
  bad("a secret left empty", "secrets.s", `${svc}secrets:\n  s:\n`),
  bad("a numeric secret file", "secrets.s.file", `${svc}secrets:\n  s: {file: 1}\n`),
  bad("an unknown secret key", "secrets.s", `${svc}secrets:\n  s: {filename: x}\n`),
  bad("a secret name with a space", "secrets", `${svc}secrets:\n  'my secret': {file: x}\n`),
  ok(
    "configs from files, content and elsewhere",
    `${svc}configs:\n  c1: {file: ./c}\n  c2: {content: hello}\n  c3: {external: true, name: real}\n  c4: {environment: E, x-a: 1}\n`,
  ),
  bad("config content as a list", "configs.c.content", `${svc}configs:\n  c: {content: [a]}\n`),
  bad("a config with a driver", "configs.c", `${svc}configs:\n  c: {driver: x}\n`),
  bad("a config name with a space", "configs", `${svc}configs:\n  'bad name': {file: x}\n`),
  ok(
    "models",
    `${svc}models:\n  m: {model: ai/smollm2, context_size: 1024, runtime_flags: [--a], name: small}\n`,
  ),
  ok("a model key compose leaves unchecked", `${svc}models:\n  'bad key!': 1\n`),
  bad("a model without its model", "models.m", `${svc}models:\n  m: {context_size: 5}\n`),
  bad(
    "a context size as a string",
    "models.m.context_size",
    `${svc}models:\n  m: {model: x, context_size: big}\n`,
  ),
  bad("an unknown model key", "models.m", `${svc}models:\n  m: {model: x, size: 1}\n`),
];
