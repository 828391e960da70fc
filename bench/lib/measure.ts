/** Timing, interleaving and summaries for the suite: every figure is min/median/max over runs taken A B C A B C. */
import { execFile } from "node:child_process";
import { readdir, readFile } from "node:fs/promises";
import type { Engine } from "./engines.ts";

/** The samples of one figure for one engine. */
export interface Series {
  engine: string;
  samples: number[];
}

/** One row of the results: a figure measured on every engine. */
export interface Figure {
  /** What was measured, e.g. "run --rm busybox true (docker CLI, --network none)". */
  name: string;
  unit: "ms" | "MiB" | "MiB/s";
  /** Lower is better for ms and MiB, higher for MiB/s. */
  series: Series[];
  /** Why a figure is missing for an engine, or how it was taken. */
  note?: string;
  /** The target for this figure, in words. */
  target?: string;
  /** What the figure measures and how, for the results' glossary. */
  measures?: string;
}

/** Min, median, max of a list. */
export function summary(xs: number[]): { min: number; median: number; max: number } {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
  return { min: s[0], median: mid, max: s[s.length - 1] };
}

/** Runs argv to completion, resolving with its exit code (output discarded, unless `capture`). */
export function exec(
  argv: string[],
  opts: { env?: NodeJS.ProcessEnv; input?: string } = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  const [cmd, ...args] = argv;
  return new Promise((resolve) => {
    const child = execFile(
      cmd,
      args,
      { env: opts.env ?? process.env, maxBuffer: 64 << 20 },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === "number" ? err.code : 1) : 0;
        resolve({ code, stdout: String(stdout), stderr: String(stderr) });
      },
    );
    if (opts.input !== undefined) child.stdin?.end(opts.input);
  });
}

/** Wall-clock milliseconds of one run of argv; throws when it fails, so a broken engine is not timed. */
export async function timeIt(argv: string[], env?: NodeJS.ProcessEnv): Promise<number> {
  const t0 = process.hrtime.bigint();
  const r = await exec(argv, { env });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  if (r.code !== 0) throw new Error(`${argv.join(" ")} failed (${r.code}): ${r.stderr.trim().slice(-400)}`);
  return ms;
}

/**
 * Takes `runs` samples of `fn` for each engine, interleaved (one run of each engine per round), after one
 * warm-up round that is not counted. An engine whose run throws is dropped from the figure with the reason.
 */
export async function interleave(
  engines: Engine[],
  runs: number,
  fn: (e: Engine, round: number) => Promise<number>,
): Promise<{ series: Series[]; failures: string[] }> {
  const live = new Map(engines.map((e) => [e.name, [] as number[]]));
  const failures: string[] = [];
  for (let round = -1; round < runs; round++) {
    for (const e of engines) {
      const samples = live.get(e.name);
      if (!samples) continue;
      try {
        const v = await fn(e, round);
        if (round >= 0) samples.push(v);
      } catch (err) {
        failures.push(`${e.name}: ${(err as Error).message.split("\n")[0]}`);
        live.delete(e.name);
      }
    }
  }
  return { series: [...live].map(([engine, samples]) => ({ engine, samples })), failures };
}

/** Pids whose command line names `marker` (an engine's temp dir): its daemon, containerd, shims, conmons. */
export async function pidsNaming(marker: string): Promise<number[]> {
  const out: number[] = [];
  for (const d of await readdir("/proc")) {
    if (!/^\d+$/.test(d)) continue;
    const cmd = await readFile(`/proc/${d}/cmdline`, "utf8").catch(() => "");
    if (cmd.includes(marker)) out.push(Number(d));
  }
  return out;
}

/** A figure of smaps_rollup: Pss, Rss, or Private (Private_Clean + Private_Dirty: pages no other process maps). */
export type MemField = "Pss" | "Rss" | "Private";

/** A process's figure from /proc/PID/smaps_rollup in MiB; 0 when it is gone. */
export async function memMiB(pid: number, field: MemField): Promise<number> {
  const text = await readFile(`/proc/${pid}/smaps_rollup`, "utf8").catch(() => "");
  const kb = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, "m").exec(text)?.[1] ?? 0);
  return (field === "Private" ? kb("Private_Clean") + kb("Private_Dirty") : kb(field)) / 1024;
}

/** Sum of a memory field over pids. */
export async function sumMiB(pids: number[], field: MemField): Promise<number> {
  let total = 0;
  for (const p of pids) total += await memMiB(p, field);
  return total;
}

/** Runs `fn` over `items` with at most `limit` at a time. */
export async function pool<T>(items: T[], limit: number, fn: (x: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await fn(items[next++]);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

/** An engine's memory split as the per-container figure needs it (MiB). */
export interface EngineMemory {
  /** PSS of the engine's processes that are not its daemons: shims, conmons. */
  others: number;
  /** Private_Clean + Private_Dirty of the daemons (wharf; dockerd + containerd). */
  daemonPrivate: number;
}

/**
 * The memory of the engine whose processes name `marker`, `daemons` among them. A daemon's PSS includes its
 * share of pages other processes map too (the node binary's, shared with this suite and any other node
 * process of the moment), so a difference of PSS would measure those others; its private pages are its own.
 */
export async function engineMemory(marker: string, daemons: number[]): Promise<EngineMemory> {
  const others = (await pidsNaming(marker)).filter((p) => !daemons.includes(p));
  return { others: await sumMiB(others, "Pss"), daemonPrivate: await sumMiB(daemons, "Private") };
}
