// Entry of dist/chunks/cli-main.cjs: the client commands alone, as one CommonJS file. bin/wharf runs it (through
// the dist/cli.cjs loader, which turns the compile cache on first) for every command that is not the daemon,
// registry, ui or compose. One synchronous require of one file costs less than the ESM graph of
// dist/wharf.mjs: no async resolve/link/evaluate per chunk (about 20 ms of CPU per command here).
import { runCli } from "./index.ts";

runCli(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`wharf: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 1;
  },
);
