/**
 * fsutil's DiffCopy as the receiving side: the sender lists every path (STAT packets, then an empty one), we ask
 * for each regular file's content by its index (REQ), DATA packets carry it (an empty one ends a file), FIN ends
 * the exchange both ways. File modes are Go's os.FileMode bits.
 */
import { lstat, open, readdir, readlink } from "node:fs/promises";
import { join } from "node:path";
import { PassThrough, type Readable } from "node:stream";
import { addTarEntry, tarPack } from "../util/tar/index.ts";
import type { ClientCall } from "./grpc.ts";
import { ProtoReader, ProtoWriter } from "./proto.ts";

const PACKET_STAT = 0;
const PACKET_REQ = 1;
const PACKET_DATA = 2;
const PACKET_FIN = 3;
const PACKET_ERR = 4;

/** Go os.FileMode type and permission bits. */
export const GoMode = {
  dir: 2 ** 31,
  symlink: 2 ** 27,
  device: 2 ** 26,
  namedPipe: 2 ** 25,
  socket: 2 ** 24,
  setuid: 2 ** 23,
  setgid: 2 ** 22,
  charDevice: 2 ** 21,
  sticky: 2 ** 20,
  irregular: 2 ** 19,
} as const;

const TYPE_BITS =
  GoMode.dir |
  GoMode.symlink |
  GoMode.namedPipe |
  GoMode.socket |
  GoMode.device |
  GoMode.charDevice |
  GoMode.irregular;

/** One path as fsutil's Stat describes it. */
export interface FsStat {
  path: string;
  /** Go os.FileMode. */
  mode: number;
  uid: number;
  gid: number;
  size: number;
  /** Nanoseconds since the epoch. */
  modTime: bigint;
  linkname: string;
  devmajor: number;
  devminor: number;
}

/** Decodes an fsutil.types.Stat. */
export function decodeStat(r: ProtoReader): FsStat {
  const mt = r.fields.filter((f) => f.no === 6).pop();
  return {
    path: r.string(1),
    mode: r.int(2) >>> 0,
    uid: r.int(3),
    gid: r.int(4),
    size: r.int(5),
    modTime: mt ? BigInt.asIntN(64, mt.int) : 0n,
    linkname: r.string(7),
    devmajor: r.int(8),
    devminor: r.int(9),
  };
}

/** Encodes an fsutil.types.Stat. */
export function encodeStat(s: FsStat): ProtoWriter {
  return new ProtoWriter()
    .string(1, s.path)
    .int(2, s.mode)
    .int(3, s.uid)
    .int(4, s.gid)
    .int(5, s.size)
    .int(6, s.modTime)
    .string(7, s.linkname)
    .int(8, s.devmajor)
    .int(9, s.devminor);
}

/** Whether the sender holds content for this path: regular files that are not hard links. */
function hasData(s: FsStat): boolean {
  return (s.mode & TYPE_BITS) === 0 && !s.linkname;
}

/** POSIX permission bits (with setuid/setgid/sticky) of a Go FileMode. */
export function posixMode(goMode: number): number {
  let m = goMode & 0o777;
  if (goMode & GoMode.setuid) m |= 0o4000;
  if (goMode & GoMode.setgid) m |= 0o2000;
  if (goMode & GoMode.sticky) m |= 0o1000;
  return m;
}

/** A Go FileMode for POSIX `st_mode` bits. */
export function goMode(st: number): number {
  const fmt = st & 0o170000;
  let m = st & 0o777;
  if (st & 0o4000) m |= GoMode.setuid;
  if (st & 0o2000) m |= GoMode.setgid;
  if (st & 0o1000) m |= GoMode.sticky;
  if (fmt === 0o040000) m |= GoMode.dir;
  else if (fmt === 0o120000) m |= GoMode.symlink;
  else if (fmt === 0o010000) m |= GoMode.namedPipe;
  else if (fmt === 0o140000) m |= GoMode.socket;
  else if (fmt === 0o020000) m |= GoMode.device | GoMode.charDevice;
  else if (fmt === 0o060000) m |= GoMode.device;
  return m;
}

function packet(type: number, o: { id?: number; data?: Buffer; stat?: ProtoWriter } = {}): Buffer {
  return new ProtoWriter().int(1, type).message(2, o.stat).int(3, o.id).bytes(4, o.data).finish();
}

interface Packet {
  type: number;
  stat?: FsStat;
  id: number;
  data: Buffer;
}

function decodePacket(b: Buffer): Packet {
  const r = new ProtoReader(b);
  const st = r.message(2);
  return { type: r.int(1), stat: st ? decodeStat(st) : undefined, id: r.int(3), data: r.bytes(4) };
}

