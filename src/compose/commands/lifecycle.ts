/** `compose start/stop/restart/kill/rm/pause/unpause`: one operation over the project's containers. */
import type { Readable } from "node:stream";
import { startLevels, stopLevels } from "../model.ts";
import { type ContainerRef, waitsOf } from "../plan.ts";
import type { Project } from "../types.ts";
import { projectRefs, stopAndRemove, waitCondition, waitForDependencies } from "./apply.ts";
import { bool, type Flag, flag, int, parseFlags, str } from "./args.ts";
import type { ComposeContext } from "./context.ts";

async function refsInOrder(
  ctx: ComposeContext,
  services: string[],
  order: "start" | "stop",
  opts: { all?: boolean } = {},
): Promise<{ levels: ContainerRef[][]; project: string; loaded?: Project }> {
  const { name, project } = await ctx.projectName();
  const refs = await projectRefs(ctx, name, { services, oneoff: false, all: opts.all ?? true });
  if (!project) return { levels: [refs], project: name };
  const known = Object.keys(project.services);
  for (const s of services) if (!known.includes(s)) throw new Error(`no such service: ${s}`);
  const levels = (order === "start" ? startLevels(project) : stopLevels(project)).map((l) =>
    refs.filter((r) => l.includes(r.service)),
  );
  const rest = refs.filter((r) => !known.includes(r.service));
  return {
    levels: [...(order === "stop" ? [rest] : []), ...levels, ...(order === "start" ? [rest] : [])],
    project: name,
    loaded: project,
  };
}

async function each(levels: ContainerRef[][], fn: (c: ContainerRef) => Promise<void>): Promise<void> {
  for (const l of levels) await Promise.all(l.map(fn));
}

/** Runs `start`. */
export async function startCommand(ctx: ComposeContext, argv: string[]): Promise<number> {
  const f = parseFlags(argv, [flag.bool("wait", "Wait for services to be running|healthy")]);
  const { levels, loaded } = await refsInOrder(ctx, f.args, "start");
  if (levels.flat().length === 0) throw new Error("service(s) have no containers: run 'compose up' first");
  const waited = new Set<string>();
  await each(levels, async (c) => {
    if (c.state === "running") return;
    // Dependencies' conditions first (once per service), as up does.
    const svc = loaded?.services[c.service];
    if (loaded && svc && !waited.has(c.service)) {
      waited.add(c.service);
      await waitForDependencies(ctx, loaded, waitsOf(loaded, svc), c.service);
    }
    ctx.progress("Container", c.name, "Starting");
    await ctx.engine().client.containerStart(c.id);
    ctx.progress("Container", c.name, "Started");
    if (bool(f, "wait")) {
      const healthy = svc?.healthcheck && !svc.healthcheck.disable;
      await waitCondition(ctx, c.name, healthy ? "service_healthy" : "service_started");
    }
  });
  return 0;
}

const TIMEOUT: Flag = flag.int("timeout", "Specify a shutdown timeout in seconds", { short: "t" });

/** Runs `stop`. */
export async function stopCommand(ctx: ComposeContext, argv: string[]): Promise<number> {
  const f = parseFlags(argv, [TIMEOUT]);
  const { levels } = await refsInOrder(ctx, f.args, "stop");
  await each(levels, async (c) => {
    if (c.state !== "running" && c.state !== "paused" && c.state !== "restarting") return;
    ctx.progress("Container", c.name, "Stopping");
    await ctx.engine().client.containerStop(c.id, { t: int(f, "timeout") });
    ctx.progress("Container", c.name, "Stopped");
  });
  return 0;
}

/** Runs `restart`. */
export async function restartCommand(ctx: ComposeContext, argv: string[]): Promise<number> {
  const f = parseFlags(argv, [TIMEOUT, flag.bool("no-deps", "Don't restart dependent services")]);
  // Services whose depends_on says `restart: true` follow a restarted dependency, unless --no-deps.
  const { loaded } = await refsInOrder(ctx, [], "start");
  const targets = new Set(f.args);
  if (loaded && f.args.length > 0 && !bool(f, "no-deps")) {
    for (let grew = true; grew; ) {
      grew = false;
      for (const [n, svc] of Object.entries(loaded.services)) {
        if (targets.has(n)) continue;
        if (Object.entries(svc.depends_on ?? {}).some(([d, x]) => x.restart && targets.has(d))) {
          targets.add(n);
          grew = true;
        }
      }
    }
  }
  const { levels } = await refsInOrder(ctx, [...targets], "start");
  await each(levels, async (c) => {
    ctx.progress("Container", c.name, "Restarting");
    await ctx.engine().client.containerRestart(c.id, { t: int(f, "timeout") });
    ctx.progress("Container", c.name, "Started");
  });
  return 0;
}

