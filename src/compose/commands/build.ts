/** Building a service's image: its context as a tar (minus .dockerignore) to `POST /build`. */
import { randomBytes } from "node:crypto";
import { readFile } from "node:fs/promises";
import { isAbsolute, join, relative, resolve, sep } from "node:path";
import { Readable } from "node:stream";
import { parseDockerignore } from "../../util/index.ts";
import { addContext, addTarEntry, tarPack } from "../../util/tar/index.ts";
import { imageName } from "../model.ts";
import type { BuildConfig, Project, ServiceConfig } from "../types.ts";
import type { ComposeContext } from "./context.ts";

/** A Dockerfile the context does not hold (inline, or outside it): sent under a name of its own. */
interface ExtraDockerfile {
  name: string;
  content: Buffer;
}

/** The build context as the docker CLI sends it (util/tar's addContext), with an extra Dockerfile at its end. */
function contextTar(dir: string, keep: string[], extra?: ExtraDockerfile): Readable {
  const pack = tarPack();
  (async () => {
    const rules = parseDockerignore(await readFile(join(dir, ".dockerignore"), "utf8").catch(() => ""));
    await addContext(pack, dir, { rules, keep: new Set(keep) });
    if (extra) await addTarEntry(pack, { name: extra.name, mode: 0o600, uid: 0, gid: 0 }, extra.content);
    pack.finalize();
  })().catch((err: unknown) => pack.destroy(err as Error));
  return Readable.from(pack as AsyncIterable<Buffer>);
}

/** Builds a service's image and returns its ID. */
export async function buildService(
  ctx: ComposeContext,
  project: Project,
  svc: ServiceConfig,
  opts: { noCache?: boolean; pull?: boolean; quiet?: boolean; buildArgs?: Record<string, string> } = {},
): Promise<string> {
  const b = svc.build;
  if (!b) throw new Error(`service "${svc.name}" has no build section`);
  if (/^(https?:\/\/|git@|git:\/\/)/.test(b.context))
    throw new Error(`remote build contexts are not supported: ${b.context}`);
  const tag = imageName(project.name, svc);
  const { dockerfile, extra } = await dockerfileOf(b);
  ctx.progress("Image", tag, "Building");
  const body = contextTar(b.context, [dockerfile, ".dockerignore"], extra);
  const args: Record<string, string> = {};
  for (const [k, v] of Object.entries(b.args ?? {})) if (v !== null) args[k] = v;
  Object.assign(args, opts.buildArgs);
  const labels: Record<string, string> = {};
  for (const [k, v] of Object.entries(b.labels ?? {})) if (v !== null) labels[k] = v;
  const id = await ctx.engine().build(
    body,
    {
      t: tag,
      dockerfile,
      buildargs: JSON.stringify(args),
      labels: JSON.stringify(labels),
      target: b.target,
      cachefrom: b.cache_from ? JSON.stringify(b.cache_from) : undefined,
      pull: opts.pull || b.pull || undefined,
      nocache: opts.noCache || b.no_cache || undefined,
      networkmode: b.network,
      shmsize: b.shm_size,
      extrahosts: b.extra_hosts
        ? Object.entries(b.extra_hosts)
            .flatMap(([h, ip]) => (Array.isArray(ip) ? ip : [ip]).map((x) => `${h}:${x}`))
            .join(",")
        : undefined,
      rm: true,
    },
    (line) => {
      if (!opts.quiet && typeof line.stream === "string") ctx.io.err.write(line.stream);
    },
  );
  for (const t of b.tags ?? []) {
    const i = t.lastIndexOf(":");
    const [repo, tg] = i > t.lastIndexOf("/") ? [t.slice(0, i), t.slice(i + 1)] : [t, "latest"];
    await ctx.engine().client.imageTag(tag, { repo, tag: tg });
  }
  ctx.progress("Image", tag, "Built");
  const resolved = id ?? (await ctx.engine().imageId(tag));
  if (!resolved) throw new Error(`building ${svc.name}: no image ID in the build output`);
  return resolved;
}

/**
 * The `dockerfile` parameter for a build, a path inside the context as the daemon requires: an inline
 * Dockerfile, or one outside the context, travels in the tar under a name no context file is likely to use.
 */
async function dockerfileOf(b: BuildConfig): Promise<{ dockerfile: string; extra?: ExtraDockerfile }> {
  const name = `.wharf-dockerfile-${randomBytes(6).toString("hex")}`;
  if (b.dockerfile_inline !== undefined) {
    return { dockerfile: name, extra: { name, content: Buffer.from(b.dockerfile_inline) } };
  }
  const path = resolve(b.context, b.dockerfile ?? "Dockerfile");
  const rel = relative(b.context, path);
  if (rel === ".." || rel.startsWith(`..${sep}`) || isAbsolute(rel)) {
    return { dockerfile: name, extra: { name, content: await readFile(path) } };
  }
  return { dockerfile: rel.split(sep).join("/") };
}
