/**
 * The classic builder: stages, steps, the cache, and Docker's output. Instruction semantics are in
 * dispatch.ts; this file runs them in order and commits each step as an image.
 */
import { randomBytes } from "node:crypto";
import { mkdir, rm } from "node:fs/promises";
import { join } from "node:path";
import type { Readable } from "node:stream";
import { isNotFound } from "../errdefs/index.ts";
import type { LayerRef } from "../image/index.ts";
import type { OciHistory } from "../oci/index.ts";
import { type IdMap, log, nowNs, rfc3339Nano } from "../util/index.ts";
import { BuildCache } from "./cache.ts";
import { CacheFrom, type CacheFromHit, type CacheSource } from "./cachefrom.ts";
import { type BuildContext, unpackContext } from "./context.ts";
import { dispatch } from "./dispatch.ts";
import { BuildError, splitArg } from "./errors.ts";
import { type Instruction, parseDockerfile } from "./parser.ts";
import { checkPlatform, platformArgs } from "./platform.ts";
import { layerFromUpper, mountImageRootfs, type StepLayer, withScratchRootfs } from "./rootfs.ts";
import { expandWord } from "./shell.ts";
import {
  DEFAULT_PATH,
  emptyConfig,
  neededStages,
  newState,
  PREDEFINED_ARGS,
  pickTarget,
  type Stage,
  splitStages,
  triggerInstruction,
} from "./stages.ts";
import type { StageState } from "./step.ts";
import type {
  BuildContainerBackend,
  BuildImageBackend,
  BuildOptions,
  BuildOutput,
  StepName,
} from "./types.ts";

/** The builder's collaborators. */
export interface BuilderOptions {
  images: BuildImageBackend;
  containers: BuildContainerBackend;
  /** `<dataRoot>/build`: the cache file and scratch mounts. */
  dir: string;
  tmpDir: string;
  /** `--userns-remap`: files the build writes get host ids, layer tars the container's. */
  idMap?: IdMap;
}

export { BuildError } from "./errors.ts";

/** Builds images from Dockerfiles (`POST /build`). */
export class Builder {
  readonly o: BuilderOptions;
  readonly cache: BuildCache;

  constructor(opts: BuilderOptions) {
    this.o = opts;
    this.cache = new BuildCache(opts.dir, opts.tmpDir);
  }

  async init(): Promise<void> {
    await mkdir(this.o.dir, { recursive: true, mode: 0o700 });
    await rm(join(this.o.dir, "work"), { recursive: true, force: true });
    await this.cache.init();
  }

  /**
   * Unpacks the context and checks the Dockerfile, tags and target: errors here come before any output, so the
   * API can answer them with a status. Returns the build to run.
   */
  async prepare(body: Readable, opts: BuildOptions): Promise<{ run(out: BuildOutput): Promise<string> }> {
    for (const t of opts.tags) this.o.images.checkRef(t);
    checkPlatform(opts.platform);
    const work = join(this.o.dir, "work", randomBytes(8).toString("hex"));
    try {
      const ctx = await unpackContext(body, join(work, "context"), {
        dockerfile: opts.dockerfile,
        dockerfileText: opts.dockerfileText,
      });
      const df = parseDockerfile(ctx.dockerfile);
      const { globals, stages } = splitStages(df.instructions);
      if (Object.keys(opts.labels).length) {
        const line = Object.entries(opts.labels)
          .map(([k, v]) => `${JSON.stringify(k)}=${JSON.stringify(v)}`)
          .join(" ");
        const last = pickTarget(stages, opts.target);
        last.body.push({ ...parseDockerfile(`FROM x\nLABEL ${line}\n`).instructions[1], line: 0 });
      }
      const target = pickTarget(stages, opts.target);
      const needed = neededStages(stages, target);
      return {
        run: async (out) => {
          try {
            return await this.run({
              opts,
              out,
              work,
              context: ctx,
              globals,
              stages,
              needed,
              target,
              escape: df.escape,
            });
          } finally {
            await this.cache.save();
            // The answer need not wait for the context's files to go (a few hundred unlinks for 50 MB);
            // init() removes what a stop left behind.
            void rm(work, { recursive: true, force: true }).catch(() => undefined);
          }
        },
      };
    } catch (e) {
      await rm(work, { recursive: true, force: true }).catch(() => undefined);
      throw e;
    }
  }

