export { MountFlags, UmountFlags, native } from "./native.ts";
export type { NativeBindings } from "./native.ts";
