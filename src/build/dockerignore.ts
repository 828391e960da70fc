/**
 * `.dockerignore` for the builder: util's matcher (shared with the CLI and compose), with a malformed
 * pattern reported as a bad parameter (400), as Docker does.
 */
import { InvalidParameterError } from "../errdefs/index.ts";
import * as ignore from "../util/index.ts";

export type { IgnoreMatcher } from "../util/index.ts";
export { readIgnorePatterns } from "../util/index.ts";

function badPattern<T>(f: () => T): T {
  try {
    return f();
  } catch (err) {
    if (err instanceof ignore.IgnorePatternError)
      throw new InvalidParameterError(err.message, { cause: err });
    throw err;
  }
}

/** Compiles patterns (as `readIgnorePatterns` returns them). */
export function ignoreMatcher(patterns: string[]): ignore.IgnoreMatcher {
  return badPattern(() => ignore.ignoreMatcher(patterns));
}

/** Go's filepath.Match syntax plus `**`, anchored at both ends. */
export function globToRegExp(pattern: string): RegExp {
  return badPattern(() => ignore.globToRegExp(pattern));
}
