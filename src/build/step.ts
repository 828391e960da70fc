/**
 * One step of a stage: the state it changes, the cache probes (local, then `--cache-from`), the intermediate
 * container of a metadata step, and the commit. dispatch.ts decides what each instruction does; this runs it
 * as a step.
 */
import type { LayerRef } from "../image/index.ts";
import type { OciImageConfig } from "../oci/index.ts";
import type { Builder } from "./builder.ts";
import { BuildCache } from "./cache.ts";
import type { CacheFrom } from "./cachefrom.ts";
import type { BuildContext } from "./context.ts";
import type { StepLayer } from "./rootfs.ts";
import type { BuildOptions, BuildOutput } from "./types.ts";

/** The state of the stage being built. */
export interface StageState {
  imageId?: string;
  config: OciImageConfig;
  layers: LayerRef[];
  /** ARGs declared in this stage, with their values (undefined: declared without one). */
  args: Map<string, string | undefined>;
  globalArgs: Map<string, string | undefined>;
  /** CMD was set in this stage (ENTRYPOINT then keeps it). */
  cmdSet: boolean;
  /** The config changed without an image being committed (FROM scratch). */
  dirty: boolean;
  author?: string;
}

/** What dispatch needs from the build in progress. */
export interface DispatchContext {
  builder: Builder;
  opts: BuildOptions;
  out: BuildOutput;
  say(s: string): void;
  /** A RUN step's stderr. */
  sayErr(s: string): void;
  consumed: Set<string>;
  context: BuildContext;
  stageImage(ref: string): Promise<string>;
  escape: string;
  /** The build's `--cache-from` images, when it has any. */
  cacheFrom?: CacheFrom;
  /**
   * With `--cache-from` given, the only local images a step may reuse: the ancestors of those images (dockerd's
   * ImageCache takes a local hit only when it is a parent of a cache-from image; none when none resolved).
   */
  localCacheAllowed?: Set<string>;
}

export const NOP = "/bin/sh -c #(nop) ";

/**
 * A step whose result may come from the cache: `apply` changes the config (before the cache-from probe, which
 * restores images with the step's config), `fs` makes the step's layer when no cache has it.
 */
export async function step(
  st: StageState,
  c: DispatchContext,
  comment: string,
  work: { apply?: () => void; fs?: () => Promise<StepLayer | undefined> },
  opts: { createdBy?: string; key?: string; container?: boolean } = {},
): Promise<void> {
  const createdBy = opts.createdBy ?? `${NOP} ${comment}`;
  const parent = st.imageId ?? `scratch:${JSON.stringify(st.config.config)}`;
  const key = BuildCache.key(parent, createdBy, opts.key);
  if (await tryCache(st, c, key)) return;
  const parentImage = st.imageId;
  work.apply?.();
  if (await tryCacheFrom(st, c, { createdBy, key })) return;
  // Docker commits a metadata step (and WORKDIR) from a created, never started container; COPY/ADD have none.
  const cid =
    opts.container && parentImage ? await stepContainer(st, c, { parentImage, createdBy }) : undefined;
  let ok = false;
  try {
    const layer = await work.fs?.();
    const id = await c.builder.commitStep(st, { createdBy, layer, cacheKey: key });
    ok = true;
    if (cid && (c.opts.rm || c.opts.forceRm)) {
      await c.builder.o.containers.remove(cid, { force: true });
      c.say(` ---> Removed intermediate container ${cid.slice(0, 12)}\n`);
    }
    c.say(` ---> ${id.slice(7, 19)}\n`);
  } finally {
    if (cid && !ok && (c.opts.forceRm || c.out.signal.aborted))
      await c.builder.o.containers.remove(cid, { force: true }).catch(() => undefined);
  }
}

/** The intermediate container of a metadata step: created with the step as its command, then committed. */
async function stepContainer(
  st: StageState,
  c: DispatchContext,
  s: { parentImage: string; createdBy: string },
): Promise<string> {
  const rc = st.config.config ?? {};
  const { Id } = await c.builder.o.containers.create(
    {
      Image: s.parentImage,
      Cmd: ["/bin/sh", "-c", s.createdBy.replace(/^\/bin\/sh -c /, "")],
      Entrypoint: [""],
      Env: rc.Env ?? [],
      WorkingDir: rc.WorkingDir || "",
      User: rc.User || "",
      HostConfig: { NetworkMode: "none" },
    },
    {},
  );
  c.say(` ---> Running in ${Id.slice(0, 12)}\n`);
  return Id;
}

/** A step that only changes the config, committed from a created container as Docker does. */
export function meta(st: StageState, c: DispatchContext, comment: string, apply: () => void): Promise<void> {
  return step(st, c, comment, { apply }, { container: true });
}

/** The local build cache: a hit the build may use becomes the stage's image. */
export async function tryCache(st: StageState, c: DispatchContext, key: string): Promise<boolean> {
  if (c.opts.noCache) return false;
  const hit = c.builder.cache.get(key);
  if (!hit || (c.localCacheAllowed && !c.localCacheAllowed.has(hit))) return false;
  if (!(await c.builder.useCached(st, hit))) return false;
  c.say(` ---> Using cache\n ---> ${hit.slice(7, 19)}\n`);
  return true;
}

/** `--cache-from`: asked only after the local cache missed, as Docker's image cache does. */
export async function tryCacheFrom(
  st: StageState,
  c: DispatchContext,
  s: { createdBy: string; key: string },
): Promise<boolean> {
  if (c.opts.noCache || !c.cacheFrom?.active) return false;
  const hit = c.cacheFrom.probe(st, s.createdBy);
  if (!hit) return false;
  const id = await c.builder.useCacheFrom(st, hit);
  c.builder.cache.set(s.key, id);
  c.say(` ---> Using cache\n ---> ${id.slice(7, 19)}\n`);
  return true;
}

/** The value of `name` in a KEY=VALUE list. */
export function envValue(env: string[] | null | undefined, name: string): string | undefined {
  for (const e of env ?? []) if (e.startsWith(`${name}=`)) return e.slice(name.length + 1);
  return undefined;
}
