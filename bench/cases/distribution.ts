/**
 * Pull and push of a 60 MB image of three random-data layers over loopback, against `wharf registry serve`.
 * Pulls start from an engine that holds none of the image (removed and pruned); pushes go to a registry
 * started empty for each push, so no blob is already there.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdir, writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import { join } from "node:path";
import { type Engine, importBusybox, ROOT } from "../lib/engines.ts";
import { exec, type Figure, interleave, timeIt } from "../lib/measure.ts";
import type { Ctx } from "./ctx.ts";

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

/** A registry on a free loopback port; `stop` ends it. */
async function registry(root: string): Promise<{ addr: string; stop: () => Promise<void> }> {
  const port = await freePort();
  const addr = `127.0.0.1:${port}`;
  const p: ChildProcess = spawn(
    join(ROOT, "bin/wharf"),
    ["registry", "serve", "--addr", addr, "--root", root],
    {
      stdio: "ignore",
    },
  );
  for (let i = 0; i < 200; i++) {
    if ((await exec(["curl", "-sf", `http://${addr}/v2/`])).code === 0) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    addr,
    stop: async () => {
      if (p.exitCode !== null) return;
      const exited = new Promise((r) => p.once("exit", r));
      p.kill("SIGTERM");
      await exited;
    },
  };
}

const tls = (e: Engine) => (e.name === "podman" ? ["--tls-verify=false"] : []);

/** Pull and push figures. */
export async function distribution(ctx: Ctx): Promise<Figure[]> {
  const wharf = ctx.engines.find((e) => e.name === "wharf");
  if (!wharf) return [];
  const src = await registry(join(ctx.tmp, "reg-src"));
  const figs: Figure[] = [];
  try {
    const dir = join(ctx.tmp, "distctx");
    await mkdir(dir, { recursive: true });
    await writeFile(
      join(dir, "Dockerfile"),
      "FROM busybox\nRUN head -c 20971520 /dev/urandom > /a\nRUN head -c 20971520 /dev/urandom > /b\nRUN head -c 20971520 /dev/urandom > /c\n",
    );
    const image = `${src.addr}/bench/big:1`;
    await timeIt([...wharf.cli, "build", "-q", "-t", image, dir], wharf.env);
    await timeIt([...wharf.cli, "push", image], wharf.env);
    await timeIt([...wharf.cli, "rmi", image], wharf.env);

    const pulls = await interleave(ctx.engines, ctx.runs, async (e) => {
      await exec([...e.cli, "rmi", "-f", image], { env: e.env });
      await exec([...e.cli, "image", "prune", "-af"], { env: e.env });
      return timeIt([...e.cli, "pull", ...tls(e), image], e.env);
    });
    figs.push({
      name: "pull, 60 MB in 3 layers (+ busybox), from a local registry",
      unit: "ms",
      series: pulls.series,
      note: pulls.failures.join("; ") || undefined,
      target: "≤ 0.7 of dockerd's",
      measures:
        "wall clock of `docker pull` / `podman pull` of a 4-layer image (busybox + three 20 MiB random layers) from `wharf registry serve` on loopback, after the image was removed and pruned.",
    });

    const pushes = await interleave(ctx.engines, ctx.runs, async (e, round) => {
      const dst = await registry(join(ctx.tmp, `reg-${e.name}-${round + 1}`));
      try {
        const ref = `${dst.addr}/bench/${e.name}:${round + 1}`;
        await timeIt([...e.cli, "tag", image, ref], e.env);
        const ms = await timeIt([...e.cli, "push", ...tls(e), ref], e.env);
        await exec([...e.cli, "rmi", ref], { env: e.env });
        return ms;
      } finally {
        await dst.stop();
      }
    });
    figs.push({
      name: "push of the same image to an empty local registry",
      unit: "ms",
      series: pushes.series,
      note: pushes.failures.join("; ") || undefined,
      measures: "wall clock of `push` of that image to a registry started empty for each sample.",
    });
  } finally {
    await src.stop();
    // The pulls pruned every unused image, busybox with them: the cases after this one start from it.
    for (const e of ctx.engines) await importBusybox(e, ctx.busyboxTar).catch(() => undefined);
  }
  return figs;
}
