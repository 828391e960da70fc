/** Runs a command line through both CLIs against one daemon and compares what users see. */
import assert from "node:assert/strict";
import { docker, type TestDaemon, wharf } from "../../helpers/daemon.ts";

/** Output of one CLI run. */
export interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** wharf's texts with docker's name in them, for comparing messages that name the program. */
export function asDocker(s: string): string {
  return s.replace(/\bwharf\b/g, "docker");
}

/** Runs `args` with wharf, then with docker; asserts equal exit codes, stdout and stderr; returns wharf's. */
export async function same(
  d: TestDaemon,
  args: string[],
  opts: { input?: string; ignoreStderr?: boolean; map?: (s: string) => string } = {},
): Promise<Run> {
  const w = await wharf(d, args, { input: opts.input });
  const k = await docker(d, args, { input: opts.input });
  const map = opts.map ?? ((s: string) => s);
  const what = `wharf ${args.join(" ")}`;
  assert.equal(map(w.stdout), map(k.stdout), `${what}: stdout`);
  if (!opts.ignoreStderr) assert.equal(map(asDocker(w.stderr)), map(k.stderr), `${what}: stderr`);
  assert.equal(w.code, k.code, `${what}: exit code (stderr: ${w.stderr})`);
  return w;
}
