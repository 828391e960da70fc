/** What each Dockerfile instruction does to a stage: its config, its filesystem, the cache key, the output. */
import { posix } from "node:path";
import { InvalidParameterError } from "../errdefs/index.ts";
import type { OciRunConfig } from "../oci/index.ts";
import { parseGoDuration } from "../util/index.ts";
import { BuildCache } from "./cache.ts";
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
import type { Instruction } from "./parser.ts";
import { run } from "./run.ts";
import { expandWord } from "./shell.ts";
import { type DispatchContext, envValue, meta, type StageState, step } from "./step.ts";

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
