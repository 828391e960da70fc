import { mkdir, rm, unlink } from "node:fs/promises";
import { favourEventLoop, realHost } from "../host/index.ts";
import { servePortRelay } from "../netdrv/index.ts";
import { log } from "../util/index.ts";
import { DAEMON_USAGE, type DaemonConfig, parseDaemonFlags } from "./config.ts";
import { claimPidfile, startDaemon } from "./daemon.ts";
import {
  checkRootlessHost,
  joinLauncher,
  launchRootless,
  ROOTLESS_CHILD_ENV,
  RootlessSetupError,
  rootlessDefaults,
} from "./rootless.ts";

/** Runs `wharf daemon` with its command-line arguments; resolves to the process exit code when it stops. */
export async function runDaemon(argv: string[]): Promise<number> {
  // Inside the rootless namespaces the daemon is uid 0; the launcher outside is the user.
  const rootlessChild = process.env[ROOTLESS_CHILD_ENV] === "1";
  delete process.env[ROOTLESS_CHILD_ENV];
  const rootless = rootlessChild || process.getuid?.() !== 0;
  let cfg: ReturnType<typeof parseDaemonFlags>;
  try {
    cfg = parseDaemonFlags(argv, rootless ? { defaults: rootlessDefaults(process.env) } : {});
  } catch (e) {
    process.stderr.write(`wharf daemon: ${(e as Error).message}\n\n${DAEMON_USAGE}`);
    return 125;
  }
  if (cfg === "help") {
    process.stdout.write(DAEMON_USAGE);
    return 0;
  }
  if (rootless && !rootlessChild) {
    try {
      // The pid file holds the launcher's pid: the one the user sees, and whose SIGTERM stops the daemon.
      // What is missing is said before anything is made.
      checkRootlessHost(process.env, cfg.rootlessNet ? { net: cfg.rootlessNet } : {});
      await mkdir(cfg.execRoot, { recursive: true, mode: 0o700 });
      await claimPidfile(cfg.pidfile, realHost().files);
      return await launchRootless({
        execRoot: cfg.execRoot,
        env: process.env,
        ...(cfg.rootlessNet ? { net: cfg.rootlessNet } : {}),
        ...(cfg.rootlessPortDriver ? { portDriver: cfg.rootlessPortDriver } : {}),
      }).finally(() => unlink(cfg.pidfile).catch(() => undefined));
    } catch (e) {
      if (e instanceof RootlessSetupError) {
        process.stderr.write(`wharf daemon (rootless): ${e.message}\n`);
        return 1;
      }
      log("fatal", "failed to start rootless daemon", { err: e });
      return 1;
    }
  }
  return serve(cfg, rootlessChild);
}

async function serve(cfg: DaemonConfig, rootlessChild: boolean): Promise<number> {
  let daemon: Awaited<ReturnType<typeof startDaemon>>;
  let stop: (sig: string) => void = () => undefined;
  let stopRequested = false;
  let relay: { close(): Promise<void> } | undefined;
  // Before any thread or program is started, so only the main thread (and the fs/native threads it makes
  // for its own work) runs raised; host/priority.ts says why.
  if (!favourEventLoop()) log("debug", "event loop priority not raised (no CAP_SYS_NICE)");
  try {
    if (rootlessChild) {
      const launcher = await joinLauncher(cfg.execRoot, () => {
        stopRequested = true;
        stop("launcher closed");
      });
      if (launcher.net.relaySocket) {
        await rm(launcher.net.relaySocket, { force: true });
        relay = await servePortRelay(launcher.net.relaySocket);
      }
      cfg = {
        ...cfg,
        rootless: { forward: launcher.forward, network: launcher.net.mode, cgroups: false },
      };
    }
    daemon = await startDaemon(cfg);
  } catch (e) {
    log("fatal", "failed to start daemon", { err: e });
    return 1;
  }
  return new Promise<number>((resolve) => {
    let stopping = false;
    stop = (sig: string) => {
      if (stopping) return;
      stopping = true;
      log("info", "received signal", { signal: sig });
      daemon.shutdown().then(
        // The builtin port driver's relay would keep the process alive.
        () => (relay ? relay.close() : Promise.resolve()).then(() => resolve(0)),
        (e) => {
          log("error", "shutdown failed", { err: e });
          resolve(1);
        },
      );
    };
    if (stopRequested) stop("launcher closed");
    process.on("SIGTERM", () => stop("SIGTERM"));
    process.on("SIGINT", () => stop("SIGINT"));
    process.on("SIGPIPE", () => undefined);
  });
}
