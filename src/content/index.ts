export { DIGEST_ALGO, DigestMismatchError, digestHex, isDigest, sha256Digest } from "./digest.ts";
export { type BlobInfo, type ContentStore, FsContentStore, type IngestOptions } from "./store.ts";
export { verifiedCopy } from "./verify.ts";
