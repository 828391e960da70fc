/** `compose down`: stop and remove what `up` made — containers, networks, and with flags volumes and images. */
import { isNotFound } from "../engine.ts";
import { type ContainerRef, planDown } from "../plan.ts";
import type { Project } from "../types.ts";
import { engineState, stopAndRemove } from "./apply.ts";
import { bool, type Flag, flag, int, parseFlags, str } from "./args.ts";
import type { ComposeContext } from "./context.ts";

/** Flags of `down`. */
export const DOWN_FLAGS: Flag[] = [
  flag.bool("volumes", 'Remove named volumes declared in the "volumes" section and anonymous volumes', {
    short: "v",
  }),
  flag.string(
    "rmi",
    'Remove images used by services. "local" remove only images that don\'t have a custom tag ("local"|"all")',
  ),
  flag.bool("remove-orphans", "Remove containers for services not defined in the Compose file"),
  flag.int("timeout", "Specify a shutdown timeout in seconds", { short: "t" }),
];

function emptyProject(name: string): Project {
  return {
    name,
    workingDir: "",
    configFiles: [],
    environment: {},
    services: {},
    disabledServices: {},
    networks: {},
    volumes: {},
    secrets: {},
    configs: {},
    extensions: {},
    profiles: [],
  };
}

/** Runs `down`. */
export async function downCommand(ctx: ComposeContext, argv: string[]): Promise<number> {
  const f = parseFlags(argv, DOWN_FLAGS);
  const rmi = str(f, "rmi");
  if (rmi !== undefined && rmi !== "local" && rmi !== "all")
    throw new Error(`invalid value for --rmi: ${rmi}`);
  const { name, project: loaded } = await ctx.projectName();
  // Without a compose file (`down -p name`), every container of the project counts as ours.
  const project = loaded ?? emptyProject(name);
  const state = await engineState(ctx, project);
  const plan = planDown(project, state, {
    removeOrphans: bool(f, "remove-orphans") || !loaded,
    volumes: bool(f, "volumes"),
    rmi: rmi as "local" | "all" | undefined,
    services: f.args,
  });
  for (const w of plan.warnings) ctx.warn(w);
  const timeout = int(f, "timeout");
  for (const level of plan.levels) {
    await Promise.all(
      level.map((c: ContainerRef) => stopAndRemove(ctx, c, { timeout, volumes: bool(f, "volumes") })),
    );
  }
  const e = ctx.engine();
  let networks = plan.networks;
  if (!loaded && state.hasNetworks) {
    networks = state.networks
      .filter((n) => n.Labels?.["com.docker.compose.project"] === name)
      .map((n) => ({ key: n.Name, name: n.Name, id: n.Id }));
  }
  for (const n of networks) {
    ctx.progress("Network", n.name, "Removing");
    try {
      await e.networkRemove(n.id ?? n.name);
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
    ctx.progress("Network", n.name, "Removed");
  }
  for (const v of plan.volumes) {
    ctx.progress("Volume", v.name, "Removing");
    try {
      await e.volumeRemove(v.name);
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
    ctx.progress("Volume", v.name, "Removed");
  }
  for (const img of plan.images) {
    ctx.progress("Image", img, "Removing");
    try {
      await e.client.imageRemove(img);
      ctx.progress("Image", img, "Removed");
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
  }
  return 0;
}
