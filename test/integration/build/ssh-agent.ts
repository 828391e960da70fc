/** An ssh-agent of the test's own (foreground, its own socket) holding one fresh key, for `--ssh` builds. */
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { exec } from "../../helpers/daemon.ts";

/** A running agent: its socket, and the host's ssh-add with the libraries it loads (for a busybox step). */
export interface TestSshAgent {
  socket: string;
  sshAddFiles: string[];
  stop(): Promise<void>;
}

/** Starts `ssh-agent -D` with a new ed25519 key named wharf-test-key; undefined when openssh-client is missing. */
export async function startSshAgent(dir: string): Promise<TestSshAgent | undefined> {
  if (!["/usr/bin/ssh-agent", "/usr/bin/ssh-add", "/usr/bin/ssh-keygen"].every((f) => existsSync(f)))
    return undefined;
  const socket = join(dir, `agent-${process.pid}.sock`);
  const key = join(dir, `key-${process.pid}`);
  const proc: ChildProcess = spawn("/usr/bin/ssh-agent", ["-D", "-a", socket], { stdio: "ignore" });
  const stop = async () => {
    if (proc.exitCode !== null || proc.signalCode !== null) return;
    const exited = new Promise((r) => proc.once("exit", r));
    proc.kill("SIGTERM");
    await exited;
  };
  try {
    const gen = await exec("/usr/bin/ssh-keygen", [
      "-q",
      "-t",
      "ed25519",
      "-N",
      "",
      "-C",
      "wharf-test-key",
      "-f",
      key,
    ]);
    if (gen.code !== 0) throw new Error(`ssh-keygen: ${gen.stderr}`);
    // The agent's socket appears a moment after it starts: ssh-add says so until then.
    for (let i = 0; ; i++) {
      const add = await exec("/usr/bin/ssh-add", ["-q", key], { env: { SSH_AUTH_SOCK: socket } });
      if (add.code === 0) break;
      if (i > 100) throw new Error(`ssh-add: ${add.stderr}`);
      await new Promise((r) => setTimeout(r, 20));
    }
    const ldd = await exec("ldd", ["/usr/bin/ssh-add"]);
    const libs = [...ldd.stdout.matchAll(/(\/\S+)/g)].map((m) => m[1]);
    return { socket, sshAddFiles: ["/usr/bin/ssh-add", ...libs], stop };
  } catch (e) {
    await stop();
    throw e;
  }
}