  private async run(b: {
    opts: BuildOptions;
    out: BuildOutput;
    work: string;
    context: BuildContext;
    globals: Instruction[];
    stages: Stage[];
    needed: Stage[];
    target: Stage;
    escape: string;
  }): Promise<string> {
    const { opts, out } = b;
    const say = (s: string) => {
      if (!opts.quiet) out.stream(s);
    };
    // A step's stderr: BuildKit's clients show it apart; the classic stream mixes it in as dockerd does, each
    // write in red (its streamformatter's stderr writer: ESC[91m before, ESC[0m after).
    const sayErr = (s: string) => {
      if (opts.quiet) return;
      if (out.stderr) out.stderr(s);
      else out.stream(`\x1b[91m${s}\x1b[0m`);
    };
    const total = b.needed.reduce((n, s) => n + 1 + s.body.length, 0) + b.globals.length;
    let step = 0;
    const consumed = new Set<string>();
    // ARGs before the first FROM: usable in FROM lines, and by stages that declare them again.
    const globalArgs = new Map<string, string | undefined>(
      opts.platformArgs ? platformArgs(opts.platform) : [],
    );
    for (const g of b.globals) {
      out.step?.(undefined);
      say(`Step ${++step}/${total} : ${g.original}\n`);
      for (const w of g.args) {
        const [name, def] = splitArg(w, (n) => globalArgs.get(n), b.escape);
        const given = opts.buildArgs[name];
        if (given !== undefined && given !== null) consumed.add(name);
        globalArgs.set(name, given ?? def);
      }
    }
    const results = new Map<number, string>();
    const cacheSources = opts.noCache ? [] : await this.cacheSources(opts.cacheFrom);
    const localCacheAllowed = opts.cacheFrom.length
      ? this.ancestors(cacheSources.map((s) => s.id))
      : undefined;
    let finalId = "";
    for (const stage of b.needed) {
      const lookupGlobal = (n: string) => globalArgs.get(n);
      const fromName = expandWord(stage.from.args[0], lookupGlobal, b.escape);
      // wharf runs only the host's architecture: FROM --platform=<another> fails here, not at its first RUN.
      const fromPlatform = stage.from.flags.platform;
      if (fromPlatform) checkPlatform(expandWord(fromPlatform, lookupGlobal, b.escape));
      const naming = stepNaming(stage, { fromName, stages: b.stages });
      out.step?.(naming.from());
      say(`Step ${++step}/${total} : ${stage.from.original}\n`);
      const state = await this.initStage(fromName, { stages: b.stages, results, opts, say, stage });
      state.globalArgs = globalArgs;
      state.config.config ??= {};
      const runConfig = state.config.config;
      // Each stage searches all the cache-from images again: a stage starts a new history.
      const cacheFrom = cacheSources.length ? new CacheFrom(cacheSources) : undefined;
      const triggers = (runConfig.OnBuild ?? []).map((t) => triggerInstruction(t));
      if (triggers.length) {
        say(`# Executing ${triggers.length} build trigger${triggers.length > 1 ? "s" : ""}\n`);
        // The child image does not inherit the triggers it ran.
        runConfig.OnBuild = null;
        state.dirty = true;
      }
      for (const ins of [...triggers, ...stage.body]) {
        if (out.signal.aborted) throw new BuildError("build cancelled");
        if (!triggers.includes(ins)) {
          out.step?.(naming.next(ins));
          say(`Step ${++step}/${total} : ${ins.original}\n`);
        }
        await dispatch(ins, state, {
          builder: this,
          opts,
          out,
          say,
          sayErr,
          consumed,
          context: b.context,
          stageImage: (ref) => this.stageImage(ref, b.stages, results),
          escape: b.escape,
          cacheFrom,
          localCacheAllowed,
        });
      }
      const id = await this.ensureImage(state);
      results.set(stage.index, id);
      finalId = id;
    }
    const unused = Object.keys(opts.buildArgs).filter((k) => !consumed.has(k) && !PREDEFINED_ARGS.has(k));
    if (unused.length)
      say(`[Warning] One or more build-args [${unused.sort().join(" ")}] were not consumed\n`);
    out.aux({ ID: finalId });
    if (opts.quiet) out.stream(`${finalId}\n`);
    say(`Successfully built ${finalId.slice(7, 19)}\n`);
    for (const t of opts.tags) {
      await this.o.images.tag(finalId, t);
      say(
        `Successfully tagged ${t.includes(":") && !/:\d+\//.test(t.split("/").pop() ?? "") ? t : `${t}:latest`}\n`,
      );
    }
    return finalId;
  }

  private async initStage(
    fromName: string,
    c: {
      stages: Stage[];
      results: Map<number, string>;
      opts: BuildOptions;
      say: (s: string) => void;
      stage: Stage;
    },
  ): Promise<StageState> {
    const byStage = c.stages.find(
      (s) => s.name && s.name === fromName.toLowerCase() && s.index < c.stage.index,
    );
    let imageId: string | undefined;
    if (byStage) imageId = c.results.get(byStage.index);
    else if (fromName !== "scratch") imageId = await this.baseImage(fromName, c.opts, c.say);
    if (fromName === "scratch" && !byStage) {
      c.say(" ---> \n");
      return newState(undefined, emptyConfig(), []);
    }
    if (!imageId) throw new BuildError(`No such image: ${fromName}`);
    const img = await this.o.images.resolve(imageId);
    c.say(` ---> ${img.id.slice(7, 19)}\n`);
    const config = structuredClone(img.image);
    config.config ??= {};
    if (!(config.config.Env ?? []).some((e) => e.startsWith("PATH=")))
      config.config.Env = [DEFAULT_PATH, ...(config.config.Env ?? [])];
    return newState(img.id, config, this.o.images.layersOf(img.id));
  }

