import { closeSync, openSync } from "node:fs";
import { Socket } from "node:net";
import { PassThrough, type Readable, Writable } from "node:stream";
import { ConflictError, isErrno } from "../errdefs/index.ts";
import { native } from "../host/index.ts";

/** The container's stdio, live, through conmon's attach socket. */
export interface AttachStreams {
  stdout: Readable;
  stderr: Readable;
  /** Bytes written reach the container's stdin; `end()` closes it (unless conmon runs with --leave-stdin-open). */
  stdin: Writable;
  /** Drops the connection; the container keeps running. */
  close(): void;
}

// conmon's stdpipe_t values (src/utils.h): the first byte of every packet on the attach socket.
const STDOUT_PIPE = 2;
const STDERR_PIPE = 3;
// sockaddr_un.sun_path is 108 bytes including the terminating NUL.
const SUN_PATH_MAX = 107;

/** Connects to `<dir>/attach` (conmon's SOCK_SEQPACKET socket) and splits its packets into stdout/stderr. */
export function attachSocket(dir: string): AttachStreams {
  const fd = connect(dir);
  const sock = new Socket({ fd, readable: true, writable: true });
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let buf: Buffer = Buffer.alloc(0);
  sock.on("data", (chunk: Buffer) => {
    buf = buf.length ? Buffer.concat([buf, chunk]) : chunk;
    // The relay frames each packet as [pipe byte][uint32 BE length][payload].
    while (buf.length >= 5) {
      const len = buf.readUInt32BE(1);
      if (buf.length < 5 + len) break;
      const pipe = buf[0];
      const payload = buf.subarray(5, 5 + len);
      buf = buf.subarray(5 + len);
      if (pipe === STDERR_PIPE) stderr.write(payload);
      else if (pipe === STDOUT_PIPE) stdout.write(payload);
    }
  });
  const finish = (): void => {
    stdout.end();
    stderr.end();
  };
  sock.on("end", finish);
  sock.on("close", finish);
  // A reset from conmon at container exit is an ordinary end of the streams, not an error for readers.
  sock.on("error", finish);
  const stdin = new Writable({
    write(chunk: Buffer, _enc, cb) {
      if (sock.destroyed) return cb();
      sock.write(chunk, () => cb());
    },
    final(cb) {
      if (!sock.destroyed) sock.end();
      cb();
    },
  });
  return {
    stdout,
    stderr,
    stdin,
    close() {
      sock.destroy();
      finish();
    },
  };
}

function connect(dir: string): number {
  const direct = `${dir}/attach`;
  try {
    if (Buffer.byteLength(direct) <= SUN_PATH_MAX) return native().attachRelay(direct);
    // Too long for sockaddr_un: reach the socket through our own fd for its directory, as conmon binds it.
    const dfd = openSync(dir, "r");
    try {
      return native().attachRelay(`/proc/self/fd/${dfd}/attach`);
    } finally {
      closeSync(dfd);
    }
  } catch (e) {
    if (isErrno(e, "ENOENT") || isErrno(e, "ECONNREFUSED")) {
      throw new ConflictError("container is not running: its attach socket is gone", { cause: e });
    }
    throw e;
  }
}
