/**
 * Validation of one Compose file against the shapes the Compose Specification gives its sections (spec/),
 * with one error in docker compose's words: the file, then the path (`services.web.ports[0]`) and what is
 * wrong there.
 */
import { LoadError } from "./errors.ts";
import { composeFile, describe, violationsOf } from "./spec/index.ts";
import type { Dict } from "./yaml.ts";

/** Throws `validating <file>: <path> <problem>` when the file does not follow the specification. */
export function validateFile(data: Dict, file: string): void {
  const problem = describe(violationsOf(composeFile, data));
  if (problem !== undefined) throw new LoadError(`validating ${file}: ${problem}`);
}
