export { errnoError, type FakeCall, FakeChild, FakeHost, type FakeProgram, failProcess } from "./fake.ts";
// native() stays inside host/: everything else reaches the kernel through the Host interfaces.
export { MountFlags, UmountFlags } from "./native.ts";
export { ProcessError } from "./process.ts";
export { overlayMountProgram, realHost, setOverlayMountProgram } from "./real.ts";
export type * from "./types.ts";
export { firstSubidRange, inUserNamespace, parseSubids, type SubidRange } from "./userns.ts";
