export { VolumeService } from "./service.ts";
