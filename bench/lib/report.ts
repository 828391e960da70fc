/** Writes the suite's figures as bench/RESULTS.md: machine, versions, min/median/max and the ratios. */
import { cpus, loadavg, totalmem } from "node:os";
import { exec, type Figure, summary } from "./measure.ts";

async function firstLine(argv: string[]): Promise<string> {
  const r = await exec(argv);
  return r.code === 0 ? (r.stdout.trim().split("\n")[0] ?? "") : "not installed";
}

/** The machine and the versions of everything compared. */
export async function environment(): Promise<string[]> {
  return [
    `- machine: ${cpus().length} × ${cpus()[0]?.model ?? "cpu"}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, kernel ${await firstLine(["uname", "-r"])}`,
    `- wharf: ${await firstLine(["git", "rev-parse", "--short", "HEAD"])} (Node ${process.version})`,
    `- dockerd: ${await firstLine(["dockerd", "--version"])}; containerd ${await firstLine(["containerd", "--version"])}`,
    `- podman: ${await firstLine(["podman", "--version"])}`,
    `- docker CLI: ${await firstLine(["docker", "--version"])}; runc ${await firstLine(["runc", "--version"])}; conmon ${await firstLine(["conmon", "--version"])}`,
  ];
}

const fmt = (x: number, unit: string) => (unit === "ms" ? x.toFixed(0) : x.toFixed(unit === "MiB/s" ? 0 : 2));

function ratio(fig: Figure, of: string, to: string): string {
  const a = fig.series.find((s) => s.engine === of);
  const b = fig.series.find((s) => s.engine === to);
  if (!a?.samples.length || !b?.samples.length) return "–";
  const r = summary(a.samples).median / summary(b.samples).median;
  return Number.isFinite(r) ? r.toFixed(2) : "–";
}

/** The machine's load while one case ran: other work on the host slows every engine alike (interleaved). */
export interface CaseLoad {
  name: string;
  /** 1, 5 and 15 minute load averages when the case started and when it ended. */
  before: number[];
  after: number[];
  seconds: number;
}

/** The 1/5/15 minute load averages now. */
export const loadNow = (): number[] => loadavg().map((x) => Math.round(x * 100) / 100);

/** The Markdown of one run. */
export function render(
  figs: Figure[],
  env: string[],
  opts: { runs: number; parallelRuns: number; loads?: CaseLoad[]; started?: Date },
): string {
  const out = [
    "# Benchmark results",
    "",
    `Written by \`bench/suite.ts\`: run from ${(opts.started ?? new Date()).toISOString()} to ${new Date().toISOString()}. Engines measured interleaved in one run`,
    `(one sample of each engine per round, after a warm-up round that is not counted): n is the number of`,
    `samples behind each row (${opts.runs} asked by default, ${opts.parallelRuns} for the slow cases, fewer where`,
    "a case's rounds take minutes on this machine). Times are wall clock",
    "of the client command; memory is PSS from /proc/PID/smaps_rollup of every process whose command line names",
    "the engine's temp roots (daemon, containerd, shims, conmons). Ratios are of medians; for MiB/s higher is",
    "better, for everything else lower.",
    "",
    ...env,
    "",
    "| figure | engine | n | min | median | max | wharf ÷ dockerd | wharf ÷ podman | target |",
    "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |",
  ];
  for (const f of figs) {
    f.series.forEach((s, i) => {
      if (!s.samples.length) return;
      const m = summary(s.samples);
      const first = i === 0;
      // wharf's rows (the daemon through the docker CLI, and through its own CLI) carry the ratios.
      const ours = s.engine.startsWith("wharf");
      out.push(
        `| ${first ? `${f.name} (${f.unit})` : ""} | ${s.engine} | ${s.samples.length} | ${fmt(m.min, f.unit)} | ${fmt(m.median, f.unit)} | ${fmt(m.max, f.unit)} | ${ours ? ratio(f, s.engine, "dockerd") : ""} | ${ours ? ratio(f, s.engine, "podman") : ""} | ${first ? (f.target ?? "") : ""} |`,
      );
    });
  }
  if (opts.loads?.length) {
    out.push(
      "",
      "## Load on the machine",
      "",
      `Other work shared the ${cpus().length} CPUs during the run; interleaving spreads it over every engine alike.`,
      "",
      "| case | load average before (1/5/15 min) | after | duration |",
      "| --- | --- | --- | ---: |",
    );
    for (const l of opts.loads)
      out.push(
        `| ${l.name} | ${l.before.join(" / ")} | ${l.after.join(" / ")} | ${l.seconds.toFixed(0)} s |`,
      );
  }
  const described = figs.filter((f) => f.measures);
  if (described.length) {
    out.push("", "## What each figure measures", "");
    for (const f of described) out.push(`- **${f.name}**: ${f.measures}`);
  }
  const notes = figs.filter((f) => f.note);
  if (notes.length) {
    out.push("", "## Notes", "");
    for (const f of notes) out.push(`- ${f.name}: ${f.note}`);
  }
  return `${out.join("\n")}\n`;
}
