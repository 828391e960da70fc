/** `compose exec` and `compose run`: commands in a service's container, or in a one-off one. */
import { randomBytes } from "node:crypto";
import type { Duplex, Readable } from "node:stream";
import { copyOutput } from "../../client/index.ts";
import { createBody } from "../convert.ts";
import { imageName, LABELS, oneoffName, withDependencies } from "../model.ts";
import { planUp } from "../plan.ts";
import { applyUp, engineState, ensureImages, ensureResources, waitForDependencies } from "./apply.ts";
import { bool, type Flag, flag, int, list, parseFlags, str } from "./args.ts";
import type { ComposeContext } from "./context.ts";

function envList(values: string[], lookup: (k: string) => string | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const v of values) {
    const i = v.indexOf("=");
    if (i >= 0) out[v.slice(0, i)] = v.slice(i + 1);
    else {
      const x = lookup(v);
      if (x !== undefined) out[v] = x;
    }
  }
  return out;
}

/** Wires the terminal to a hijacked stream: stdin out (raw when a TTY), output in; resolves when output ends. */
async function pump(
  ctx: ComposeContext,
  stream: Duplex | Readable,
  opts: { tty: boolean; stdin: boolean },
): Promise<void> {
  const input = ctx.io.in ?? process.stdin;
  const writable = "write" in stream ? (stream as Duplex) : undefined;
  const ttyIn = input as Readable & { isTTY?: boolean; setRawMode?: (b: boolean) => void };
  let raw = false;
  if (opts.stdin && writable) {
    if (opts.tty && ttyIn.isTTY && ttyIn.setRawMode) {
      ttyIn.setRawMode(true);
      raw = true;
    }
    input.on("data", (c: Buffer) => writable.write(c));
    input.once("end", () => writable.end());
    input.resume();
  }
  try {
    await copyOutput(stream as Readable, { stdout: ctx.io.out, stderr: ctx.io.err }, { tty: opts.tty });
  } finally {
    if (raw) ttyIn.setRawMode?.(false);
    input.removeAllListeners("data");
    input.pause();
    stream.destroy();
  }
}

/** Flags of `exec`. */
export const EXEC_FLAGS: Flag[] = [
  flag.bool("detach", "Detached mode: Run command in the background", { short: "d" }),
  flag.bool("no-TTY", "Disable pseudo-TTY allocation", { short: "T" }),
  flag.bool("interactive", "Keep STDIN open even if not attached", { short: "i", default: true }),
  flag.bool("tty", "Allocate a pseudo-TTY", { short: "t", default: true }),
  flag.list("env", "Set environment variables", { short: "e" }),
  flag.string("user", "Run the command as this user", { short: "u" }),
  flag.string("workdir", "Path to workdir directory for this command", { short: "w" }),
  flag.int("index", "Index of the container if service has multiple replicas", { default: 1 }),
  flag.bool("privileged", "Give extended privileges to the process"),
];

