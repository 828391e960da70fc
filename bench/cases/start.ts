/** Start latency: `run --rm busybox true`, and N detached containers started at once, with the memory they hold. */
import { join } from "node:path";
import { type Engine, ROOT } from "../lib/engines.ts";
import { type Figure, interleave, pidsNaming, pool, sumMiB, timeIt } from "../lib/measure.ts";
import type { Ctx } from "./ctx.ts";

/** wharf's own CLI against the wharf daemon, as a pseudo-engine of its own. */
export function wharfCli(w: Engine): Engine {
  return {
    ...w,
    name: "wharf CLI",
    cli: [join(ROOT, "bin/wharf")],
    env: { ...w.env, WHARF_HOST: `unix://${w.socket}` },
  };
}

/** `run --rm busybox true` on the default bridge and with `--network none`. */
export async function runRm(ctx: Ctx): Promise<Figure[]> {
  const figs: Figure[] = [];
  const wharf = ctx.engines.find((e) => e.name === "wharf");
  const engines = wharf ? [...ctx.engines, wharfCli(wharf)] : ctx.engines;
  for (const net of [[], ["--network", "none"]]) {
    const { series, failures } = await interleave(engines, ctx.runs, (e) =>
      timeIt([...e.cli, "run", "--rm", ...net, "busybox", "true"], e.env),
    );
    figs.push({
      name: `run --rm busybox true${net.length ? " --network none" : " (default bridge)"}`,
      unit: "ms",
      series,
      note: failures.join("; ") || undefined,
      target: "docker CLI → wharf ≤ 0.25 of dockerd; wharf CLI ≤ 0.2 of docker CLI → dockerd",
    });
  }
  return figs;
}

/** Starts `n` detached containers at once; the time until every `run -d` has returned (all running). */
async function startMany(e: Engine, n: number, tag: string): Promise<number> {
  const t0 = process.hrtime.bigint();
  const names = Array.from({ length: n }, (_, i) => `bp-${tag}-${i}`);
  await pool(names, n, async (name) => {
    await timeIt([...e.cli, "run", "-d", "--name", name, "busybox", "sleep", "100000"], e.env);
  });
  return Number(process.hrtime.bigint() - t0) / 1e6;
}

async function removeMany(e: Engine, n: number, tag: string): Promise<void> {
  const names = Array.from({ length: n }, (_, i) => `bp-${tag}-${i}`);
  for (let i = 0; i < names.length; i += 50)
    await timeIt([...e.cli, "rm", "-f", ...names.slice(i, i + 50)], e.env).catch(() => 0);
}

/**
 * `n` parallel starts, and with them the memory of the engine's own processes (daemon, containerd, shims,
 * conmons: everything whose command line names the engine's temp dir) while the `n` containers run.
 */
export async function parallel(ctx: Ctx, n: number): Promise<Figure[]> {
  const pss = new Map<string, number[]>();
  const rss = new Map<string, number[]>();
  const { series, failures } = await interleave(ctx.engines, ctx.parallelRuns, async (e, round) => {
    const tag = `${n}-${round + 1}`;
    try {
      const ms = await startMany(e, n, tag);
      const total = await sumMiB(await pidsNaming(e.dir), "Pss");
      if (round >= 0) pss.set(e.name, [...(pss.get(e.name) ?? []), total]);
      const daemons = ctx.daemonPids.get(e.name) ?? [];
      if (e.daemonPid && daemons.length)
        rss.set(e.name, [...(rss.get(e.name) ?? []), await sumMiB(daemons, "Rss")]);
      return ms;
    } finally {
      await removeMany(e, n, tag);
    }
  });
  const perContainer = [...pss].map(([engine, xs]) => {
    const idle = ctx.idlePss.get(engine) ?? 0;
    return { engine, samples: xs.map((x) => (x - idle) / n) };
  });
  return [
    {
      name: `${n} parallel run -d, until all run`,
      unit: "ms",
      series,
      note: failures.join("; ") || undefined,
      target: "≤ 0.3 of dockerd's and of podman's",
    },
    {
      name: `PSS of the engine's processes with ${n} running`,
      unit: "MiB",
      series: [...pss].map(([engine, samples]) => ({ engine, samples })),
    },
    {
      name: `daemon RSS with ${n} running (daemon, + containerd; no shims or conmons)`,
      unit: "MiB",
      series: [...rss].map(([engine, samples]) => ({ engine, samples })),
    },
    {
      name: `PSS per running container (${n} running, idle engine subtracted)`,
      unit: "MiB",
      series: perContainer,
      target: "≤ 1 MiB",
    },
  ];
}
