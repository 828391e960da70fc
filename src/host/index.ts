export { errnoError, type FakeCall, FakeChild, FakeHost, type FakeProgram, failProcess } from "./fake.ts";
// native() stays inside host/: everything else reaches the kernel through the Host interfaces.
export { releaseFreeMemory } from "./memory.ts";
export { MountFlags, UmountFlags } from "./native.ts";
export { childNice, EVENT_LOOP_NICE_BOOST, favourEventLoop } from "./priority.ts";
export { ProcessError } from "./process.ts";
export { overlayMountProgram, realHost, setOverlayMountProgram } from "./real.ts";
export type * from "./types.ts";
export {
  type AccountFiles,
  DEFAULT_REMAP_USER,
  firstSubidRange,
  inUserNamespace,
  nextFreeRange,
  parseSubids,
  RemapError,
  type RemapUser,
  resolveRemapUser,
  type SubidRange,
  SYSTEM_ACCOUNTS,
} from "./userns.ts";
