/**
 * The benchmark suite: wharf, dockerd and podman side by side in one run, interleaved, each on its own
 * temporary roots; writes bench/RESULTS.md. Installs docker.io and podman from Debian when they are missing.
 *   node_modules/.bin/node bench/suite.ts [--runs N] [--parallel-runs N] [--case-runs case=N,…] [--only a,b]
 *     [--no-install] [--out FILE]
 * --case-runs sets both counts for the cases it names (e.g. parallel100=3 on a machine where a round takes minutes).
 * Cases: start (run --rm), parallel20, parallel100 (with memory), build, distribution, ports, scale.
 */
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { builds } from "./cases/build.ts";
import type { Ctx } from "./cases/ctx.ts";
import { distribution } from "./cases/distribution.ts";
import { ports, scale } from "./cases/scale.ts";
import { parallel, runRm } from "./cases/start.ts";
import {
  type Engine,
  importBusybox,
  ROOT,
  sh,
  startDockerd,
  startPodman,
  startWharf,
  unmountUnder,
} from "./lib/engines.ts";
import { type EngineMemory, engineMemory, type Figure, pidsNaming, sumMiB } from "./lib/measure.ts";
import { type CaseLoad, environment, loadNow, render } from "./lib/report.ts";

/** How long the daemons are left alone before the settled idle figure. */
const SETTLE_MS = 15_000;

const { values } = parseArgs({
  options: {
    runs: { type: "string", default: "15" },
    "parallel-runs": { type: "string", default: "15" },
    only: { type: "string" },
    "case-runs": { type: "string" },
    "no-install": { type: "boolean", default: false },
    out: { type: "string", default: join(ROOT, "bench/RESULTS.md") },
  },
});

const CASES: Record<string, (ctx: Ctx) => Promise<Figure[]>> = {
  start: runRm,
  parallel20: (ctx) => parallel(ctx, 20),
  parallel100: (ctx) => parallel(ctx, 100),
  build: builds,
  distribution,
  ports,
  scale: (ctx) => scale(ctx, 500),
};

function installMissing(): void {
  const want = [
    ["dockerd", "docker.io"],
    ["podman", "podman"],
  ].filter(([bin]) => !existsSync(`/usr/bin/${bin}`) && !existsSync(`/usr/sbin/${bin}`));
  if (!want.length) return;
  const pkgs = want.map(([, p]) => p);
  console.error(`bench: installing ${pkgs.join(" ")}`);
  execFileSync("apt-get", ["update", "-qq"], { stdio: "inherit" });
  execFileSync("apt-get", ["install", "-y", "-qq", "--no-install-recommends", ...pkgs], {
    stdio: "inherit",
    env: { ...process.env, DEBIAN_FRONTEND: "noninteractive" },
  });
}

async function main(): Promise<void> {
  if (!values["no-install"]) installMissing();
  const only = values.only?.split(",") ?? Object.keys(CASES);
  const unknown = only.filter((c) => !CASES[c]);
  if (unknown.length)
    throw new Error(`unknown case ${unknown.join(", ")}; cases: ${Object.keys(CASES).join(", ")}`);
  const caseRuns = new Map(
    (values["case-runs"]?.split(",") ?? []).filter(Boolean).map((kv) => {
      const [k, v] = kv.split("=");
      if (!CASES[k] || !(Number(v) > 0)) throw new Error(`--case-runs: bad ${kv}`);
      return [k, Number(v)] as const;
    }),
  );
  const tmp = await mkdtemp(join(tmpdir(), "wharf-suite-"));
  const started = new Date();
  const loads: CaseLoad[] = [{ name: "(start of the run)", before: loadNow(), after: loadNow(), seconds: 0 }];
  const engines: Engine[] = [];
  // Once only: a Ctrl-C stops the engines while the case in progress fails and main's finally runs too.
  let stopping: Promise<void> | undefined;
  const stopAll = () => {
    stopping ??= (async () => {
      for (const e of [...engines].reverse())
        await e.stop().catch((err) => console.error(`bench: stopping ${e.name}:`, err));
      await unmountUnder(tmp);
      await rm(tmp, { recursive: true, force: true });
    })();
    return stopping;
  };
  process.once("SIGINT", () => void stopAll().then(() => process.exit(130)));
  try {
    // Taken once, before anything runs: the commit and versions measured, even if the tree changes meanwhile.
    const envLines = await environment();
    const busyboxTar = join(tmp, "busybox.tar");
    await sh([join(ROOT, "scripts/make-busybox-image.sh"), "--tar", busyboxTar]);
    engines.push(await startWharf(tmp));
    for (const start of [startDockerd, startPodman]) {
      const e = await start(tmp).catch((err: Error) => {
        console.error(`bench: ${err.message}`);
        return undefined;
      });
      if (e) engines.push(e);
    }
    for (const e of engines) await importBusybox(e, busyboxTar);
    const daemonPids = new Map<string, number[]>();
    const idle: Figure = {
      name: "engine memory, idle (RSS of daemon, + containerd)",
      unit: "MiB",
      series: [],
    };
    for (const e of engines) {
      const pids = await pidsNaming(e.dir);
      daemonPids.set(e.name, pids);
      if (e.daemonPid) idle.series.push({ engine: e.name, samples: [await sumMiB(pids, "Rss")] });
    }
    idle.target = "≤ 0.5 of dockerd + containerd";
    idle.measures =
      "resident set of the daemon's processes (wharf; dockerd + its containerd) right after start-up and one image import, before any container ran.";
    if (!engines.some((e) => e.name === "podman")) idle.note = "podman not installed";
    else idle.note = "podman runs no daemon";
    // Measured again once each daemon has been left alone: wharf ends its spawner workers after 10 s idle.
    await new Promise((r) => setTimeout(r, SETTLE_MS));
    const settled: Figure = {
      name: `engine memory, idle ${SETTLE_MS / 1000} s after the last request (RSS of daemon, + containerd)`,
      unit: "MiB",
      series: [],
      target: idle.target,
      measures: `the same processes' RSS once no request came for ${SETTLE_MS / 1000} s (wharf ends idle spawner workers after 10 s).`,
    };
    const settledIdle = new Map<string, EngineMemory>();
    for (const e of engines) {
      settledIdle.set(e.name, await engineMemory(e.dir, daemonPids.get(e.name) ?? []));
      if (e.daemonPid)
        settled.series.push({ engine: e.name, samples: [await sumMiB(daemonPids.get(e.name) ?? [], "Rss")] });
    }
    const ctx: Ctx = {
      engines,
      runs: Number(values.runs),
      parallelRuns: Number(values["parallel-runs"]),
      tmp,
      busyboxTar,
      settledIdle,
      settleMs: SETTLE_MS,
      daemonPids,
    };
    const figs: Figure[] = [idle, settled];
    const opts = { runs: ctx.runs, parallelRuns: ctx.parallelRuns, loads, started };
    for (const name of only) {
      console.error(`bench: ${name} … (load ${loadNow().join(" ")})`);
      const before = loadNow();
      const t0 = Date.now();
      const n = caseRuns.get(name);
      const got = await CASES[name](n ? { ...ctx, runs: n, parallelRuns: n } : ctx);
      loads.push({ name, before, after: loadNow(), seconds: (Date.now() - t0) / 1000 });
      figs.push(...got);
      // Written after each case, so a long run that is stopped still leaves what it measured.
      await writeFile(values.out, render(figs, envLines, opts));
    }
    console.log(render(figs, envLines, opts));
  } finally {
    await stopAll();
  }
}

await main();
