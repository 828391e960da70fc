/** `compose up` and `compose create`. */
import { startLevels } from "../model.ts";
import { planUp, type UpOptions } from "../plan.ts";
import type { Project } from "../types.ts";
import { applyUp, engineState, ensureImages, waitCondition } from "./apply.ts";
import { bool, type Flag, flag, int, list, type Parsed, parseFlags, str } from "./args.ts";
import type { ComposeContext } from "./context.ts";
import { followLogs } from "./logs.ts";

const COMMON: Flag[] = [
  flag.bool("build", "Build images before starting containers"),
  flag.bool("no-build", "Don't build an image, even if it's policy"),
  flag.bool("force-recreate", "Recreate containers even if their configuration and image haven't changed"),
  flag.bool("no-recreate", "If containers already exist, don't recreate them"),
  flag.bool("remove-orphans", "Remove containers for services not defined in the Compose file"),
  flag.list("scale", "Scale SERVICE to NUM instances (SERVICE=NUM)"),
  flag.string("pull", 'Pull image before running ("always"|"missing"|"never")', { default: "policy" }),
  flag.bool("quiet-pull", "Pull without printing progress information"),
  flag.bool("always-recreate-deps", "Recreate dependent containers"),
];

/** Flags of `up`. */
export const UP_FLAGS: Flag[] = [
  ...COMMON,
  flag.bool("detach", "Detached mode: Run containers in the background", { short: "d" }),
  flag.bool("no-deps", "Don't start linked services"),
  flag.bool("wait", "Wait for services to be running|healthy. Implies detached mode."),
  flag.int("wait-timeout", "Maximum duration in seconds to wait for the project to be running|healthy"),
  flag.int("timeout", "Use this timeout in seconds for container shutdown", { short: "t" }),
  flag.bool("no-start", "Don't start the services after creating them"),
  flag.bool("no-log-prefix", "Don't print prefix in logs"),
  flag.bool("no-color", "Produce monochrome output"),
  flag.bool("timestamps", "Show timestamps"),
  flag.bool("abort-on-container-exit", "Stops all containers if any container was stopped"),
  flag.string("exit-code-from", "Return the exit code of the selected service container"),
  flag.bool("attach-dependencies", "Automatically attach to log output of dependent services"),
];

function scaleMap(values: string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const v of values) {
    const m = /^([^=]+)=(\d+)$/.exec(v);
    if (!m) throw new Error(`invalid --scale value ${JSON.stringify(v)}: expected SERVICE=NUM`);
    out[m[1]] = Number(m[2]);
  }
  return out;
}

/** Plans and applies `up`/`create`; returns the project and the containers by service. */
async function converge(
  ctx: ComposeContext,
  f: Parsed,
  start: boolean,
): Promise<{ project: Project; names: Map<string, string[]>; services: string[] }> {
  if (bool(f, "build") && bool(f, "no-build")) throw new Error("--build and --no-build are incompatible");
  if (bool(f, "force-recreate") && bool(f, "no-recreate"))
    throw new Error("--force-recreate and --no-recreate are incompatible");
  const project = await ctx.project({ services: f.args });
  const scale = scaleMap(list(f, "scale"));
  for (const s of Object.keys(scale)) if (!project.services[s]) throw new Error(`no such service: ${s}`);
  const opts: UpOptions = {
    services: f.args,
    noDeps: bool(f, "no-deps"),
    forceRecreate: bool(f, "force-recreate"),
    noRecreate: bool(f, "no-recreate"),
    alwaysRecreateDeps: bool(f, "always-recreate-deps"),
    removeOrphans: bool(f, "remove-orphans") || ctx.env.COMPOSE_REMOVE_ORPHANS === "true",
    scale,
  };
  const pull = str(f, "pull");
  // Images first: a rebuilt image changes the plan (its containers are recreated).
  const selected = planUp(project, { containers: [], networks: [], volumes: [] }, opts)
    .levels.flat()
    .map((s) => s.service);
  const imageIds = await ensureImages(ctx, project, selected, {
    build: bool(f, "build"),
    noBuild: bool(f, "no-build"),
    pull: pull === "always" || pull === "missing" || pull === "never" ? pull : undefined,
    quietPull: bool(f, "quiet-pull"),
  });
  const state = await engineState(ctx, project);
  const plan = planUp(project, state, opts);
  for (const w of plan.warnings) ctx.warn(w);
  const names = await applyUp(ctx, project, plan, {
    start,
    timeout: int(f, "timeout"),
    hasNetworks: state.hasNetworks,
    imageIds,
  });
  return { project, names, services: selected };
}