/** Runs `kill`. */
export async function killCommand(ctx: ComposeContext, argv: string[]): Promise<number> {
  const f = parseFlags(argv, [
    flag.string("signal", "SIGNAL to send to the container", { short: "s", default: "SIGKILL" }),
    flag.bool("remove-orphans", "Remove containers for services not defined in the Compose file"),
  ]);
  const { levels } = await refsInOrder(ctx, f.args, "stop", { all: false });
  await each(levels, async (c) => {
    ctx.progress("Container", c.name, "Killing");
    await ctx.engine().client.containerKill(c.id, { signal: str(f, "signal") });
    ctx.progress("Container", c.name, "Killed");
  });
  return 0;
}

/** Runs `rm`. */
export async function rmCommand(ctx: ComposeContext, argv: string[]): Promise<number> {
  const f = parseFlags(argv, [
    flag.bool("force", "Don't ask to confirm removal", { short: "f" }),
    flag.bool("stop", "Stop the containers, if required, before removing", { short: "s" }),
    flag.bool("volumes", "Remove any anonymous volumes attached to containers", { short: "v" }),
  ]);
  const { levels } = await refsInOrder(ctx, f.args, "stop");
  const all = levels.flat();
  const stopped = all.filter((c) => c.state !== "running" && c.state !== "paused");
  if (bool(f, "stop")) {
    await each(levels, (c) => stopAndRemove(ctx, c, { volumes: bool(f, "volumes") }));
    return 0;
  }
  if (stopped.length === 0) {
    ctx.io.err.write("No stopped containers\n");
    return 0;
  }
  if (!bool(f, "force")) {
    const names = stopped.map((c) => c.name).join(", ");
    const input = ctx.io.in ?? process.stdin;
    if (!(input as { isTTY?: boolean }).isTTY) {
      ctx.io.err.write(`Going to remove ${names}\nnot a terminal: use -f to remove without confirmation\n`);
      return 1;
    }
    ctx.io.err.write(`? Going to remove ${names} (y/N) `);
    if (!/^y(es)?$/i.test((await readLine(input)).trim())) return 0;
  }
  for (const c of stopped) await stopAndRemove(ctx, c, { volumes: bool(f, "volumes") });
  return 0;
}

async function pauseOrUnpause(ctx: ComposeContext, argv: string[], pause: boolean): Promise<number> {
  const f = parseFlags(argv, []);
  const { levels } = await refsInOrder(ctx, f.args, "start", { all: false });
  await each(levels, async (c) => {
    if (pause) {
      await ctx.engine().pause(c.id);
      ctx.progress("Container", c.name, "Paused");
    } else {
      await ctx.engine().unpause(c.id);
      ctx.progress("Container", c.name, "Unpaused");
    }
  });
  return 0;
}

/** Runs `pause`. */
export function pauseCommand(ctx: ComposeContext, argv: string[]): Promise<number> {
  return pauseOrUnpause(ctx, argv, true);
}

/** Runs `unpause`. */
export function unpauseCommand(ctx: ComposeContext, argv: string[]): Promise<number> {
  return pauseOrUnpause(ctx, argv, false);
}

/** Reads one line of an answer (without its newline); empty at end of input. */
function readLine(input: Readable): Promise<string> {
  return new Promise((resolve) => {
    let text = "";
    const done = () => {
      input.off("data", onData);
      input.off("end", done);
      input.pause();
      resolve(text.split("\n")[0]);
    };
    const onData = (c: Buffer | string) => {
      text += c.toString();
      if (text.includes("\n")) done();
    };
    input.on("data", onData);
    input.once("end", done);
    input.resume();
  });
}
