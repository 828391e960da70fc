import { open } from "node:fs/promises";
import { Socket } from "node:net";
import { PassThrough, type Readable, Writable } from "node:stream";
import { ConflictError, isErrno } from "../errdefs/index.ts";
import type { Sockets } from "../host/index.ts";

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
export async function attachSocket(dir: string, o: { sockets: Sockets }): Promise<AttachStreams> {
  const fd = await connect(dir, o.sockets);
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

async function connect(dir: string, sockets: Sockets): Promise<number> {
  const direct = `${dir}/attach`;
  try {
    if (Buffer.byteLength(direct) <= SUN_PATH_MAX) return await sockets.attachRelay(direct);
    // Too long for sockaddr_un: reach the socket through our own fd for its directory, as conmon binds it.
    const dh = await open(dir, "r");
    try {
      return await sockets.attachRelay(`/proc/self/fd/${dh.fd}/attach`);
    } finally {
      await dh.close();
    }
  } catch (e) {
    if (isErrno(e, "ENOENT") || isErrno(e, "ECONNREFUSED")) {
      throw new ConflictError("container is not running: its attach socket is gone", { cause: e });
    }
    throw e;
  }
}
