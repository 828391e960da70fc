export { type Volume, type VolumeCreateOptions, VolumeService } from "./service.ts";
