export type { ImageRunConfig } from "./config.ts";
export type {
  AttachedStdio,
  ExitInfo,
  ImageBackend,
  LogEntry,
  LogReader,
  NetworkBackend,
  NetworkSetup,
  RuntimeBackend,
} from "./deps.ts";
export type { ExecCreateRequest, ExecInspect } from "./exec.ts";
export type { ContainerRecord, ContainerStateDoc } from "./model.ts";
export { ContainerService, type ContainerServiceOptions, type SpecFactory, signalNumber } from "./service.ts";