/** Runs `exec SERVICE COMMAND...`; exits with the command's code. */
export async function execCommand(ctx: ComposeContext, argv: string[]): Promise<number> {
  const f = parseFlags(argv, EXEC_FLAGS, { stopAtPositional: true });
  const [service, ...cmd] = f.args;
  if (!service || cmd.length === 0)
    throw new Error('"compose exec" requires at least 2 arguments: SERVICE COMMAND');
  const { name } = await ctx.projectName();
  const e = ctx.engine();
  const index = int(f, "index") ?? 1;
  const cs = await e.client.containerList({
    filters: {
      label: [
        `${LABELS.project}=${name}`,
        `${LABELS.service}=${service}`,
        `${LABELS.number}=${index}`,
        `${LABELS.oneoff}=False`,
      ],
    },
  });
  const live = cs.filter((c) => c.State === "running");
  if (live.length === 0) throw new Error(`service "${service}" is not running`);
  const stdinTTY = (ctx.io.in as { isTTY?: boolean } | undefined)?.isTTY ?? process.stdin.isTTY === true;
  const tty = !bool(f, "no-TTY") && f.flags.tty !== false && stdinTTY;
  const detach = bool(f, "detach");
  const id = await e.execCreate(live[0].Id, {
    Cmd: cmd,
    AttachStdin: !detach && f.flags.interactive !== false,
    AttachStdout: !detach,
    AttachStderr: !detach,
    Tty: tty,
    Env: Object.entries(envList(list(f, "env"), (k) => ctx.env[k])).map(([k, v]) => `${k}=${v}`),
    User: str(f, "user"),
    WorkingDir: str(f, "workdir"),
    Privileged: bool(f, "privileged"),
  });
  if (detach) {
    await e.execStartDetached(id);
    return 0;
  }
  const stream = await e.execStartAttached(id, { tty });
  if (tty) {
    const out = ctx.io.out as { columns?: number; rows?: number };
    if (out.columns && out.rows)
      await e.execResize(id, { h: out.rows, w: out.columns }).catch(() => undefined);
  }
  await pump(ctx, stream, { tty, stdin: f.flags.interactive !== false });
  for (let i = 0; i < 50; i++) {
    const code = await e.execExitCode(id);
    if (code !== null) return code;
    await new Promise((r) => setTimeout(r, 20));
  }
  return 0;
}

/** Flags of `run`. */
export const RUN_FLAGS: Flag[] = [
  flag.bool("detach", "Run container in background and print container ID", { short: "d" }),
  flag.bool("rm", "Automatically remove the container when it exits"),
  flag.string("name", "Assign a name to the container"),
  flag.list("env", "Set environment variables", { short: "e" }),
  flag.list("label", "Add or override a label", { short: "l" }),
  flag.string("user", "Run as specified username or uid", { short: "u" }),
  flag.string("workdir", "Working directory inside the container", { short: "w" }),
  flag.string("entrypoint", "Override the entrypoint of the image"),
  flag.bool("no-deps", "Don't start linked services"),
  flag.bool("no-TTY", "Disable pseudo-TTY allocation", { short: "T" }),
  flag.bool("interactive", "Keep STDIN open even if not attached", { short: "i", default: true }),
  flag.bool("tty", "Allocate a pseudo-TTY", { short: "t", default: true }),
  flag.bool("service-ports", "Run command with all service's ports enabled and mapped to the host", {
    short: "P",
  }),
  flag.list("publish", "Publish a container's port(s) to the host", { short: "p" }),
  flag.list("volume", "Bind mount a volume", { short: "v" }),
  flag.bool("build", "Build image before starting container"),
  flag.bool("quiet-pull", "Pull without printing progress information"),
  flag.bool("remove-orphans", "Remove containers for services not defined in the Compose file"),
];

