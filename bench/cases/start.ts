/** Start latency: `run --rm busybox true`, and N detached containers started at once, with the memory they hold. */
import { join } from "node:path";
import { type Engine, ROOT } from "../lib/engines.ts";
import {
  engineMemory,
  exec,
  type Figure,
  interleave,
  pidsNaming,
  pool,
  sumMiB,
  timeIt,
} from "../lib/measure.ts";
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
      measures: `wall clock of one \`run --rm${net.length ? " --network none" : ""} busybox true\` client command, start to exit: the docker CLI against wharf and dockerd, \`podman run\`, and wharf's own CLI (\`bin/wharf\`, Node start-up included) against wharf.`,
    });
  }
  return figs;
}

/** wharf's event-loop delay since the last read (GET /_wharf/loop-delay?reset=1), p99 in ms. */
async function loopDelayP99(e: Engine): Promise<number | undefined> {
  if (e.name !== "wharf" || !e.socket) return undefined;
  const r = await exec(["curl", "-sf", "--unix-socket", e.socket, "http://d/_wharf/loop-delay?reset=1"]);
  if (r.code !== 0) return undefined;
  const p99 = (JSON.parse(r.stdout) as { p99?: unknown }).p99;
  return typeof p99 === "number" ? p99 : undefined;
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
  const settledPss = new Map<string, number[]>();
  const perContainer = new Map<string, number[]>();
  const rss = new Map<string, number[]>();
  const loop: number[] = [];
  const loopIdle: number[] = [];
  const { series, failures } = await interleave(ctx.engines, ctx.parallelRuns, async (e, round) => {
    const tag = `${n}-${round + 1}`;
    try {
      await loopDelayP99(e);
      const ms = await startMany(e, n, tag);
      const startedAt = Date.now();
      const p99 = await loopDelayP99(e);
      if (round >= 0 && p99 !== undefined) {
        loop.push(p99);
        // As long again with the containers running and nothing starting: what the machine's load alone
        // costs the same probe, so the figure above reads as what the starts add.
        await new Promise((r) => setTimeout(r, ms));
        const idle = await loopDelayP99(e);
        if (idle !== undefined) loopIdle.push(idle);
      }
      const total = await sumMiB(await pidsNaming(e.dir), "Pss");
      if (round >= 0) pss.set(e.name, [...(pss.get(e.name) ?? []), total]);
      const daemons = ctx.daemonPids.get(e.name) ?? [];
      if (round >= 0 && e.daemonPid && daemons.length)
        rss.set(e.name, [...(rss.get(e.name) ?? []), await sumMiB(daemons, "Rss")]);
      if (round >= 0) {
        // The steady cost of running containers: once the engine was left alone as long as the settled
        // idle figure was (wharf's spawner workers, made for the starts, have ended by then).
        await new Promise((r) => setTimeout(r, Math.max(0, ctx.settleMs - (Date.now() - startedAt))));
        const settled = await sumMiB(await pidsNaming(e.dir), "Pss");
        settledPss.set(e.name, [...(settledPss.get(e.name) ?? []), settled]);
        const now = await engineMemory(e.dir, daemons);
        const idle = ctx.settledIdle.get(e.name) ?? { others: 0, daemonPrivate: 0 };
        const each = (now.others - idle.others + now.daemonPrivate - idle.daemonPrivate) / n;
        perContainer.set(e.name, [...(perContainer.get(e.name) ?? []), each]);
      }
      return ms;
    } finally {
      await removeMany(e, n, tag);
    }
  });
  return [
    {
      name: `${n} parallel run -d, until all run`,
      unit: "ms",
      series,
      note: failures.join("; ") || undefined,
      target: "≤ 0.3 of dockerd's and of podman's",
      measures: `wall clock from launching ${n} \`docker run -d busybox sleep\` (\`podman run -d\`) clients at once until the last has returned, i.e. every container is running; the containers are removed after each sample.`,
    },
    {
      name: `wharf's event-loop delay during ${n} parallel starts, p99`,
      unit: "ms",
      series: loop.length ? [{ engine: "wharf", samples: loop }] : [],
      target: n === 20 ? "under 10 ms" : undefined,
      measures:
        "perf_hooks.monitorEventLoopDelay (1 ms resolution) in the wharf daemon, reset just before the starts and read just after (GET /_wharf/loop-delay, enabled by WHARF_DEBUG_LOOP_DELAY); dockerd and podman have no event loop.",
    },
    {
      name: `wharf's event-loop delay with ${n} running and none starting, p99`,
      unit: "ms",
      series: loopIdle.length ? [{ engine: "wharf", samples: loopIdle }] : [],
      measures:
        "the same probe as the row above, read again after as long as the starts took, with the containers running and nothing starting: the baseline that the machine's load alone gives, so the row above reads as what the starts add.",
    },
    {
      name: `PSS of the engine's processes with ${n} running`,
      unit: "MiB",
      series: [...pss].map(([engine, samples]) => ({ engine, samples })),
      measures: `sum of Pss (smaps_rollup) over every process whose command line names the engine's temp roots (daemon, containerd, shims, conmons) while the ${n} containers run; the containers' own processes are not counted.`,
    },
    {
      name: `PSS of the engine's processes with ${n} running, ${ctx.settleMs / 1000} s after the starts`,
      unit: "MiB",
      series: [...settledPss].map(([engine, samples]) => ({ engine, samples })),
      measures: `the same sum, once the engine was left alone for ${ctx.settleMs / 1000} s after the starts with the ${n} containers running.`,
    },
    {
      name: `daemon RSS with ${n} running (daemon, + containerd; no shims or conmons)`,
      unit: "MiB",
      series: [...rss].map(([engine, samples]) => ({ engine, samples })),
      measures: "RSS of the processes that were the daemon when idle (wharf; dockerd + containerd).",
    },
    {
      name: `memory per running container (${n} running, settled: shims' and conmons' PSS + the daemons' private growth)`,
      unit: "MiB",
      series: [...perContainer].map(([engine, samples]) => ({ engine, samples })),
      target: "≤ 1 MiB",
      measures: `${ctx.settleMs / 1000} s after the starts, with the ${n} containers running: (PSS of the engine's processes other than its daemons + the daemons' private memory (Private_Clean + Private_Dirty)), less the same ${ctx.settleMs / 1000} s after start-up, ÷ ${n}. The daemons count by their private pages because their PSS includes a share of pages other processes map too (wharf's node binary, shared with this suite and any other node process), which moves with what else runs.`,
    },
  ];
}
