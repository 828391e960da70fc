export type { AttachStreams, LogLine } from "../runtime/index.ts";
export type { ImageRunConfig } from "./config.ts";
export { Container } from "./container.ts";
export { createContainer } from "./create.ts";
export type {
  CreateNetwork,
  ImageBackend,
  ImageRefs,
  LifecycleRuntime,
  LogReader,
  NetworkBackend,
  NetworkSetup,
  NetworkViews,
  RootfsBackend,
  RunMount,
  RunNetwork,
  RuntimeBackend,
  StdioRuntime,
  SupervisorRuntime,
  VolumeBackend,
} from "./deps.ts";
export { ExecManager } from "./exec.ts";
export { ContainerFiles } from "./files.ts";
export { HealthMonitor } from "./health.ts";
export { ContainerIO } from "./io.ts";
export { Lifecycle, type LifecycleDeps } from "./lifecycle.ts";
export { LogRotator } from "./logrotate.ts";
export type { ContainerRecord, ContainerStateDoc } from "./model.ts";
export { Queries } from "./queries.ts";
export { Registry } from "./registry.ts";
export { type HostLimits, specResources, type UpdateRequest } from "./resources.ts";
export { chooseRuntime, type RuntimeChoice } from "./runtimechoice.ts";
export { type ContainerParts, type ContainerService, containerService } from "./service.ts";
export { signalNumber } from "./signals.ts";
export { type SpecBuilder, type SpecDefaults, type SpecRequest, specBuilder } from "./spec.ts";
export { State, type StateStatus, type WaitCondition, type WaitResult } from "./state.ts";
export { Storage } from "./storage.ts";
export { Supervisor } from "./supervise.ts";
