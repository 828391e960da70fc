/**
 * A dockerd of the test's own, for tests that compare wharf with Docker on this machine: the benchmark's
 * dockerd (bench/lib/engines.ts: temp roots, its own socket, containerd namespace and bridge, no iptables
 * rules), so nothing of the host changes and there is one way of starting it.
 */
import { existsSync } from "node:fs";
import { chmod, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startDockerd as startEngine } from "../../bench/lib/engines.ts";
import { busyboxTar, DOCKER, exec, importBusybox, startDaemon, type TestDaemon } from "./daemon.ts";

/** dockerd's binary, when docker.io is installed. */
export const DOCKERD = ["/usr/bin/dockerd", "/usr/sbin/dockerd"].find((p) => existsSync(p));

/** A running dockerd. */
export interface TestDockerd {
  socket: string;
  host: string;
  stop(): Promise<void>;
}

/** Starts dockerd; undefined when it is not installed. Call `stop()` in an `after` hook. */
export async function startDockerd(
  name: string,
  o: { args?: string[]; dirMode?: number } = {},
): Promise<TestDockerd | undefined> {
  if (!DOCKERD) return undefined;
  const base = await mkdtemp(join(tmpdir(), `wt-dockerd-${name}-`));
  // --userns-remap needs roots its remapped root may search (mkdtemp makes 0700).
  if (o.dirMode !== undefined) await chmod(base, o.dirMode);
  const removeBase = () => rm(base, { recursive: true, force: true });
  const engine = await startEngine(base, o.args ? { args: o.args } : {}).catch(async (e: unknown) => {
    await removeBase();
    throw e;
  });
  if (!engine?.socket) {
    await engine?.stop();
    await removeBase();
    return undefined;
  }
  return {
    socket: engine.socket,
    host: `unix://${engine.socket}`,
    async stop() {
      try {
        await engine.stop();
      } finally {
        await removeBase();
      }
    },
  };
}

/** A wharf daemon and a dockerd side by side, each with busybox:latest imported from the same rootfs tar. */
export interface EnginePair {
  wharf: TestDaemon;
  dockerd: TestDockerd | undefined;
  stop(): Promise<void>;
}

/** Starts the pair for a comparison test; undefined when docker.io is not installed. */
export async function startEnginePair(name: string): Promise<EnginePair | undefined> {
  if (!DOCKERD) return undefined;
  const wharf = await startDaemon({ name });
  const pair: EnginePair = {
    wharf,
    dockerd: undefined,
    async stop() {
      await pair.dockerd?.stop();
      await wharf.stop();
    },
  };
  try {
    await importBusybox(wharf);
    pair.dockerd = await startDockerd(name);
    if (pair.dockerd) {
      const r = await exec(DOCKER, [
        "-H",
        pair.dockerd.host,
        "import",
        "-c",
        'CMD ["sh"]',
        await busyboxTar(),
        "busybox:latest",
      ]);
      if (r.code !== 0) throw new Error(`busybox import into dockerd: ${r.stderr}`);
    }
    return pair;
  } catch (e) {
    await pair.stop();
    throw e;
  }
}
