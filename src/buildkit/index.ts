export { BUILDKIT_VERSION, type BuildkitBackend, BuildkitService } from "./control.ts";
