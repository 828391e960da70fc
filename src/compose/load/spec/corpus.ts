/** Every Compose file of the validator tests, valid ones and invalid ones with the path of their first error. */
import { projectCases } from "./corpus-project.ts";
import { type Case, serviceFieldCases } from "./corpus-services.ts";
import { linkCases, mountCases, runCases } from "./corpus-wiring.ts";

export type { Case } from "./corpus-services.ts";

/** The whole corpus. */
export const corpus: Case[] = [
  ...serviceFieldCases,
  ...mountCases,
  ...linkCases,
  ...runCases,
  ...projectCases,
];
