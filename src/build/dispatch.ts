/** What each Dockerfile instruction does to a stage: its config, its filesystem, the cache key, the output. */
import { join, posix } from "node:path";
import { InvalidParameterError } from "../errdefs/index.ts";
import type { LayerRef } from "../image/index.ts";
import type { OciImageConfig, OciRunConfig } from "../oci/index.ts";
import { parseGoDuration } from "../util/index.ts";
import type { Builder } from "./builder.ts";
import { BuildCache } from "./cache.ts";
import type { CacheFrom } from "./cachefrom.ts";
import type { BuildContext } from "./context.ts";
import { BuildError, splitArg } from "./errors.ts";
import {
  checksumSources,
  copySources,
  extractArchive,
  findSources,
  isArchive,
  mkdirInRoot,
  parseChmod,
  parseChown,
  type Source,
  writeHeredocFile,
} from "./fsops.ts";
import { mountSources, prepareMounts, type RunMounts } from "./mounts.ts";
import type { Instruction } from "./parser.ts";
import { expandWord } from "./shell.ts";
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

const NOP = "/bin/sh -c #(nop) ";

/** Runs one instruction. */
export async function dispatch(ins: Instruction, st: StageState, c: DispatchContext): Promise<void> {
  st.config.config ??= {};
  const rc = st.config.config;
  const lookup = (n: string): string | undefined => envValue(rc.Env, n) ?? st.args.get(n);
  const x = (w: string) => expandWord(w, lookup, c.escape);
  switch (ins.cmd) {
    case "run":
      return run(ins, st, c);
    case "copy":
    case "add":
      return copy(ins, st, c, x);
    case "workdir": {
      const dir = posix.resolve(rc.WorkingDir || "/", x(ins.args[0]));
      return step(
        st,
        c,
        `WORKDIR ${dir}`,
        {
          apply: () => {
            rc.WorkingDir = dir;
          },
          fs: () =>
            c.builder.withScratchRootfs(st, async (root) => {
              await mkdirInRoot(root, dir);
            }),
        },
        { container: true },
      );
    }
    case "arg": {
      const parts: string[] = [];
      for (const w of ins.args) {
        const [name, def] = splitArg(w, lookup, c.escape);
        const given = c.opts.buildArgs[name];
        if (given !== undefined && given !== null) c.consumed.add(name);
        const inherited = def === undefined ? st.globalArgs.get(name) : def;
        st.args.set(name, given ?? inherited);
        parts.push(def === undefined ? name : `${name}=${def}`);
      }
      return meta(st, c, `ARG ${parts.join(" ")}`, () => {});
    }
    case "env": {
      const pairs: [string, string][] = [];
      for (let i = 0; i < ins.args.length; i += 2) pairs.push([x(ins.args[i]), x(ins.args[i + 1])]);
      return meta(st, c, `ENV ${pairs.map(([k, v]) => `${k}=${v}`).join(" ")}`, () => {
        for (const [k, v] of pairs) rc.Env = setEnv(rc.Env ?? [], k, v);
      });
    }
    case "label": {
      const pairs: [string, string][] = [];
      for (let i = 0; i < ins.args.length; i += 2) pairs.push([x(ins.args[i]), x(ins.args[i + 1])]);
      return meta(st, c, `LABEL ${pairs.map(([k, v]) => `${k}=${v}`).join(" ")}`, () => {
        rc.Labels = { ...(rc.Labels ?? {}) };
        for (const [k, v] of pairs) rc.Labels[k] = v;
      });
    }
    case "maintainer": {
      const who = x(ins.args[0]);
      return meta(st, c, `MAINTAINER ${who}`, () => {
        st.author = who;
        st.config.author = who;
      });
    }
    case "expose": {
      const ports = ins.args.flatMap((w) => exposedPorts(x(w)));
      return meta(st, c, `EXPOSE map[${ports.map((p) => `${p}:{}`).join(" ")}]`, () => {
        rc.ExposedPorts = { ...(rc.ExposedPorts ?? {}) };
        for (const p of ports) rc.ExposedPorts[p] = {};
      });
    }
    case "user": {
      const u = x(ins.args[0]);
      return meta(st, c, `USER ${u}`, () => {
        rc.User = u;
      });
    }
    case "volume": {
      const vols = ins.json ? ins.args.map(x) : ins.args.map(x);
      if (vols.some((v) => !v.trim())) throw new BuildError("VOLUME specified can not be an empty string");
      return meta(st, c, `VOLUME [${vols.join(" ")}]`, () => {
        rc.Volumes = { ...(rc.Volumes ?? {}) };
        for (const v of vols) rc.Volumes[v] = {};
      });
    }
    case "stopsignal": {
      const sig = x(ins.args[0]);
      if (!/^(SIG)?[A-Z0-9+]+$/i.test(sig)) throw new BuildError(`Invalid signal: ${sig}`);
      return meta(st, c, `STOPSIGNAL ${sig}`, () => {
        rc.StopSignal = sig;
      });
    }
    case "cmd": {
      const argv = command(ins, rc);
      st.cmdSet = true;
      return meta(st, c, `CMD ${goList(argv)}`, () => {
        rc.Cmd = argv;
      });
    }
    case "entrypoint": {
      const argv = command(ins, rc);
      return meta(st, c, `ENTRYPOINT ${goList(argv)}`, () => {
        rc.Entrypoint = argv.length ? argv : null;
        // A new ENTRYPOINT drops an inherited CMD (one set in this stage stays).
        if (!st.cmdSet) rc.Cmd = null;
      });
    }
    case "shell":
      return meta(st, c, `SHELL ${goList(ins.args)}`, () => {
        rc.Shell = ins.args;
      });
    case "healthcheck": {
      const hc = healthcheck(ins, rc);
      return meta(st, c, `HEALTHCHECK &{${goList(hc.Test ?? [])} ${JSON.stringify(ins.flags)}}`, () => {
        rc.Healthcheck = hc;
      });
    }
    case "onbuild": {
      const trigger = ins.args[0].trim();
      return meta(st, c, `ONBUILD ${trigger}`, () => {
        rc.OnBuild = [...(rc.OnBuild ?? []), trigger];
      });
    }
    default:
      throw new InvalidParameterError(`unknown instruction: ${ins.cmd.toUpperCase()}`);
  }
}