/** Thrown when the sender reports an error or breaks the protocol. */
export class DiffCopyError extends Error {}

/** How far ahead of the file being handed on the receiver asks for content: fsutil's sender reads several at once. */
const AHEAD_BYTES = 16 << 20;
const AHEAD_FILES = 256;

/**
 * Receives a directory over a DiffCopy call, handing each path (with its content for regular files) to
 * `onEntry` in the sender's order. Files are requested ahead of the one being handed on (up to AHEAD_BYTES),
 * so the sender's readers keep the stream full; their interleaved DATA packets wait per file until their turn.
 */
export async function receiveDiffCopy(
  call: PacketStream & { done?: Promise<void> },
  onEntry: (s: FsStat, data: AsyncIterable<Buffer> | undefined) => Promise<void>,
): Promise<{ files: number; bytes: number }> {
  const it = call.messages();
  const next = async (): Promise<Packet> => {
    const n = await it.next();
    if (n.done) throw new DiffCopyError("the client closed the file transfer early");
    const p = decodePacket(n.value);
    if (p.type === PACKET_ERR) throw new DiffCopyError(`error from sender: ${p.data.toString("utf8")}`);
    return p;
  };
  const stats: FsStat[] = [];
  for (;;) {
    const p = await next();
    if (p.type !== PACKET_STAT) throw new DiffCopyError(`unexpected packet type ${p.type} while listing`);
    if (!p.stat) break;
    stats.push(p.stat);
  }
  const wanted = stats.flatMap((s, i) => (hasData(s) ? [i] : []));
  /** Chunks of requested files not handed on yet; an empty buffer marks a file's end. */
  const queues = new Map<number, Buffer[]>();
  let requested = 0;
  let aheadBytes = 0;
  const requestAhead = async (): Promise<void> => {
    while (requested < wanted.length && queues.size < AHEAD_FILES) {
      const id = wanted[requested];
      const size = stats[id].size;
      if (queues.size > 0 && aheadBytes + size > AHEAD_BYTES) return;
      queues.set(id, []);
      aheadBytes += size;
      requested++;
      await call.send(packet(PACKET_REQ, { id }));
    }
  };
  /** The next chunk of file `id`, reading the stream (and queueing other files' packets) until it comes. */
  const chunkOf = async (id: number): Promise<Buffer> => {
    const q = queues.get(id);
    if (!q) throw new DiffCopyError(`file ${id} was never requested`);
    for (;;) {
      const c = q.shift();
      if (c) return c;
      const p = await next();
      const into = p.type === PACKET_DATA ? queues.get(p.id) : undefined;
      if (!into) throw new DiffCopyError(`unexpected packet type ${p.type} for file ${p.id}`);
      into.push(p.data);
    }
  };
  let bytes = 0;
  for (let i = 0; i < stats.length; i++) {
    const s = stats[i];
    if (!hasData(s)) {
      await onEntry(s, undefined);
      continue;
    }
    await requestAhead();
    let ended = false;
    const chunks = async function* (): AsyncGenerator<Buffer> {
      for (;;) {
        const c = await chunkOf(i);
        if (c.length === 0) {
          ended = true;
          return;
        }
        bytes += c.length;
        yield c;
      }
    };
    const gen = chunks();
    await onEntry(s, gen);
    // Read past what the consumer left (it may have stopped early), so the file's queue can go.
    while (!ended) if ((await chunkOf(i)).length === 0) ended = true;
    queues.delete(i);
    aheadBytes -= s.size;
  }
  await call.send(packet(PACKET_FIN));
  for (;;) {
    const n = await it.next();
    if (n.done || decodePacket(n.value).type === PACKET_FIN) break;
  }
  call.end?.();
  await call.done?.catch(() => undefined);
  return { files: stats.length, bytes };
}

/** Receives a directory into memory (the Dockerfile and its .dockerignore: a few small files). */
export async function receiveFiles(
  call: PacketStream & { done?: Promise<void> },
): Promise<Map<string, Buffer>> {
  const out = new Map<string, Buffer>();
  await receiveDiffCopy(call, async (s, data) => {
    if (!data) return;
    const parts: Buffer[] = [];
    for await (const c of data) parts.push(c);
    out.set(s.path, Buffer.concat(parts));
  });
  return out;
}

