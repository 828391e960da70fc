import { randomHex } from "./random.ts";

/** A new 64-hex ID, as Docker uses for containers and exec instances. */
export function newId(): string {
  // Docker avoids IDs that are all digits, since a short ID could then parse as a number.
  for (;;) {
    const id = randomHex(32);
    if (!/^\d+$/.test(id.slice(0, 12))) return id;
  }
}

/** The 12-character short form of an ID (sha256: prefix dropped). */
export function shortId(id: string): string {
  return stripDigestAlgo(id).slice(0, 12);
}

/** "sha256:abc" → "abc". */
export function stripDigestAlgo(id: string): string {
  return id.startsWith("sha256:") ? id.slice(7) : id;
}

/** True for a string that looks like a full 64-hex ID. */
export function isFullId(s: string): boolean {
  return /^[0-9a-f]{64}$/.test(s);
}
