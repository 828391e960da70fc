/** The shapes of a Compose file, checked by validators of our own, and docker compose's wording of a failure. */
export { type Check, type Kind, type Path, type Violation, violationsOf } from "./check.ts";
export { composeFile } from "./project.ts";
export { describe, pick, showPath } from "./report.ts";
