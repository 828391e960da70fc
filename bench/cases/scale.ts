/**
 * Published-port throughput, and the control path with 500 containers present: `ps -a`, `inspect` and
 * `run --rm` must not grow with the number of containers the engine holds.
 */
import type { Engine } from "../lib/engines.ts";
import { exec, type Figure, interleave, pool, timeIt } from "../lib/measure.ts";
import type { Ctx } from "./ctx.ts";

/** MiB/s of one 256 MiB download from busybox httpd behind `-p`, through 127.0.0.1. */
export async function ports(ctx: Ctx): Promise<Figure[]> {
  const port = new Map<string, number>();
  for (const e of ctx.engines) {
    const r = await exec(
      [
        ...e.cli,
        "run",
        "-d",
        "--name",
        "bench-web",
        "--tmpfs",
        "/www",
        "-p",
        "127.0.0.1::80",
        "busybox",
        "sh",
        "-c",
        "dd if=/dev/zero of=/www/big bs=1M count=256 2>/dev/null; echo ok > /www/small; exec httpd -f -p 80 -h /www",
      ],
      { env: e.env },
    );
    if (r.code !== 0) continue;
    const out = await exec([...e.cli, "port", "bench-web", "80/tcp"], { env: e.env });
    const p = Number(/:(\d+)\s*$/m.exec(out.stdout)?.[1]);
    for (let i = 0; i < 200 && p; i++) {
      if ((await exec(["curl", "-sf", `http://127.0.0.1:${p}/small`])).code === 0) break;
      await new Promise((res) => setTimeout(res, 50));
    }
    if (p) port.set(e.name, p);
  }
  const engines = ctx.engines.filter((e) => port.has(e.name));
  try {
    const { series, failures } = await interleave(engines, ctx.runs, async (e) => {
      const r = await exec([
        "curl",
        "-sf",
        "-o",
        "/dev/null",
        "-w",
        "%{speed_download}",
        `http://127.0.0.1:${port.get(e.name)}/big`,
      ]);
      if (r.code !== 0) throw new Error(`download failed: ${r.code}`);
      return Number(r.stdout) / 1048576;
    });
    const missing = ctx.engines.filter((e) => !port.has(e.name)).map((e) => `${e.name}: could not publish`);
    return [
      {
        name: "published port, one 256 MiB download via 127.0.0.1",
        unit: "MiB/s",
        series,
        note: [...failures, ...missing].join("; ") || undefined,
        measures:
          "curl's average download speed of a 256 MiB file from busybox httpd in a container published with -p 127.0.0.1::80 (wharf's proxy or DNAT, docker-proxy for dockerd without iptables, podman's port forwarder).",
      },
    ];
  } finally {
    for (const e of ctx.engines) await exec([...e.cli, "rm", "-f", "bench-web"], { env: e.env });
  }
}

async function createMany(e: Engine, n: number): Promise<void> {
  const names = Array.from({ length: n }, (_, i) => `bs-${i}`);
  await pool(names, 8, async (name) => {
    await timeIt([...e.cli, "create", "--name", name, "busybox", "true"], e.env);
  });
}

/** `ps -a`, `inspect` and `run --rm` with `n` containers present. */
export async function scale(ctx: Ctx, n: number): Promise<Figure[]> {
  const failures: string[] = [];
  const engines: Engine[] = [];
  for (const e of ctx.engines) {
    try {
      await createMany(e, n);
      engines.push(e);
    } catch (err) {
      failures.push(`${e.name}: creating ${n} containers failed: ${(err as Error).message.split("\n")[0]}`);
    }
  }
  const figs: Figure[] = [];
  try {
    const cases: { name: string; argv: string[]; target?: string; measures: string }[] = [
      {
        name: `ps -a with ${n} containers`,
        argv: ["ps", "-a"],
        target: "under 100 ms",
        measures: `wall clock of \`ps -a\` (client included) with ${n} created containers present.`,
      },
      {
        name: `inspect one of ${n} containers`,
        argv: ["inspect", `bs-${n >> 1}`],
        measures: `wall clock of \`inspect <name>\` of one of ${n} containers.`,
      },
      {
        name: `run --rm busybox true --network none with ${n} containers`,
        argv: ["run", "--rm", "--network", "none", "busybox", "true"],
        target: "no slower than with none present",
        measures: `as run --rm --network none above, with the ${n} containers present: compare with that row.`,
      },
    ];
    for (const c of cases) {
      const r = await interleave(engines, ctx.parallelRuns, (e) => timeIt([...e.cli, ...c.argv], e.env));
      figs.push({
        name: c.name,
        unit: "ms",
        series: r.series,
        note: [...failures, ...r.failures].join("; ") || undefined,
        target: c.target,
        measures: c.measures,
      });
    }
  } finally {
    for (const e of engines) {
      const names = Array.from({ length: n }, (_, i) => `bs-${i}`);
      for (let i = 0; i < names.length; i += 100)
        await exec([...e.cli, "rm", "-f", ...names.slice(i, i + 100)], { env: e.env });
    }
  }
  return figs;
}
