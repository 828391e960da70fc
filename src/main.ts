import { enableCompileCache } from "node:module";

// V8's compiled code is cached on disk across runs: the CLI's start-up is mostly parsing the bundle.
enableCompileCache?.();

/** Entry point of bin/wharf: `wharf daemon`, `wharf registry ...`, or a client command. */
async function main(argv: string[]): Promise<number> {
  const [cmd] = argv;
  if (cmd === "daemon") {
    const { runDaemon } = await import("./daemon/index.ts");
    return runDaemon(argv.slice(1));
  }
  if (cmd === "registry") return (await import("./registry/index.ts")).runRegistry(argv.slice(1));
  if (cmd === "ui") return (await import("./ui/index.ts")).runUi(argv.slice(1));
  if (cmd === "compose") return (await import("./compose/index.ts")).runCompose(argv.slice(1));
  // bin/wharf-compose-plugin: the docker CLI runs wharf as its `compose` plugin.
  if (cmd === "compose-plugin") return (await import("./compose/index.ts")).runComposePlugin(argv.slice(1));
  const { runCli } = await import("./cli/index.ts");
  return runCli(argv);
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`wharf: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 1;
  },
);
