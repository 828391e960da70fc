/**
 * `runc start` without runc. A created runc container waits in `runc init`, blocked opening the exec fifo
 * in its state dir (`<runc root>/<id>/exec.fifo`) for writing; all `runc start` (1.1) does is open that
 * fifo for reading, read the byte init writes once it has a reader, and remove the fifo, after which runc
 * reports the container as running (the fifo's absence is what tells "running" from "created"). Doing the
 * same here saves starting a second Go program per container start: 25-50 ms of a run measured here, and
 * one of the three processes the daemon had spawned per run.
 */
import { constants, open as openCb } from "node:fs";
import { unlink } from "node:fs/promises";
import { Socket } from "node:net";
import { isErrno } from "../errdefs/index.ts";
import { OciRuntimeError } from "./errors.ts";

/** runc's own interval between looks at whether init is still there while it waits on the fifo. */
const ALIVE_POLL_MS = 100;

/**
 * Lets a created container's process go by reading its exec fifo at `path`. False when there is no fifo
 * (not created, or started already: the caller then asks the runtime itself, for its own error). `alive`
 * tells whether init still runs; it is asked while no byte has come, as runc does, so a dead init is an
 * error rather than a wait forever.
 */
export async function releaseExecFifo(path: string, o: { alive: () => Promise<boolean> }): Promise<boolean> {
  let fd: number;
  try {
    // Read-write and non-blocking: opening never waits for the writer, and, being a writer ourselves,
    // the pipe never reads as EOF before init's byte comes (a read-only end would see EOF until init's
    // open had gone through). Nothing of the loop or the thread pool blocks on a dead init.
    fd = await new Promise<number>((resolve, reject) =>
      openCb(path, constants.O_RDWR | constants.O_NONBLOCK, (e, f) => (e ? reject(e) : resolve(f))),
    );
  } catch (e) {
    if (isErrno(e, "ENOENT")) return false;
    throw e;
  }
  const sock = new Socket({ fd, readable: true, writable: false });
  try {
    await new Promise<void>((resolve, reject) => {
      let timer: NodeJS.Timeout | undefined;
      const done = (err?: Error): void => {
        clearTimeout(timer);
        sock.removeAllListeners("data");
        if (err) reject(err);
        else resolve();
      };
      sock.once("data", () => done());
      sock.once("error", (e) => done(e));
      const look = (): void => {
        timer = setTimeout(() => {
          void o.alive().then(
            (yes) => (yes ? look() : done(new OciRuntimeError("start", "container process is already dead"))),
            (e: unknown) => done(e instanceof Error ? e : new Error(String(e))),
          );
        }, ALIVE_POLL_MS);
      };
      look();
    });
    // As runc: once read, the fifo goes, and the container counts as running.
    await unlink(path);
  } finally {
    sock.destroy();
  }
  return true;
}