/**
 * A step whose result may come from the cache: `apply` changes the config (before the cache-from probe, which
 * restores images with the step's config), `fs` makes the step's layer when no cache has it.
 */
async function step(
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

type StepLayer = { ref: LayerRef; release(): Promise<void> };

function meta(st: StageState, c: DispatchContext, comment: string, apply: () => void): Promise<void> {
  return step(st, c, comment, { apply }, { container: true });
}

async function tryCache(st: StageState, c: DispatchContext, key: string): Promise<boolean> {
  if (c.opts.noCache) return false;
  const hit = c.builder.cache.get(key);
  if (!hit || (c.localCacheAllowed && !c.localCacheAllowed.has(hit))) return false;
  if (!(await c.builder.useCached(st, hit))) return false;
  c.say(` ---> Using cache\n ---> ${hit.slice(7, 19)}\n`);
  return true;
}

/** `--cache-from`: asked only after the local cache missed, as Docker's image cache does. */
async function tryCacheFrom(
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

async function run(ins: Instruction, st: StageState, c: DispatchContext): Promise<void> {
  const rc = st.config.config ?? {};
  const shell = rc.Shell?.length ? rc.Shell : ["/bin/sh", "-c"];
  let argv: string[];
  if (ins.json) argv = ins.args;
  else if (ins.heredocs.length === 1 && /^<<-?["']?[A-Za-z_][A-Za-z0-9_.-]*["']?$/.test(ins.args[0].trim()))
    argv = [...shell, ins.heredocs[0].content];
  else {
    const script = [ins.args[0], ...ins.heredocs.map((h) => `${h.content}${h.name}`)].join("\n");
    argv = [...shell, script];
  }
  const envKeys = new Set((rc.Env ?? []).map((e) => e.split("=", 1)[0]));
  const argEnv = [...st.args.entries()]
    .filter(([k, v]) => v !== undefined && !envKeys.has(k))
    .map(([k, v]) => `${k}=${v}`)
    .sort();
  const createdBy = `${argEnv.length ? `|${argEnv.length} ${argEnv.join(" ")} ` : ""}${argv.join(" ")}`;
  const parent = await c.builder.ensureImage(st);
  const specs = ins.flagList?.mount ?? [];
  // A step that reads another stage or image is redone when that image changes.
  const fromIds = new Map<string, string>();
  for (const from of mountSources(specs)) fromIds.set(from, await c.stageImage(from));
  // The mounts are part of the step, as in BuildKit's op digest: `RUN --mount=type=ssh,required=true true`
  // is not the cached `RUN true`.
  const key = BuildCache.key(
    parent,
    createdBy,
    [...fromIds.values(), ...(specs.length ? [JSON.stringify(specs)] : [])].join(","),
  );
  if (await tryCache(st, c, key)) return;
  if (await tryCacheFrom(st, c, { createdBy, key })) return;
  const o = c.opts;
  const mounts = await prepareMounts(specs, {
    dir: c.builder.o.dir,
    work: join(c.builder.o.dir, "work"),
    context: c.context,
    secret: o.secret,
    sshAgent: o.sshAgent,
    workdir: rc.WorkingDir || "/",
    imageRootfs: async (from) => c.builder.mountImageRootfs(fromIds.get(from) ?? (await c.stageImage(from))),
  });
  try {
    await runContainer(st, c, { parent, argv, argEnv, createdBy, key, mounts, network: ins.flags.network });
  } finally {
    await mounts.cleanup();
  }
}

async function runContainer(
  st: StageState,
  c: DispatchContext,
  r: {
    parent: string;
    argv: string[];
    argEnv: string[];
    createdBy: string;
    key: string;
    mounts: RunMounts;
    network?: string;
  },
): Promise<void> {
  const { parent, argv, argEnv, createdBy, key, mounts } = r;
  const rc = st.config.config ?? {};
  const containers = c.builder.o.containers;
  const o = c.opts;
  const net = r.network && r.network !== "default" ? r.network : o.networkMode;
  const { Id: cid } = await containers.create(
    {
      Image: parent,
      Cmd: argv,
      Entrypoint: [""],
      // The mounts' variables (SSH_AUTH_SOCK) only where the Dockerfile did not set them, as BuildKit's.
      Env: [
        ...(rc.Env ?? []),
        ...argEnv,
        ...mounts.env.filter(
          (e) => envValue([...(rc.Env ?? []), ...argEnv], e.split("=", 1)[0]) === undefined,
        ),
      ],
      WorkingDir: rc.WorkingDir || "",
      User: rc.User || "",
      AttachStdout: true,
      AttachStderr: true,
      HostConfig: {
        NetworkMode: !net || net === "default" ? "bridge" : net,
        Binds: mounts.binds.length ? mounts.binds : undefined,
        Tmpfs: Object.keys(mounts.tmpfs).length ? mounts.tmpfs : undefined,
        ExtraHosts: o.extraHosts.length ? o.extraHosts : undefined,
        ShmSize: o.shmSize || undefined,
        Memory: o.memory || undefined,
        MemorySwap: o.memorySwap || undefined,
        CpuQuota: o.cpuQuota || undefined,
        CpuPeriod: o.cpuPeriod || undefined,
        CpuShares: o.cpuShares || undefined,
        CpusetCpus: o.cpusetCpus || undefined,
      },
    },
    {},
  );
  c.say(` ---> Running in ${cid.slice(0, 12)}\n`);
  let ok = false;
  try {
    const attach = containers.attach(cid);
    const exit = containers.wait(cid, { condition: "next-exit" }).ready;
    // A kill while the container is still starting fails: the kill then waits for the start to finish.
    let starting: Promise<unknown> = Promise.resolve();
    const onAbort = () =>
      void starting
        .catch(() => undefined)
        .then(() => containers.kill(cid, "SIGKILL"))
        .catch(() => undefined);
    c.out.signal.addEventListener("abort", onAbort);
    try {
      const started = containers.start(cid);
      starting = started;
      const stdio = await Promise.race([attach.stdio, started.then(() => attach.stdio)]);
      await started;
      // Cancelled before the start was asked for: nothing killed it yet.
      if (c.out.signal.aborted) onAbort();
      const pump = async (s: AsyncIterable<Buffer | string>, say: (s: string) => void) => {
        for await (const chunk of s) say(chunk.toString());
      };
      const [code] = await Promise.all([
        exit.then((r) => r.StatusCode),
        pump(stdio.stdout, c.say),
        pump(stdio.stderr, c.sayErr),
      ]);
      stdio.close();
      if (c.out.signal.aborted) throw new BuildError("build cancelled");
      if (code !== 0)
        throw new BuildError(`The command '${argv.join(" ")}' returned a non-zero code: ${code}`, code);
    } finally {
      c.out.signal.removeEventListener("abort", onAbort);
    }
    const layer = await c.builder.layerFromUpper(st, containers.upperDir(cid), {
      mountPoints: mounts.targets,
    });
    const id = await c.builder.commitStep(st, { createdBy, layer, cacheKey: key });
    ok = true;
    if (o.rm || o.forceRm) {
      await containers.remove(cid, { force: true });
      c.say(` ---> Removed intermediate container ${cid.slice(0, 12)}\n`);
    }
    c.say(` ---> ${id.slice(7, 19)}\n`);
  } finally {
    if (!ok && (o.forceRm || c.out.signal.aborted))
      await containers.remove(cid, { force: true }).catch(() => undefined);
  }
}

async function copy(
  ins: Instruction,
  st: StageState,
  c: DispatchContext,
  x: (w: string) => string,
): Promise<void> {
  const what = ins.cmd.toUpperCase();
  const rc = st.config.config ?? {};
  const words = ins.args.map(x);
  let dest = words[words.length - 1];
  const srcs = words.slice(0, -1);
  if (!dest.startsWith("/"))
    dest = `${posix.join(rc.WorkingDir || "/", dest)}${dest.endsWith("/") || dest === "." ? "/" : ""}`;
  const heredocs = new Map(ins.heredocs.map((h) => [h.name, h]));
  const docSrcs = srcs.filter((s) => /^<<-?/.test(s));
  const fileSrcs = srcs.filter((s) => !/^<<-?/.test(s));
  if (what === "ADD" && fileSrcs.some((s) => /^[a-z]+:\/\//i.test(s)))
    throw new BuildError(
      "ADD from a URL or git repository is not supported by this engine; download it in a RUN step",
    );
  const chown = ins.flags.chown ? x(ins.flags.chown) : undefined;
  const chmod = ins.flags.chmod ? parseChmod(x(ins.flags.chmod)) : undefined;
  const from = ins.flags.from ? x(ins.flags.from) : undefined;
  const withRoot = async <T>(
    fn: (root: string, sources: Source[], sum: string) => Promise<T>,
  ): Promise<T> => {
    if (from)
      return c.builder.withImageRootfs(await c.stageImage(from), async (root) => {
        const sources = await findSources(root, fileSrcs, what);
        return fn(root, sources, await checksumSources(sources));
      });
    // The context's index answers without unpacking; a path through a symlink needs the files.
    const ctx = c.context;
    const indexed = ctx.findSources(fileSrcs, what);
    if (indexed) return fn(ctx.dir, indexed, ctx.checksum(indexed));
    await ctx.materialize();
    const sources = await findSources(ctx.dir, fileSrcs, what);
    return fn(ctx.dir, sources, await checksumSources(sources));
  };
  await withRoot(async (_root, sources, sum) => {
    const docs = docSrcs.map((s) => {
      const name = s.replace(/^<<-?["']?/, "").replace(/["']$/, "");
      const h = heredocs.get(name);
      if (!h) throw new BuildError(`${what} failed: no heredoc named ${name}`);
      return {
        name,
        content: h.expand
          ? h.content.replace(/\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?/g, (_m, n: string) => x(`\${${n}}`))
          : h.content,
      };
    });
    const kind = sources.length + docs.length > 1 ? "multi" : sources[0]?.isDir ? "dir" : "file";
    const docSum = docs.length ? BuildCache.key("", JSON.stringify(docs)) : "";
    const comment = `${what} ${kind}:${docSum ? BuildCache.key(sum, docSum) : sum} in ${dest} `;
    await step(
      st,
      c,
      comment,
      {
        fs: async () => {
          if (!from) await c.context.materialize();
          return c.builder.withScratchRootfs(st, async (rootfs) => {
            const owner: { uid?: number; gid?: number } = chown ? await parseChown(rootfs, chown) : {};
            // Under --userns-remap an owner the namespace cannot hold is dockerd's error, not a host id.
            c.builder.o.idMap?.toHost({ uid: owner.uid ?? 0, gid: owner.gid ?? 0 });
            const total = sources.length + docs.length;
            if (total > 1 && !dest.endsWith("/"))
              throw new BuildError(
                `When using ${what} with more than one source file, the destination must be a directory and end with a /`,
              );
            for (const d of docs) {
              const target = total > 1 || dest.endsWith("/") ? posix.join(dest, d.name) : dest;
              await writeHeredocFile(rootfs, target, d.content, { ...owner, mode: chmod });
            }
            const plain = [];
            for (const s of sources) {
              if (what === "ADD" && !s.isDir && !from && (await isArchive(s.abs)))
                await extractArchive(rootfs, s.abs, dest);
              else plain.push(s);
            }
            if (plain.length)
              await copySources(rootfs, plain, total > 1 && !dest.endsWith("/") ? `${dest}/` : dest, {
                ...owner,
                mode: chmod,
                preserveOwner: !!from,
                what,
              });
          });
        },
      },
      { key: JSON.stringify([chown, chmod, from]) },
    );
  });
}

function command(ins: Instruction, rc: OciRunConfig): string[] {
  if (ins.json) return ins.args;
  if (!ins.args.length) return [];
  return [...(rc.Shell?.length ? rc.Shell : ["/bin/sh", "-c"]), ins.args[0]];
}

function healthcheck(ins: Instruction, rc: OciRunConfig): NonNullable<OciRunConfig["Healthcheck"]> {
  if (ins.args[0].toUpperCase() === "NONE") return { Test: ["NONE"] };
  const text = ins.args[1];
  let test: string[];
  try {
    const v: unknown = JSON.parse(text);
    test = Array.isArray(v) && v.every((s) => typeof s === "string") ? ["CMD", ...v] : ["CMD-SHELL", text];
  } catch {
    test = ["CMD-SHELL", text];
  }
  void rc;
  const hc: NonNullable<OciRunConfig["Healthcheck"]> = { Test: test };
  const dur = (flag: string, field: "Interval" | "Timeout" | "StartPeriod" | "StartInterval") => {
    const v = ins.flags[flag];
    if (v === undefined) return;
    const ns = parseDuration(v);
    if (ns !== 0 && ns < 1_000_000) throw new BuildError(`Interval "${flag}" cannot be less than 1ms`);
    if (ns) hc[field] = ns;
  };
  dur("interval", "Interval");
  dur("timeout", "Timeout");
  dur("start-period", "StartPeriod");
  dur("start-interval", "StartInterval");
  if (ins.flags.retries !== undefined) {
    const n = Number(ins.flags.retries);
    if (!Number.isInteger(n) || n < 0)
      throw new BuildError(`--retries cannot be negative (${ins.flags.retries})`);
    if (n) hc.Retries = n;
  }
  return hc;
}

/** Go's time.ParseDuration, in nanoseconds, as a build error. */
export function parseDuration(s: string): number {
  try {
    return parseGoDuration(s);
  } catch (e) {
    throw new BuildError((e as Error).message);
  }
}

/** EXPOSE's `80`, `80/udp`, `8000-8002/tcp` as the ExposedPorts keys. */
function exposedPorts(w: string): string[] {
  const m = /^(\d+)(?:-(\d+))?(?:\/(tcp|udp|sctp))?$/i.exec(w);
  if (!m) throw new BuildError(`Invalid containerPort: ${w}`);
  const lo = Number(m[1]);
  const hi = m[2] ? Number(m[2]) : lo;
  if (lo > 65535 || hi > 65535 || hi < lo) throw new BuildError(`Invalid containerPort: ${w}`);
  const proto = (m[3] ?? "tcp").toLowerCase();
  const out: string[] = [];
  for (let p = lo; p <= hi; p++) out.push(`${p}/${proto}`);
  return out;
}

/** Go's %v of a string slice, as the classic builder writes CMD/ENTRYPOINT/SHELL in history. */
function goList(a: string[]): string {
  return `[${a.map((s) => JSON.stringify(s)).join(" ")}]`;
}

function envValue(env: string[] | null | undefined, name: string): string | undefined {
  for (const e of env ?? []) if (e.startsWith(`${name}=`)) return e.slice(name.length + 1);
  return undefined;
}

function setEnv(env: string[], k: string, v: string): string[] {
  const out = env.filter((e) => !e.startsWith(`${k}=`) && e !== k);
  const i = env.findIndex((e) => e.startsWith(`${k}=`));
  if (i >= 0) {
    const copy = [...env];
    copy[i] = `${k}=${v}`;
    return copy;
  }
  out.push(`${k}=${v}`);
  return out;
}
