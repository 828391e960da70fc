export type { NativeBindings } from "./native.ts";
export { MountFlags, native, UmountFlags } from "./native.ts";
