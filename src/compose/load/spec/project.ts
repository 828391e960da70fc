/** The top of a Compose file: its sections and the networks, volumes, configs, secrets and models in them. */
import { type Check, either, entries, fields, flag, listOf, NAME, scalar, text } from "./check.ts";
import { driverOpts, external, listOrDict, stringOrList } from "./common.ts";
import { service } from "./service.ts";

/** Another Compose file (or several) pulled into this project. */
const include: Check = either(
  text,
  fields({ path: stringOrList, env_file: stringOrList, project_directory: text }, { extensions: false }),
);

const ipam = fields({
  driver: text,
  config: listOf(
    fields({
      subnet: text,
      ip_range: text,
      gateway: text,
      aux_addresses: entries(text, { keys: /^.+$/, closed: true }),
    }),
  ),
  options: entries(text, { keys: /^.+$/, closed: true }),
});

/** A network definition (`name:` alone, i.e. null, takes every default). */
export const network: Check = fields(
  {
    name: text,
    driver: text,
    driver_opts: driverOpts,
    ipam,
    external: external(),
    internal: flag,
    enable_ipv4: flag,
    enable_ipv6: flag,
    attachable: flag,
    labels: listOrDict,
  },
  { nullable: true },
);

/** A named volume definition. */
export const volume: Check = fields(
  { name: text, driver: text, driver_opts: driverOpts, external: external(), labels: listOrDict },
  { nullable: true },
);

/** A secret: read from a file or an environment variable, or managed elsewhere (external). */
export const secret: Check = fields({
  name: text,
  environment: text,
  file: text,
  external: external({ open: true }),
  labels: listOrDict,
  driver: text,
  driver_opts: driverOpts,
  template_driver: text,
});

/** A config: like a secret, and it may also be written inline as `content`. */
export const config: Check = fields({
  name: text,
  content: text,
  environment: text,
  file: text,
  external: external({ open: true }),
  labels: listOrDict,
  template_driver: text,
});

/** A language model the project runs. */
export const model: Check = fields(
  { name: text, model: text, context_size: scalar("integer"), runtime_flags: listOf(text) },
  { required: ["model"] },
);

/** A whole Compose file. */
export const composeFile: Check = fields({
  version: text,
  name: text,
  include: listOf(include),
  services: entries(service, { keys: NAME, closed: true }),
  models: entries(model, { keys: NAME }),
  networks: entries(network, { keys: NAME }),
  volumes: entries(volume, { keys: NAME, closed: true }),
  secrets: entries(secret, { keys: NAME, closed: true }),
  configs: entries(config, { keys: NAME, closed: true }),
});
