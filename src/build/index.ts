export { BuildError, Builder, type BuilderOptions } from "./builder.ts";
export { type CommitDeps, type CommitOptions, commitContainer } from "./commit.ts";
export { ignoreMatcher, readIgnorePatterns } from "./dockerignore.ts";
export { parseDockerfile } from "./parser.ts";
export type {
  BuildContainerBackend,
  BuildImageBackend,
  BuildOptions,
  BuildOutput,
  StepName,
} from "./types.ts";