/** Receives a directory as a tar stream (the build context, as the classic builder takes it). */
export function receiveAsTar(call: ClientCall): {
  tar: Readable;
  done: Promise<{ files: number; bytes: number }>;
} {
  const pack = tarPack();
  const out = new PassThrough();
  pack.pipe(out);
  // A file's data stream that breaks (the client went mid-transfer) destroys the pack with its error; the
  // receive below rejects with it too, so here it only must not go unheard and take the daemon down.
  pack.on("error", (e: Error) => out.destroy(e));
  // The builder may have stopped reading already (its build failed, which cancelled this transfer): the error
  // that then ends `out` has no other listener left.
  out.on("error", () => undefined);
  const done = receiveDiffCopy(call, async (s, data) => {
    const header = {
      name: s.path,
      mode: posixMode(s.mode),
      uid: s.uid,
      gid: s.gid,
      mtime: new Date(Number(s.modTime / 1_000_000n)),
    };
    if (s.mode & GoMode.dir) return addTarEntry(pack, { ...header, type: "directory" });
    if (s.mode & GoMode.symlink)
      return addTarEntry(pack, { ...header, type: "symlink", linkname: s.linkname });
    if (s.mode & GoMode.namedPipe) return addTarEntry(pack, { ...header, type: "fifo" });
    if (s.mode & TYPE_BITS) return;
    if (s.linkname) return addTarEntry(pack, { ...header, type: "link", linkname: s.linkname });
    await addTarEntry(pack, { ...header, type: "file", size: s.size }, data);
  }).then(
    (r) => {
      pack.finalize();
      return r;
    },
    (e: unknown) => {
      out.destroy(e as Error);
      pack.destroy();
      throw e;
    },
  );
  done.catch(() => undefined);
  return { tar: out, done };
}

/** Either end of a gRPC stream carrying packets; `end` is the client side's half-close. */
export interface PacketStream {
  send(msg: Buffer): Promise<void>;
  messages(): AsyncGenerator<Buffer>;
  end?(): void;
}

/**
 * Sends a directory over DiffCopy as fsutil's sender does: every path in walk order (names sorted, a directory
 * before what it holds), then the content of each file the receiver asks for, until it sends FIN.
 * `filter` decides which paths go (relative, slash-separated).
 */
export async function sendDiffCopy(
  stream: PacketStream,
  root: string,
  opts: { filter?: (rel: string, isDir: boolean) => boolean } = {},
): Promise<void> {
  const files = new Map<number, string>();
  /** Hard links go as a link to the first path of their inode, as fsutil sends them. */
  const inodes = new Map<string, string>();
  let index = 0;
  const walk = async (dir: string, prefix: string): Promise<void> => {
    for (const name of (await readdir(dir)).sort()) {
      const abs = join(dir, name);
      const rel = prefix ? `${prefix}/${name}` : name;
      const st = await lstat(abs, { bigint: true });
      const isDir = st.isDirectory();
      if (opts.filter && !opts.filter(rel, isDir)) continue;
      const s: FsStat = {
        path: rel,
        mode: goMode(Number(st.mode)),
        uid: Number(st.uid),
        gid: Number(st.gid),
        size: st.isFile() ? Number(st.size) : 0,
        modTime: st.mtimeNs,
        linkname: st.isSymbolicLink() ? await readlink(abs) : "",
        devmajor: 0,
        devminor: 0,
      };
      if (st.isFile() && st.nlink > 1n) {
        const ino = `${st.dev}:${st.ino}`;
        const first = inodes.get(ino);
        if (first) {
          s.linkname = first;
          s.size = 0;
        } else inodes.set(ino, rel);
      }
      if (st.isFile() && !s.linkname) files.set(index, abs);
      index++;
      await stream.send(packet(PACKET_STAT, { stat: encodeStat(s) }));
      if (isDir) await walk(abs, rel);
    }
  };
  await walk(root, "");
  await stream.send(packet(PACKET_STAT));
  // One iterator, never returned early: leaving a for-await would destroy the stream before its status.
  const it = stream.messages();
  for (;;) {
    const n = await it.next();
    if (n.done) throw new DiffCopyError("the receiver closed the transfer early");
    const p = decodePacket(n.value);
    if (p.type === PACKET_FIN) {
      await stream.send(packet(PACKET_FIN));
      stream.end?.();
      while (!(await it.next()).done);
      return;
    }
    if (p.type === PACKET_ERR) throw new DiffCopyError(`error from receiver: ${p.data.toString("utf8")}`);
    if (p.type !== PACKET_REQ) continue;
    const abs = files.get(p.id);
    if (!abs) throw new DiffCopyError(`invalid file id ${p.id}`);
    const fh = await open(abs, "r");
    try {
      const buf = Buffer.alloc(32 << 10);
      for (;;) {
        const { bytesRead } = await fh.read(buf, 0, buf.length, null);
        if (bytesRead === 0) break;
        await stream.send(packet(PACKET_DATA, { id: p.id, data: Buffer.from(buf.subarray(0, bytesRead)) }));
      }
    } finally {
      await fh.close();
    }
    await stream.send(packet(PACKET_DATA, { id: p.id }));
  }
}
