/** `compose pull`, `compose push` and `compose build`. */
import { bool, flag, list, parseFlags } from "./args.ts";
import { buildService } from "./build.ts";
import type { ComposeContext } from "./context.ts";

/** Runs `pull`: the services' images (those with `image:`), in parallel. */
export async function pullCommand(ctx: ComposeContext, argv: string[]): Promise<number> {
  const f = parseFlags(argv, [
    flag.bool("quiet", "Pull without printing progress information", { short: "q" }),
    flag.bool("ignore-pull-failures", "Pull what it can and ignores images with pull failures"),
    flag.bool("ignore-buildable", "Ignore images that can be built"),
    flag.bool("include-deps", "Also pull services declared as dependencies"),
  ]);
  const project = await ctx.project({ services: f.args });
  const names = f.args.length > 0 ? f.args : Object.keys(project.services);
  let failed = 0;
  await Promise.all(
    names.map(async (n) => {
      const svc = project.services[n];
      if (!svc) throw new Error(`no such service: ${n}`);
      if (!svc.image || (svc.build && bool(f, "ignore-buildable")) || svc.pull_policy === "build") return;
      if (!bool(f, "quiet")) ctx.progress("Image", svc.image, "Pulling");
      try {
        await ctx.engine().pull(svc.image);
        if (!bool(f, "quiet")) ctx.progress("Image", svc.image, "Pulled");
      } catch (err) {
        if (svc.build) {
          ctx.warn(`${n}: pull failed, the image can be built: ${(err as Error).message}`);
          return;
        }
        failed++;
        ctx.io.err.write(`${n} Error ${(err as Error).message}\n`);
      }
    }),
  );
  return failed > 0 && !bool(f, "ignore-pull-failures") ? 1 : 0;
}

/** Runs `push`: the images of services that name one. */
export async function pushCommand(ctx: ComposeContext, argv: string[]): Promise<number> {
  const f = parseFlags(argv, [
    flag.bool("quiet", "Push without printing progress information", { short: "q" }),
    flag.bool("ignore-push-failures", "Push what it can and ignores images with push failures"),
  ]);
  const project = await ctx.project({ services: f.args });
  const names = f.args.length > 0 ? f.args : Object.keys(project.services);
  for (const n of names) {
    const svc = project.services[n];
    if (!svc?.image) continue;
    if (!bool(f, "quiet")) ctx.progress("Image", svc.image, "Pushing");
    try {
      await ctx.engine().push(svc.image);
      if (!bool(f, "quiet")) ctx.progress("Image", svc.image, "Pushed");
    } catch (err) {
      if (!bool(f, "ignore-push-failures")) throw err;
      ctx.warn(`${n}: ${(err as Error).message}`);
    }
  }
  return 0;
}

/** Runs `build`: every service with a build section (or those named). */
export async function buildCommand(ctx: ComposeContext, argv: string[]): Promise<number> {
  const f = parseFlags(argv, [
    flag.bool("no-cache", "Do not use cache when building the image"),
    flag.bool("pull", "Always attempt to pull a newer version of the image"),
    flag.bool("quiet", "Don't print anything to STDOUT", { short: "q" }),
    flag.list("build-arg", "Set build-time variables for services"),
  ]);
  const buildArgs: Record<string, string> = {};
  for (const a of list(f, "build-arg")) {
    const i = a.indexOf("=");
    // KEY alone takes its value from the environment, as docker compose does.
    const v = i < 0 ? ctx.env[a] : a.slice(i + 1);
    if (v !== undefined) buildArgs[i < 0 ? a : a.slice(0, i)] = v;
  }
  const project = await ctx.project({ services: f.args });
  const names = f.args.length > 0 ? f.args : Object.keys(project.services);
  for (const n of names) {
    const svc = project.services[n];
    if (!svc) throw new Error(`no such service: ${n}`);
    if (!svc.build) continue;
    await buildService(ctx, project, svc, {
      noCache: bool(f, "no-cache"),
      pull: bool(f, "pull"),
      quiet: bool(f, "quiet"),
      buildArgs,
    });
  }
  return 0;
}
