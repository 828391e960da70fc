// util/tar/ (the tar writer) is imported on its own, so that importing util/ does not load tar-stream.
export { normalizeArch, ociArch } from "./arch.ts";
export { ensureDir, fsyncDir, writeFileAtomic, writeJsonAtomic } from "./atomic.ts";
export { DetachWatcher, parseDetachKeys } from "./detachkeys.ts";
export {
  cleanPath,
  globToRegExp,
  type IgnoreMatcher,
  IgnorePatternError,
  ignoreMatcher,
  parseDockerignore,
  readIgnorePatterns,
} from "./dockerignore.ts";
export { parseGoDuration } from "./duration.ts";
export {
  type FlagOptions,
  type FlagShape,
  type FlagSpec,
  type FlagType,
  type FlagValues,
  flag,
  flagBool,
  flagInt,
  flagList,
  type ScanHooks,
  scanFlags,
} from "./flags.ts";
export { writeChunks } from "./fswrite.ts";
export { bytesSize, formatG, humanDuration, humanSize, ramInBytes } from "./humanize.ts";
export { IdMap, type IdPair, type IdRange } from "./idmap.ts";
export { isFullId, newId, shortId, stripDigestAlgo } from "./ids.ts";
export { limiter, settleAll } from "./limit.ts";
export { parseLink } from "./links.ts";
export { type LogLevel, log, setLogLevel } from "./log.ts";
export { nodeHttp, nodeHttps } from "./nodehttp.ts";
export { tee } from "./tee.ts";
export { nowNs, nowRfc3339, parseFilterTime, parseRfc3339Ns, rfc3339Nano, ZERO_TIME } from "./time.ts";