  private async baseImage(name: string, opts: BuildOptions, say: (s: string) => void): Promise<string> {
    const pull = async () => {
      if (!this.o.images.pull) throw new BuildError(`No such image: ${name}`);
      return this.o.images.pull(
        name,
        (l) => {
          if (typeof l.status === "string") say(`${l.id ? `${l.id}: ` : ""}${l.status}\n`);
        },
        opts.registryAuth ? { auth: opts.registryAuth } : {},
      );
    };
    if (opts.pull) {
      try {
        return await pull();
      } catch (e) {
        log("info", "build: pull failed, using the local image", { image: name, err: e });
      }
    }
    try {
      return (await this.o.images.resolve(name)).id;
    } catch (e) {
      if (!isNotFound(e)) throw e;
      if (opts.pull) throw e;
      // The registry's answer says more than "No such image" (pull access denied, a refused login), as dockerd's.
      return pull().catch((pe: unknown) => {
        throw this.o.images.pull ? pe : e;
      });
    }
  }

  /** `COPY --from=<stage name|index|image>`: the image to copy from. */
  private async stageImage(ref: string, stages: Stage[], results: Map<number, string>): Promise<string> {
    const s =
      stages.find((x) => x.name === ref.toLowerCase()) ??
      (/^\d+$/.test(ref) ? stages[Number(ref)] : undefined);
    if (s) {
      const id = results.get(s.index);
      if (!id) throw new BuildError(`invalid from flag value ${ref}: stage has not been built`);
      return id;
    }
    return (await this.o.images.resolve(ref)).id;
  }

  /** The state's image, committing the current config first when the stage has none yet (FROM scratch). */
  async ensureImage(state: StageState): Promise<string> {
    if (!state.imageId || state.dirty)
      await this.commitStep(state, { createdBy: "", layer: undefined, skipHistory: true });
    return state.imageId!;
  }

  /** Commits the step's result as an image and moves the state onto it. */
  async commitStep(
    state: StageState,
    s: {
      createdBy: string;
      layer: StepLayer | undefined;
      skipHistory?: boolean;
      cacheKey?: string;
    },
  ): Promise<string> {
    const created = rfc3339Nano(nowNs());
    const config = structuredClone(state.config);
    config.created = created;
    // As dockerd's builder: the base's comment ("Imported from -") is not the new image's, its parent is recorded.
    delete config.comment;
    if (state.imageId) config.config = { ...(config.config ?? {}), Image: state.imageId };
    config.history ??= [];
    if (!s.skipHistory) {
      const h: OciHistory = { created, created_by: s.createdBy };
      if (state.author) h.author = state.author;
      if (!s.layer) h.empty_layer = true;
      config.history.push(h);
    }
    const layers = s.layer ? [...state.layers, s.layer.ref] : state.layers;
    config.rootfs = { type: "layers", diff_ids: layers.map((l) => l.diffId) };
    try {
      const id = await this.o.images.commitImage(
        config,
        layers,
        state.imageId ? { parent: state.imageId } : {},
      );
      state.imageId = id;
      state.config = config;
      state.layers = layers;
      state.dirty = false;
      if (s.cacheKey) this.cache.set(s.cacheKey, id);
      return id;
    } finally {
      await s.layer?.release();
    }
  }

  /** Moves the state onto a cached image. */
  async useCached(state: StageState, id: string): Promise<boolean> {
    try {
      const img = await this.o.images.resolve(id);
      state.imageId = img.id;
      state.config = structuredClone(img.image);
      state.config.config ??= {};
      state.layers = this.o.images.layersOf(img.id);
      state.dirty = false;
      return true;
    } catch (e) {
      if (isNotFound(e)) return false;
      throw e;
    }
  }

  /**
   * `POST /build/prune`: forgets the cache entries whose image is gone (removed, or a ghost), or every entry with
   * `all`. The images themselves are images (`docker image prune` reclaims them), so no space is freed here.
   */
  async prune(opts: { all: boolean }): Promise<{ CachesDeleted: string[]; SpaceReclaimed: number }> {
    const deleted: string[] = [];
    for (const [key, id] of this.cache.list()) {
      let gone = opts.all;
      if (!gone)
        gone = await this.o.images.resolve(id).then(
          () => false,
          (e: unknown) => {
            if (isNotFound(e)) return true;
            throw e;
          },
        );
      if (!gone) continue;
      this.cache.delete(key);
      deleted.push(key);
    }
    await this.cache.save();
    return { CachesDeleted: deleted, SpaceReclaimed: 0 };
  }