/** Runs `run SERVICE [COMMAND...]`; exits with the container's code. */
export async function runCommand(ctx: ComposeContext, argv: string[]): Promise<number> {
  const f = parseFlags(argv, RUN_FLAGS, { stopAtPositional: true });
  const [service, ...cmd] = f.args;
  if (!service) throw new Error('"compose run" requires at least 1 argument: SERVICE');
  const project = await ctx.project({ services: [service] });
  const base = project.services[service];
  if (!base) throw new Error(`no such service: ${service}`);
  const e = ctx.engine();
  if (!bool(f, "no-deps")) {
    const deps = withDependencies(project, [service]).filter((s) => s !== service);
    if (deps.length > 0) {
      const ids = await ensureImages(ctx, project, deps, { quietPull: bool(f, "quiet-pull") });
      const state = await engineState(ctx, project);
      const plan = planUp(project, state, {
        services: deps,
        noRecreate: true,
        removeOrphans: bool(f, "remove-orphans"),
      });
      await applyUp(ctx, project, plan, { start: true, hasNetworks: state.hasNetworks, imageIds: ids });
    }
  }
  const imageIds = await ensureImages(ctx, project, [service], {
    build: bool(f, "build"),
    quietPull: bool(f, "quiet-pull"),
  });
  const svc = { ...base };
  if (!bool(f, "service-ports")) svc.ports = [];
  const state = await engineState(ctx, project);
  // The one-off joins the project's networks and volumes, made here when no up made them yet, and starts
  // once its dependencies meet their conditions.
  const own = planUp(project, state, { services: [service], noDeps: true, noRecreate: true });
  await ensureResources(ctx, project, own, state.hasNetworks);
  if (!bool(f, "no-deps")) {
    const waits = own.levels.flat().find((sp) => sp.service === service)?.waitFor ?? [];
    await waitForDependencies(ctx, project, waits, service);
  }
  const name = str(f, "name") ?? oneoffName(project.name, service, randomBytes(6).toString("hex"));
  const stdinTTY = (ctx.io.in as { isTTY?: boolean } | undefined)?.isTTY ?? process.stdin.isTTY === true;
  const detach = bool(f, "detach");
  const tty = !detach && !bool(f, "no-TTY") && f.flags.tty !== false && stdinTTY;
  const interactive = !detach && f.flags.interactive !== false;
  const labels: Record<string, string> = {};
  for (const l of list(f, "label")) {
    const i = l.indexOf("=");
    labels[i < 0 ? l : l.slice(0, i)] = i < 0 ? "" : l.slice(i + 1);
  }
  const { body, extraNetworks } = createBody(svc, {
    project,
    number: 1,
    name,
    oneoff: true,
    imageId: imageIds[service],
    networks: state.hasNetworks,
    override: {
      command: cmd.length > 0 ? cmd : undefined,
      entrypoint: str(f, "entrypoint") !== undefined ? [str(f, "entrypoint") as string] : undefined,
      user: str(f, "user"),
      working_dir: str(f, "workdir"),
      tty,
      stdin_open: interactive,
      env: envList(list(f, "env"), (k) => ctx.env[k]),
      labels,
    },
  });
  body.Image = imageName(project.name, svc);
  body.AttachStdin = interactive;
  body.AttachStdout = !detach;
  body.AttachStderr = !detach;
  body.StdinOnce = interactive;
  const host = body.HostConfig ?? {};
  host.Binds = [...(host.Binds ?? []), ...list(f, "volume")];
  const bindings = host.PortBindings ?? {};
  const exposed = body.ExposedPorts ?? {};
  for (const p of list(f, "publish")) {
    const m = /^(?:(.*):)?(\d+)(?:\/(\w+))?$/.exec(p);
    if (!m) throw new Error(`invalid publish spec: ${p}`);
    const key = `${m[2]}/${m[3] ?? "tcp"}`;
    const hp = m[1] ?? "";
    const [ip, port] = hp.includes(":")
      ? [hp.slice(0, hp.lastIndexOf(":")), hp.slice(hp.lastIndexOf(":") + 1)]
      : ["", hp];
    bindings[key] = [{ HostIp: ip, HostPort: port }];
    exposed[key] = {};
  }
  host.PortBindings = bindings;
  body.ExposedPorts = exposed;
  host.AutoRemove = false;
  body.HostConfig = host;
  const { Id } = await e.client.containerCreate(body, { name });
  for (const n of extraNetworks) await e.networkConnect(n.name, Id, n.endpoint);
  if (detach) {
    await e.client.containerStart(Id);
    ctx.print(`${name}\n`);
    return 0;
  }
  const stream = await e.client.containerAttach(Id, {
    stream: true,
    stdin: interactive,
    stdout: true,
    stderr: true,
  });
  const { result } = await e.client.containerWait(Id, { condition: "next-exit" });
  await e.client.containerStart(Id);
  await pump(ctx, stream, { tty, stdin: interactive });
  const code = (await result).StatusCode;
  if (bool(f, "rm")) await e.client.containerRemove(Id, { force: true, v: true }).catch(() => undefined);
  return code;
}
