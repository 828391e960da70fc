export { DF_TYPES, type DfType, type DiskUsageSource, dfTypes, diskUsage } from "./df.ts";
export { EventBus, type WireEvent } from "./events.ts";
export { ENGINE_VERSION, type InfoInput, systemInfo, versionInfo, WHARF_VERSION } from "./info.ts";