/** Runs `create`. */
export async function createCommand(ctx: ComposeContext, argv: string[]): Promise<number> {
  await converge(ctx, parseFlags(argv, COMMON), false);
  return 0;
}

/** Runs `up`. */
export async function upCommand(ctx: ComposeContext, argv: string[]): Promise<number> {
  const f = parseFlags(argv, UP_FLAGS);
  const { project, names, services } = await converge(ctx, f, !bool(f, "no-start"));
  if (bool(f, "no-start")) return 0;
  if (bool(f, "wait")) {
    const timeout = int(f, "wait-timeout");
    const deadline = timeout ? timeout * 1000 : undefined;
    for (const level of startLevels(project, services)) {
      for (const s of level) {
        for (const c of names.get(s) ?? []) {
          const condition =
            project.services[s].healthcheck && !project.services[s].healthcheck?.disable
              ? "service_healthy"
              : "service_started";
          ctx.progress("Container", c, "Waiting");
          await waitCondition(ctx, c, condition, { timeoutMs: deadline });
          ctx.progress("Container", c, condition === "service_healthy" ? "Healthy" : "Started");
        }
      }
    }
    return 0;
  }
  if (bool(f, "detach")) return 0;
  return attached(ctx, project, names, f);
}

/**
 * Attached `up`: follows every container's output with prefixes until all have exited; Ctrl-C stops the
 * project's containers gracefully (a second Ctrl-C kills them), as docker compose does.
 */
async function attached(
  ctx: ComposeContext,
  project: Project,
  names: Map<string, string[]>,
  f: Parsed,
): Promise<number> {
  const e = ctx.engine();
  const targets = f.args.length > 0 && !bool(f, "attach-dependencies") ? f.args : [...names.keys()];
  const containers = targets.flatMap((s) => names.get(s) ?? []);
  const abort = new AbortController();
  let interrupted = 0;
  const onSigint = () => {
    interrupted++;
    if (interrupted === 1) {
      ctx.io.err.write("Gracefully stopping... (press Ctrl+C again to force)\n");
      void stopAll(ctx, [...names.values()].flat(), int(f, "timeout")).finally(() => abort.abort());
    } else {
      void Promise.all(
        [...names.values()].flat().map((n) => e.client.containerKill(n).catch(() => undefined)),
      ).finally(() => abort.abort());
    }
  };
  process.on("SIGINT", onSigint);
  try {
    const exitFrom = str(f, "exit-code-from");
    const logs = followLogs(ctx, containers, {
      project: project.name,
      follow: true,
      prefix: !bool(f, "no-log-prefix"),
      color: ctx.color && !bool(f, "no-color"),
      timestamps: bool(f, "timestamps"),
      signal: abort.signal,
    });
    const waits = containers.map(async (name) => {
      const { result } = await e.client.containerWait(name, { condition: "not-running" });
      const r = await result;
      ctx.io.err.write(`${name} exited with code ${r.StatusCode}\n`);
      return { name, code: r.StatusCode };
    });
    let code = 0;
    if (bool(f, "abort-on-container-exit") || exitFrom) {
      const first = await Promise.race(waits);
      ctx.io.err.write("Aborting on container exit...\n");
      await stopAll(ctx, [...names.values()].flat(), int(f, "timeout"));
      code = first.code;
      if (exitFrom) {
        const svcNames = names.get(exitFrom) ?? [];
        const all = await Promise.all(waits);
        code = all.find((w) => svcNames.includes(w.name))?.code ?? code;
      }
    } else {
      await Promise.all(waits);
    }
    // Follow streams end on their own once their container has exited; give them time to drain.
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      logs.catch(() => undefined),
      new Promise((r) => {
        timer = setTimeout(r, 5000);
      }),
    ]);
    clearTimeout(timer);
    abort.abort();
    await logs.catch(() => undefined);
    return interrupted > 0 ? 130 : code;
  } finally {
    process.off("SIGINT", onSigint);
  }
}

async function stopAll(ctx: ComposeContext, names: string[], timeout?: number): Promise<void> {
  await Promise.all(
    names.map(async (n) => {
      ctx.progress("Container", n, "Stopping");
      await ctx
        .engine()
        .client.containerStop(n, { t: timeout })
        .catch(() => undefined);
      ctx.progress("Container", n, "Stopped");
    }),
  );
}
