export type { FilesystemChange } from "./changes.ts";
export type { ImageRunConfig } from "./config.ts";
export type {
  AttachedStdio,
  ContainerServiceOptions,
  ExitInfo,
  ImageBackend,
  LogEntry,
  LogReader,
  NetworkBackend,
  RunMount,
  RuntimeBackend,
  SpecFactory,
} from "./deps.ts";
export type { ExecCreateRequest, ExecInspect } from "./exec.ts";
export type { ContainerRecord, ContainerStateDoc } from "./model.ts";
export { type HostLimits, specResources, type UpdateRequest } from "./resources.ts";
export { ContainerService } from "./service.ts";
export { signalNumber } from "./signals.ts";
export type { StatsJson } from "./statsjson.ts";