  /** Moves the state onto a `--cache-from` hit: the source image itself, or a new image restoring its step. */
  async useCacheFrom(state: StageState, hit: CacheFromHit): Promise<string> {
    if (hit.kind === "image") {
      if (!(await this.useCached(state, hit.id))) throw new BuildError(`No such image: ${hit.id}`);
      return hit.id;
    }
    const config = structuredClone(state.config);
    config.history = [...(config.history ?? []), hit.history];
    if (hit.history.created) config.created = hit.history.created;
    const layers = hit.layer ? [...state.layers, hit.layer] : state.layers;
    config.rootfs = { type: "layers", diff_ids: layers.map((l) => l.diffId) };
    const id = await this.o.images.commitImage(config, layers, hit.parent ? { parent: hit.parent } : {});
    state.imageId = id;
    state.config = config;
    state.layers = layers;
    state.dirty = false;
    return id;
  }

  /** The build's `--cache-from` images that exist here (others are skipped, as Docker does). */
  /** The parents, grandparents... of the given images (not the images themselves). */
  private ancestors(ids: string[]): Set<string> {
    const out = new Set<string>();
    for (const id of ids) {
      let p = this.o.images.parentOf(id);
      while (p && !out.has(p)) {
        out.add(p);
        try {
          p = this.o.images.parentOf(p);
        } catch (e) {
          if (!isNotFound(e)) throw e;
          break;
        }
      }
    }
    return out;
  }

  private async cacheSources(refs: string[]): Promise<CacheSource[]> {
    const sources: CacheSource[] = [];
    for (const ref of refs) {
      try {
        const img = await this.o.images.resolve(ref);
        sources.push({ id: img.id, config: img.image, layers: this.o.images.layersOf(img.id) });
      } catch (e) {
        if (!isNotFound(e)) throw e;
      }
    }
    return sources;
  }

  /** See rootfs.ts: an upper dir as a layer on top of `state`'s; undefined when nothing changed. */
  layerFromUpper(
    state: { layers: LayerRef[] },
    upper: string,
    opts: { mountPoints?: string[]; adopt?: boolean } = {},
  ): Promise<StepLayer | undefined> {
    return layerFromUpper(this.o, { state, upper, ...opts });
  }

  /** Mounts the state's rootfs with a fresh upper dir, runs `fn` on it, and returns the upper dir's layer. */
  withScratchRootfs(
    state: StageState,
    fn: (rootfs: string) => Promise<void>,
  ): Promise<StepLayer | undefined> {
    return withScratchRootfs(this.o, { state, fn });
  }

  /** Mounts an image's layers read-only (an empty upper dir, thrown away) for COPY --from. */
  async withImageRootfs<T>(imageId: string, fn: (rootfs: string) => Promise<T>): Promise<T> {
    const m = await this.mountImageRootfs(imageId);
    try {
      return await fn(m.dir);
    } finally {
      await m.release();
    }
  }

  /** The same mount, held until `release` (RUN --mount=from= keeps it for the step's container). */
  mountImageRootfs(imageId: string): Promise<{ dir: string; release(): Promise<void> }> {
    return mountImageRootfs(this.o, this.o.images.layersOf(imageId));
  }
}

/** Instructions that are steps of their own in BuildKit (the rest only change the image's config). */
const OP_INSTRUCTIONS = new Set(["run", "copy", "add", "workdir"]);

/**
 * BuildKit's numbering of a stage's steps: FROM an image and each RUN, COPY, ADD and WORKDIR count, per stage,
 * the stage named by its AS name (`stage-N` when unnamed in a multi-stage file).
 */
function stepNaming(stage: Stage, o: { fromName: string; stages: Stage[] }) {
  const fromStage = o.stages.some(
    (s) => s.name && s.name === o.fromName.toLowerCase() && s.index < stage.index,
  );
  const fromImage = o.fromName !== "scratch" && !fromStage;
  const total = stage.body.filter((i) => OP_INSTRUCTIONS.has(i.cmd)).length + (fromImage ? 1 : 0);
  const name = stage.name ?? (o.stages.length > 1 ? `stage-${stage.index}` : undefined);
  let index = 0;
  return {
    from: (): StepName | undefined =>
      fromImage ? { stage: name, index: ++index, total, instruction: "FROM", image: o.fromName } : undefined,
    next: (ins: Instruction): StepName | undefined =>
      OP_INSTRUCTIONS.has(ins.cmd)
        ? {
            stage: name,
            index: ++index,
            total,
            instruction: ins.original.replace(/^(\w+)/, (w) => w.toUpperCase()),
          }
        : undefined,
  };
}
