export { applyChanges } from "./changes.ts";
export { type ImageRecord, ImageRecords, type LayerRef } from "./records.ts";
export {
  type AnyReference,
  DEFAULT_DOMAIN,
  familiarMatch,
  familiarName,
  familiarString,
  fullName,
  fullString,
  parseAny,
  parseNamed,
  type Reference,
  withDefaultTag,
  withTag,
} from "./reference.ts";
export { createImageService, type ImageServiceOptions, LocalImageService, MediaTypes } from "./service.ts";
export type * from "./types.ts";
