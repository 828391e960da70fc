import { createHash } from "node:crypto";

/**
 * The chain ID of a layer (OCI image spec): the diff ID for a base layer, otherwise
 * sha256 of "<parent chain ID> <diff ID>". It names the whole stack, not just the one diff.
 */
export function chainId(parent: string | null, diffId: string): string {
  if (!parent) return diffId;
  return `sha256:${createHash("sha256").update(`${parent} ${diffId}`).digest("hex")}`;
}

/** The chain IDs of a list of diff IDs (bottom → top). */
export function chainIds(diffIds: readonly string[]): string[] {
  const out: string[] = [];
  let parent: string | null = null;
  for (const d of diffIds) {
    parent = chainId(parent, d);
    out.push(parent);
  }
  return out;
}
