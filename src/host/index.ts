export { errnoError, type FakeCall, FakeChild, FakeHost, type FakeProgram, failProcess } from "./fake.ts";
export type { NativeBindings } from "./native.ts";
export { MountFlags, native, UmountFlags } from "./native.ts";
export { ProcessError } from "./process.ts";
export { realHost } from "./real.ts";
export type {
  Child,
  FileAttrs,
  Host,
  Iptables,
  KernelFiles,
  MountRequest,
  Mounts,
  Namespaces,
  NetlinkSocket,
  NetlinkSockets,
  Processes,
  RunOptions,
  Sockets,
  SpawnOptions,
} from "./types.ts";
