/** Shapes that several sections of a Compose file share. */
import {
  type Check,
  either,
  entries,
  fields,
  flag,
  listOf,
  numeric,
  scalar,
  strings,
  text,
  whole,
} from "./check.ts";

/** `KEY=value` lines or a `KEY: value` mapping (environment, labels, build args, sysctls...). */
export const listOrDict: Check = either(
  entries(scalar("string", "number", "boolean", "null"), { closed: true }),
  strings,
);

/** One string or a list of them (dns, tmpfs, watch ignore...). */
export const stringOrList: Check = either(text, strings);

/** A command: a shell string, an exec list, or nothing (to reset the image's). */
export const command: Check = either(scalar("null"), text, listOf(text));

/** `host: ip` (one address or several) or `host:ip` lines. */
export const extraHosts: Check = either(entries(either(text, listOf(text)), { closed: true }), strings);

/** Driver options: names to strings or numbers. */
export const driverOpts: Check = entries(scalar("string", "number"), { keys: /^.+$/ });

/** A service's use of configs or secrets: the name, or where and how to mount it. */
export const mountedRefs: Check = listOf(
  either(text, fields({ source: text, target: text, uid: text, gid: text, mode: numeric })),
);

/** Resource limits: `nofile: 1024` or `nofile: {soft: 1024, hard: 2048}`. */
export const ulimits: Check = entries(
  either(whole, fields({ hard: whole, soft: whole }, { required: ["soft", "hard"] })),
  { keys: /^[a-z]+$/ },
);

/** Env files: a path, or a list of paths and `{path, format, required}` entries. */
export const envFile: Check = either(
  text,
  listOf(
    either(
      text,
      fields({ path: text, format: text, required: flag }, { required: ["path"], extensions: false }),
    ),
  ),
);

/** Label files: a path or a list of them. */
export const labelFile: Check = either(text, listOf(text));

/** A command run in the service's container at a lifecycle hook (post_start, pre_stop, watch exec). */
export const hook: Check = fields(
  { command, user: text, privileged: flag, working_dir: text, environment: listOrDict },
  { required: ["command"] },
);

/** `external: true`, or (legacy) `external: {name: ...}`; `open` lets other keys through unchecked. */
export function external(opts: { open?: boolean } = {}): Check {
  return either(scalar("boolean", "string"), fields({ name: text }, { open: opts.open }));
}
