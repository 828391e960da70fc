export { decodeAuthHeader } from "./auth.ts";
export {
  type Credentials,
  type FetchedManifest,
  isLoopbackHost,
  MANIFEST_MEDIA_TYPES,
  parseChallenge,
  RegistryClient,
  type RegistrySettings,
  registryBase,
} from "./client.ts";
export { MAX_CONFIG_BYTES, MAX_MANIFEST_BYTES, parseConfig, parseIndex, parseManifest } from "./documents.ts";
export { type DistributionInspection, type InspectedPlatform, inspectManifest } from "./inspect.ts";
export {
  formatPlatform,
  hostPlatform,
  parsePlatform,
  selectPlatform,
} from "./platform.ts";
export { type IndexSearchResult, searchIndex } from "./search.ts";
