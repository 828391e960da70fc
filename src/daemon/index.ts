import { log } from "../util/index.ts";
import { DAEMON_USAGE, parseDaemonFlags } from "./config.ts";
import { startDaemon } from "./daemon.ts";

/** Runs `wharf daemon` with its command-line arguments; resolves to the process exit code when it stops. */
export async function runDaemon(argv: string[]): Promise<number> {
  let cfg: ReturnType<typeof parseDaemonFlags>;
  try {
    cfg = parseDaemonFlags(argv);
  } catch (e) {
    process.stderr.write(`wharf daemon: ${(e as Error).message}\n\n${DAEMON_USAGE}`);
    return 125;
  }
  if (cfg === "help") {
    process.stdout.write(DAEMON_USAGE);
    return 0;
  }
  if (process.getuid?.() !== 0) {
    process.stderr.write("wharf daemon: must run as root\n");
    return 1;
  }
  let daemon: Awaited<ReturnType<typeof startDaemon>>;
  try {
    daemon = await startDaemon(cfg);
  } catch (e) {
    log("fatal", "failed to start daemon", { err: e });
    return 1;
  }
  return new Promise<number>((resolve) => {
    let stopping = false;
    const stop = (sig: string) => {
      if (stopping) return;
      stopping = true;
      log("info", "received signal", { signal: sig });
      daemon.shutdown().then(
        () => resolve(0),
        (e) => {
          log("error", "shutdown failed", { err: e });
          resolve(1);
        },
      );
    };
    process.on("SIGTERM", () => stop("SIGTERM"));
    process.on("SIGINT", () => stop("SIGINT"));
    process.on("SIGPIPE", () => undefined);
  });
}
