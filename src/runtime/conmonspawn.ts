/**
 * Starting a container's conmon: it runs the runtime's create, reports the container's pid (or the
 * runtime's error) as JSON on the sync pipe, and double-forks away, so containers outlive the daemon.
 *
 * conmon is started before its bundle is ready and held on its start pipe: its own start-up (exec, linking
 * glib and nine other libraries, option parsing, opening the log) then runs while the daemon mounts the
 * rootfs, sets up the network and writes config.json, instead of after it.
 */
import type { Readable, Writable } from "node:stream";
import { SystemError } from "../errdefs/index.ts";
import type { Processes } from "../host/index.ts";
import { conmonEnv } from "./conmonargs.ts";
import { OciRuntimeError, parseRuncStderr } from "./errors.ts";

/**
 * Spawns conmon for container `id` with a sync pipe on fd 3 and a start pipe on fd 4, lets it go on (one
 * byte on the start pipe) once `ready` resolves, and resolves with the pid it reports on the sync pipe.
 * When `ready` rejects, conmon is killed before it has forked anything and the rejection is the result.
 */
export function spawnConmon(
  id: string,
  args: string[],
  o: { conmon: string; cwd: string; timeoutMs: number; processes: Processes; ready: Promise<unknown> },
): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = o.processes.spawn(o.conmon, args, {
      cwd: o.cwd,
      env: conmonEnv({ sync: 3, start: 4 }),
      stdio: ["ignore", "ignore", "pipe", "pipe", "pipe"],
      detached: true,
    });
    const sync = child.stdio[3] as Readable;
    const start = child.stdio[4] as Writable;
    // conmon closes its end once it has read the byte, or exits early: neither is our error.
    start.on("error", () => undefined);
    let stderr = "";
    let data = "";
    let done = false;
    const timer = setTimeout(() => {
      finish(new SystemError(`conmon did not report the container pid within ${o.timeoutMs} ms`));
    }, o.timeoutMs);
    const finish = (err: Error | undefined, pid?: number, f: { startLeft?: boolean } = {}): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      // Our end of the sync pipe is not needed once the pid is known; conmon keeps its end.
      sync.destroy();
      if (!f.startLeft) start.destroy();
      child.stderr?.destroy();
      child.unref();
      if (err) reject(err);
      else resolve(pid!);
    };
    // One byte lets conmon go on once the bundle is ready. If it never will be, conmon dies still blocked on
    // its start pipe, before it has forked anything, and only then does our end close: an EOF there would
    // let it go on and run the runtime's create.
    o.ready.then(
      () => {
        if (!done) start.end(Buffer.from([0]));
      },
      (e: unknown) => {
        if (done) return;
        const stop = (): void => {
          try {
            if (child.pid !== undefined) o.processes.kill(child.pid, "SIGKILL");
          } catch {}
          start.destroy();
        };
        if (child.pid === undefined) child.once("spawn", stop);
        else stop();
        finish(e instanceof Error ? e : new SystemError(String(e)), undefined, { startLeft: true });
      },
    );
    child.stderr?.setEncoding("utf8");
    child.stderr?.on("data", (s: string) => {
      if (stderr.length < 65536) stderr += s;
    });
    sync.setEncoding("utf8");
    sync.on("data", (s: string) => {
      data += s;
      const nl = data.indexOf("\n");
      if (nl < 0) return;
      const msg = parseSync(data.slice(0, nl));
      if (!msg)
        return finish(new SystemError(`conmon sent an unreadable sync message: ${data.slice(0, nl)}`));
      if (msg.data > 0) return finish(undefined, msg.data);
      finish(new OciRuntimeError("create", parseRuncStderr(msg.message ?? "") || "runc create failed"));
    });
    const eof = (): void => {
      if (data.trim()) return;
      const detail = stderr.trim() || "no message";
      finish(new SystemError(`conmon exited without reporting the container pid for ${id}: ${detail}`));
    };
    sync.on("end", eof);
    sync.on("error", eof);
    child.on("error", (e) => finish(new SystemError(`cannot run conmon: ${e.message}`, { cause: e })));
    child.on("exit", (code) => {
      if (code !== 0 && code !== null) {
        // The first conmon process only fails on bad arguments; its stderr says which.
        setImmediate(() => finish(new SystemError(`conmon failed (exit ${code}): ${stderr.trim()}`)));
      }
    });
  });
}

/** One JSON line of conmon's sync pipe (`{"data": pid or -1, "message": ...}`); undefined for any other line. */
export function parseSync(line: string): { data: number; message?: string } | undefined {
  try {
    const v = JSON.parse(line) as { data?: unknown; message?: unknown };
    if (typeof v.data !== "number") return undefined;
    return { data: v.data, ...(typeof v.message === "string" ? { message: v.message } : {}) };
  } catch {
    return undefined;
  }
}
