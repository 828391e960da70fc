/** RUN: its command line and cache key, its mounts, and the container that runs it, whose upper dir is the step. */
import { join } from "node:path";
import { BuildCache } from "./cache.ts";
import { BuildError } from "./errors.ts";
import { mountSources, prepareMounts, type RunMounts } from "./mounts.ts";
import type { Instruction } from "./parser.ts";
import { type DispatchContext, envValue, type StageState, tryCache, tryCacheFrom } from "./step.ts";

/** Runs a RUN instruction as a step (cached, or in a container whose upper dir becomes the layer). */
export async function run(ins: Instruction, st: StageState, c: DispatchContext): Promise<void> {
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
