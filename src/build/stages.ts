/**
 * A Dockerfile's stages as the builder walks them: splitting the instructions at FROM, the target and the
 * stages it needs, and the state a stage starts from.
 */
import { InvalidParameterError } from "../errdefs/index.ts";
import type { LayerRef } from "../image/index.ts";
import type { OciImageConfig, OciRunConfig } from "../oci/index.ts";
import { ociArch } from "../util/index.ts";
import { mountSources } from "./mounts.ts";
import { type Instruction, parseDockerfile, parseError } from "./parser.ts";
import type { StageState } from "./step.ts";

/** The PATH an image without one gets, as Docker's builder sets it. */
export const DEFAULT_PATH = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/** One FROM and the instructions up to the next. */
export interface Stage {
  index: number;
  name?: string;
  from: Instruction;
  body: Instruction[];
}

/** Args Docker lets a build use without an ARG line. */
export const PREDEFINED_ARGS = new Set([
  "HTTP_PROXY",
  "http_proxy",
  "HTTPS_PROXY",
  "https_proxy",
  "FTP_PROXY",
  "ftp_proxy",
  "NO_PROXY",
  "no_proxy",
  "ALL_PROXY",
  "all_proxy",
]);

/** The state a stage starts from: its base image's config and layers. */
export function newState(
  imageId: string | undefined,
  config: OciImageConfig,
  layers: LayerRef[],
): StageState {
  return {
    imageId,
    config,
    layers,
    args: new Map(),
    globalArgs: new Map(),
    cmdSet: false,
    dirty: !imageId,
    author: config.author,
  };
}

/** The config of `FROM scratch`. */
export function emptyConfig(): OciImageConfig {
  return {
    architecture: ociArch(),
    os: "linux",
    config: { Env: [DEFAULT_PATH] } as OciRunConfig,
    rootfs: { type: "layers", diff_ids: [] },
    history: [],
  };
}

/** One ONBUILD trigger of a base image, parsed as an instruction. */
export function triggerInstruction(text: string): Instruction {
  return parseDockerfile(`FROM x\n${text}\n`).instructions[1];
}

/** The global ARGs before the first FROM, and the stages. */
export function splitStages(all: Instruction[]): { globals: Instruction[]; stages: Stage[] } {
  const globals: Instruction[] = [];
  const stages: Stage[] = [];
  for (const ins of all) {
    if (ins.cmd === "from") {
      const name = ins.args.length === 3 ? ins.args[2].toLowerCase() : undefined;
      if (name && !/^[a-z][a-z0-9._-]*$/.test(name))
        throw parseError(
          ins.line,
          `invalid name for build stage: "${ins.args[2]}", name can't start with a number or contain symbols`,
        );
      if (name && stages.some((s) => s.name === name)) throw parseError(ins.line, `duplicate name ${name}`);
      stages.push({ index: stages.length, name, from: ins, body: [] });
    } else if (stages.length === 0) globals.push(ins);
    else stages[stages.length - 1].body.push(ins);
  }
  return { globals, stages };
}

/** `--target`, or the last stage. */
export function pickTarget(stages: Stage[], target: string | undefined): Stage {
  if (!target) return stages[stages.length - 1];
  const s = stages.find((x) => x.name === target.toLowerCase());
  if (!s) throw new InvalidParameterError(`failed to reach build target ${target} in Dockerfile`);
  return s;
}

/** The target and the stages it uses (FROM <stage>, COPY --from=<stage>, RUN --mount=from=<stage>), in file order. */
export function neededStages(stages: Stage[], target: Stage): Stage[] {
  const need = new Set<number>();
  const visit = (s: Stage) => {
    if (need.has(s.index)) return;
    need.add(s.index);
    const refs = [
      s.from.args[0],
      ...s.body.filter((i) => i.flags.from !== undefined).map((i) => i.flags.from),
      ...s.body.flatMap((i) => mountSources(i.flagList?.mount ?? [])),
    ];
    for (const r of refs) {
      const dep =
        stages.find((x) => x.name === r.toLowerCase() && x.index < s.index) ??
        (/^\d+$/.test(r) ? stages[Number(r)] : undefined);
      if (dep && dep.index !== s.index) visit(dep);
    }
  };
  visit(target);
  return stages.filter((s) => need.has(s.index));
}
