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
