/** How a service connects: ports, volumes, networks, dependencies, devices and other services' files. */
import {
  type Check,
  either,
  entries,
  fields,
  flag,
  listOf,
  NAME,
  numeric,
  oneOfText,
  scalar,
  strings,
  text,
  whole,
  wholeWithin,
} from "./check.ts";
import { listOrDict } from "./common.ts";

/** `"8080:80/tcp"`, `80`, or the long form. */
export const ports: Check = listOf(
  either(
    scalar("number"),
    text,
    fields({
      name: text,
      mode: text,
      host_ip: text,
      target: whole,
      published: scalar("string", "integer"),
      protocol: text,
      app_protocol: text,
    }),
  ),
  { unique: true },
);

/** The mount types a long-form volume entry may name. */
export const MOUNT_TYPES = ["bind", "volume", "tmpfs", "cluster", "npipe", "image"] as const;

const bindOptions = fields({
  propagation: text,
  create_host_path: flag,
  recursive: oneOfText(["enabled", "disabled", "writable", "readonly"]),
  selinux: oneOfText(["z", "Z"]),
});

/** `"./data:/data:ro"`, or the long form with its per-type options. */
export const volumes: Check = listOf(
  either(
    text,
    fields(
      {
        type: oneOfText(MOUNT_TYPES),
        source: text,
        target: text,
        read_only: flag,
        consistency: text,
        bind: bindOptions,
        volume: fields({ labels: listOrDict, nocopy: flag, subpath: text }),
        tmpfs: fields({ size: either(wholeWithin(0, undefined), text), mode: numeric }),
        image: fields({ subpath: text }),
      },
      { required: ["type"] },
    ),
  ),
  { unique: true },
);

const attachment = fields({
  aliases: strings,
  interface_name: text,
  ipv4_address: text,
  ipv6_address: text,
  link_local_ips: strings,
  mac_address: text,
  driver_opts: entries(scalar("string", "number"), { keys: /^.+$/ }),
  priority: scalar("number"),
  gw_priority: scalar("number"),
});

/** The networks a service joins: names, or names to per-network settings (or nothing). */
export const serviceNetworks: Check = either(
  strings,
  entries(either(attachment, scalar("null")), { keys: NAME, closed: true }),
);

/** The states of a dependency a service can wait for. */
export const CONDITIONS = ["service_started", "service_healthy", "service_completed_successfully"] as const;

/** The services this one needs: names, or names to how to wait for them. */
export const dependsOn: Check = either(
  strings,
  entries(
    fields(
      { restart: flag, required: scalar("boolean"), condition: oneOfText(CONDITIONS) },
      { required: ["condition"] },
    ),
    { keys: NAME, closed: true },
  ),
);

/** Host devices: `"/dev/fuse"` or `{source, target, permissions}`. */
export const devices: Check = listOf(
  either(text, fields({ source: text, target: text, permissions: text }, { required: ["source"] })),
);

const perDevice = (value: string) => listOf(fields({ path: text, [value]: whole }, { extensions: false }));

/** Block IO weights and limits. */
export const blkioConfig: Check = fields(
  {
    device_read_bps: perDevice("rate"),
    device_read_iops: perDevice("rate"),
    device_write_bps: perDevice("rate"),
    device_write_iops: perDevice("rate"),
    weight: whole,
    weight_device: perDevice("weight"),
  },
  { extensions: false },
);

/** The log driver and its options. */
export const logging: Check = fields({
  driver: text,
  options: entries(scalar("string", "number", "null"), { keys: /^.+$/ }),
});

/** Another service to start from: its name, or its name and file. */
export const extendsRef: Check = either(
  text,
  fields({ service: text, file: text }, { required: ["service"], extensions: false }),
);

const providerOption = scalar("string", "number", "boolean");

/** A service provided by a plugin instead of a container. */
export const provider: Check = fields(
  { type: text, options: entries(either(providerOption, listOf(providerOption)), { keys: /^.+$/ }) },
  { required: ["type"] },
);

/** The language models a service uses: names, or names to the variables that carry them. */
export const serviceModels: Check = either(
  strings,
  entries(fields({ endpoint_var: text, model_var: text }), { keys: NAME }),
);

/** Windows credential spec. */
export const credentialSpec: Check = fields({ config: text, file: text, registry: text });
