/**
 * Image build of a 50 MB context (200 files of 256 KiB random data): cold (--no-cache), fully cached, and
 * with one file changed, through the docker CLI's classic builder (DOCKER_BUILDKIT=0) and `podman build`.
 */
import { randomBytes } from "node:crypto";
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { Engine } from "../lib/engines.ts";
import { type Figure, interleave, timeIt } from "../lib/measure.ts";
import type { Ctx } from "./ctx.ts";

const DOCKERFILE = `FROM busybox
RUN echo base > /base
COPY . /ctx
RUN du -s /ctx > /du
`;

async function makeContext(dir: string): Promise<void> {
  for (let d = 0; d < 10; d++) {
    await mkdir(join(dir, `d${d}`), { recursive: true });
    for (let f = 0; f < 20; f++) await writeFile(join(dir, `d${d}`, `f${f}`), randomBytes(256 << 10));
  }
  await writeFile(join(dir, "Dockerfile"), DOCKERFILE);
}

function build(e: Engine, ctxDir: string, extra: string[]): string[] {
  const layers = e.name === "podman" ? ["--layers"] : [];
  return [...e.cli, "build", "-q", ...layers, ...extra, "-t", "bench-build:1", ctxDir];
}

/** Cold, cached and one-file-changed builds. */
export async function builds(ctx: Ctx): Promise<Figure[]> {
  const dir = join(ctx.tmp, "buildctx");
  await makeContext(dir);
  const figs: Figure[] = [];
  const how =
    "wall clock of `docker build -q` (classic builder, DOCKER_BUILDKIT=0) against wharf and dockerd and `podman build -q --layers`, of FROM busybox / RUN / COPY . / RUN over a context of 200 random 256 KiB files";
  const kinds: {
    name: string;
    extra: string[];
    before?: () => Promise<void>;
    target?: string;
    measures: string;
  }[] = [
    {
      name: "build, cold (--no-cache), 50 MB context",
      extra: ["--no-cache"],
      measures: `${how}, with --no-cache: every step runs and the context is sent and copied.`,
    },
    {
      name: "build, fully cached",
      extra: [],
      target: "≤ 0.5 of dockerd's classic builder",
      measures: `${how}, nothing changed: the context is still sent, every step is a cache hit.`,
    },
    {
      name: "build, one file of the context changed",
      extra: [],
      before: () => writeFile(join(dir, "d3", "f7"), randomBytes(256 << 10)),
      target: "≤ 0.7 of dockerd's classic builder",
      measures: `${how}, one 256 KiB file rewritten before each sample: COPY and the RUN after it run again.`,
    },
  ];
  for (const k of kinds) {
    const { series, failures } = await interleave(ctx.engines, ctx.runs, async (e) => {
      await k.before?.();
      return timeIt(build(e, dir, k.extra), e.env);
    });
    figs.push({
      name: k.name,
      unit: "ms",
      series,
      note: failures.join("; ") || undefined,
      target: k.target,
      measures: k.measures,
    });
  }
  return figs;
}
