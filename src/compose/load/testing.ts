/** Fixtures of the loader's tests: compose files in a temp dir, loaded with the warnings kept. */
import { tempTree } from "../../../test/helpers/tree.ts";
import { type LoadOptions, loadProject } from "./project.ts";

/** Writes files (path → content) under a new temp dir (removed after the test file) and returns it. */
export function tree(files: Record<string, string>, name = "proj"): Promise<string> {
  return tempTree(files, { name, prefix: "wharf-compose-" });
}

/** Loads the project in `dir` with an empty environment, keeping the warnings it prints. */
export function load(dir: string, opts: LoadOptions = {}) {
  const warnings: string[] = [];
  return loadProject({ cwd: dir, env: {}, onWarning: (m) => warnings.push(m), ...opts }).then((p) => ({
    p,
    warnings,
  }));
}
