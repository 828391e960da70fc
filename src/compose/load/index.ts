export { type EnvMap, parseEnvFile, readEnvFile } from "./envfile.ts";
export { LoadError } from "./errors.ts";
export {
  type InterpolateOptions,
  InterpolationError,
  interpolateTree,
  type Lookup,
  substitute,
} from "./interpolate.ts";
export { mergeFiles, mergeService } from "./merge.ts";
export { replicasOf } from "./normalize.ts";
export {
  DEFAULT_FILES,
  findDefaultFiles,
  type LoadOptions,
  loadProject,
  normalizeProjectName,
  OVERRIDE_FILES,
  type ProjectSetup,
  setupProject,
} from "./project.ts";
export {
  formatDuration,
  parseBytes,
  parseDuration,
  parsePortShort,
  parseVolumeShort,
  shellSplit,
} from "./syntax.ts";
export { validateFile } from "./validate.ts";
export { parseComposeYaml, Tagged } from "./yaml.ts";
