/**
 * runtime/: OCI bundle generation and the conmon/runc driver. Callers build a spec with buildSpec (after
 * resolving the user with resolveUser), then drive the container through createRuntime(): create, start,
 * attach, exec sessions, stats, pause, update, top, kill, delete. See conmon.ts for how the pieces fit.
 */
export type { AttachStreams } from "./attach.ts";
export { hostCaps } from "./caps.ts";
export { type CgroupFeatures, cgroupFeatures } from "./cgroups.ts";
export {
  type ContainerRuntime,
  type CreateOptions,
  createRuntime,
  type RuntimeOptions,
  type RuntimeState,
} from "./conmon.ts";
export { type DeviceRequest, devicesFromRequest, parseDeviceCgroupRule, type SpecDevice } from "./devices.ts";
export { isOciRuntimeError, OciRuntimeError, parseRuncStderr } from "./errors.ts";
export type { ExecExit, ExecOptions, ExecSession } from "./exectypes.ts";
export type { ExitStatus } from "./exitwatch.ts";
export { findInitBinary } from "./init.ts";
export { type LogLine, parseLogLine, type ReadLogOptions, readLog } from "./logfile.ts";
export { daemonRlimits } from "./rlimits.ts";
export { resolveInRoot } from "./rootpath.ts";
export type { OciRuntimeConfig } from "./runc.ts";
export { STOCK_RUNTIME } from "./runtimes.ts";
export {
  type DockerSeccompProfile,
  parseSeccompProfile,
  type SeccompChoice,
  seccompToOci,
} from "./seccomp.ts";
export { builtinSeccompProfile } from "./seccomp-default.ts";
export { parseSecurityOpts, type SecurityOptions, seccompChoice } from "./secopts.ts";
export { normalizeSignal } from "./signals.ts";
export {
  ALL_CAPS,
  buildSpec,
  cgroupsPath,
  DEFAULT_CAPS,
  DEFAULT_CGROUP_PARENT,
  DEFAULT_MASKED_PATHS,
  DEFAULT_PATH_ENV,
  DEFAULT_READONLY_PATHS,
  DOCKER_INIT_PATH,
  limitsToOci,
  resolveCaps,
  type SpecInput,
  type SpecMount,
  type SpecResources,
} from "./spec.ts";
export type { BlkioEntry, NetworkCounters, RuntimeStats, TopResult } from "./statstypes.ts";
export { ensureWorkdir, type ResolvedUser, resolveUser, resolveUserFromFiles } from "./user.ts";
