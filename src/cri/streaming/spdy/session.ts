/**
 * A SPDY/3.1 session over one socket, for either end: the server accepts the streams a client opens (the
 * Kubernetes pattern), the client opens them (used by our tests, and by anything of ours that needs to talk
 * to a kubelet-style streaming server). Each stream is a Duplex: writes become DATA frames, end() sends FIN.
 *
 * Flow control: SPDY/3.1 has per-stream and session windows, but the Kubernetes clients (moby/spdystream)
 * neither send WINDOW_UPDATE nor honour it, so a sender that waited on windows would stall them. We never
 * wait on a window (their WINDOW_UPDATE and SETTINGS are ignored) and push back on a fast sender by pausing
 * the socket while a stream's reader is behind, as spdystream itself does by blocking its frame loop. For
 * peers that do keep windows we hand back what we received (WINDOW_UPDATE per stream and for the session,
 * every half window), so they never stall on us either; spdystream ignores those frames.
 */
import { EventEmitter } from "node:events";
import { Duplex } from "node:stream";
import { SpdyProtocolError } from "./errors.ts";
import {
  type Frame,
  FrameParser,
  FrameWriter,
  GoAwayStatus,
  type ParserLimits,
  RstStatus,
} from "./frames.ts";
import type { SpdyHeaders } from "./headers.ts";

/** How a session is set up. */
export interface SessionOptions {
  /** Which end this is: clients open odd streams and send odd pings, servers the even ones. */
  role: "server" | "client";
  /** Bytes already read from the socket past the HTTP upgrade (node's `head`). */
  head?: Buffer;
  limits?: Partial<ParserLimits>;
  /** Most streams open at once; a SYN_STREAM past it is refused (REFUSED_STREAM). */
  maxStreams?: number;
}

/** Largest DATA payload we send in one frame, so one big write does not hold up the other streams. */
const DATA_CHUNK = 32 * 1024;
/** SPDY/3.1's initial window; we return received bytes once half of it is used. */
const INITIAL_WINDOW = 64 * 1024;

/** One stream of a session. Readable: the peer's data until its FIN. Writable: ours until end(). */
export class SpdyStream extends Duplex {
  /** The stream id (odd: opened by the client). */
  readonly id: number;
  /** The headers of the SYN_STREAM that opened it. */
  readonly headers: SpdyHeaders;
  #session: SpdySession;
  #replied: boolean;
  #replyWaiters: { resolve: (h: SpdyHeaders) => void; reject: (e: Error) => void }[] = [];
  #replyHeaders: SpdyHeaders | undefined;
  #localFin = false;
  #remoteFin = false;
  #gone = false;
  #unacked = 0;

  /** @internal Made by the session only. */
  constructor(session: SpdySession, id: number, headers: SpdyHeaders, replied: boolean) {
    super({ allowHalfOpen: true });
    this.#session = session;
    this.id = id;
    this.headers = headers;
    this.#replied = replied;
  }

  /** The first value of header `name` (lower case), as Go's Header.Get returns it. */
  header(name: string): string | undefined {
    return this.headers.get(name.toLowerCase())?.[0];
  }

  /** Accepts a stream the peer opened (SYN_REPLY). Data may be written only after it. */
  reply(headers: SpdyHeaders = new Map()): void {
    if (this.#replied || this.#gone) return;
    this.#replied = true;
    this.#session._send({ type: "syn_reply", streamId: this.id, fin: false, headers });
  }

  /** Resolves with the peer's SYN_REPLY headers once it accepted a stream we opened. */
  replyReceived(): Promise<SpdyHeaders> {
    if (this.#replyHeaders) return Promise.resolve(this.#replyHeaders);
    if (this.#gone) return Promise.reject(new Error(`stream ${this.id} was reset`));
    return new Promise((resolve, reject) => this.#replyWaiters.push({ resolve, reject }));
  }

  /** Aborts the stream both ways (RST_STREAM). */
  reset(status: number = RstStatus.Cancel): void {
    if (!this.#gone) {
      this.#session._send({ type: "rst_stream", streamId: this.id, status });
      this._gone(new Error(`stream ${this.id} reset by us`));
    }
  }

  override _read(): void {
    this.#session._resume(this);
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    // After a reset or the connection's end the peer cannot get the bytes: drop them rather than fail the
    // writer (a container's output keeps coming after the client went away).
    if (this.#gone || this.#localFin) {
      cb();
      return;
    }
    if (!this.#replied) this.reply();
    let off = 0;
    const sendNext = () => {
      if (this.#gone) {
        cb();
        return;
      }
      const end = Math.min(off + DATA_CHUNK, chunk.length);
      const data = chunk.subarray(off, end);
      off = end;
      if (off >= chunk.length) this.#session._send({ type: "data", streamId: this.id, fin: false, data }, cb);
      else this.#session._send({ type: "data", streamId: this.id, fin: false, data }, sendNext);
    };
    sendNext();
  }

  override _final(cb: (err?: Error | null) => void): void {
    if (!this.#gone && !this.#localFin) {
      if (!this.#replied) this.reply();
      this.#localFin = true;
      this.#session._send({ type: "data", streamId: this.id, fin: true, data: Buffer.alloc(0) });
    }
    this.#maybeDone();
    cb();
  }

  override _destroy(err: Error | null, cb: (err: Error | null) => void): void {
    // Destroyed before both sides finished: tell the peer, so it does not wait on the stream for ever.
    if (!this.#gone && !(this.#localFin && this.#remoteFin)) {
      this.#session._send({ type: "rst_stream", streamId: this.id, status: RstStatus.Cancel });
    }
    this._gone(err ?? new Error(`stream ${this.id} destroyed`));
    cb(err);
  }

  /** @internal DATA from the peer. */
  _data(data: Buffer, fin: boolean): void {
    if (this.#remoteFin) {
      this.reset(RstStatus.StreamAlreadyClosed);
      return;
    }
    if (data.length > 0) {
      this.#unacked += data.length;
      if (this.#unacked >= INITIAL_WINDOW / 2 && !fin) {
        this.#session._send({ type: "window_update", streamId: this.id, delta: this.#unacked });
        this.#unacked = 0;
      }
      if (!this.push(data)) this.#session._stall(this);
    }
    if (fin) this._fin();
  }

  /** @internal The peer's half ended (FIN on DATA, SYN_STREAM or SYN_REPLY). */
  _fin(): void {
    if (this.#remoteFin) return;
    this.#remoteFin = true;
    this.push(null);
    this.#maybeDone();
  }

  /** @internal The peer's SYN_REPLY. */
  _replyFrom(headers: SpdyHeaders): boolean {
    if (this.#replyHeaders) return false;
    this.#replyHeaders = headers;
    this.#replied = true;
    for (const w of this.#replyWaiters.splice(0)) w.resolve(headers);
    return true;
  }

  /** @internal Reset by either side or the connection ended: no more frames either way. */
  _gone(why: Error): void {
    if (this.#gone) return;
    this.#gone = true;
    for (const w of this.#replyWaiters.splice(0)) w.reject(why);
    this.#session._forget(this);
    // The reader sees an end rather than an error: for a container's stdin that is what a hang-up means.
    if (!this.#remoteFin) {
      this.#remoteFin = true;
      this.push(null);
    }
  }

  /** Whether a reset or the end of the connection cut the stream off. */
  get gone(): boolean {
    return this.#gone;
  }

  #maybeDone(): void {
    if (this.#localFin && this.#remoteFin) this.#session._forget(this);
  }
}

/** Events of a session. */
interface SessionEvents {
  /** The peer opened a stream: reply() to accept it or reset() to refuse it. */
  stream: [SpdyStream];
  /** The peer sent GOAWAY. */
  goaway: [number];
  /** The connection ended (for whatever reason); every stream is gone. */
  close: [];
  /** Every frame received, before it is acted on (for tests and debugging). */
  frame: [Frame];
}

/** A SPDY/3.1 session over a connected socket. */
export class SpdySession extends EventEmitter<SessionEvents> {
  readonly #socket: Duplex;
  readonly #writer = new FrameWriter();
  readonly #parser: FrameParser;
  readonly #role: "server" | "client";
  readonly #maxStreams: number;
  readonly #streams = new Map<number, SpdyStream>();
  readonly #stalled = new Set<SpdyStream>();
  readonly #pings = new Map<number, () => void>();
  #nextStreamId: number;
  #nextPingId: number;
  #lastPeerStreamId = 0;
  #unacked = 0;
  #goAwaySent = false;
  #ended = false;
  /** Why the session failed, when it did (a protocol error of the peer, or of the socket). */
  failure: Error | undefined;
  /** Resolves when the socket has closed. */
  readonly closed: Promise<void>;

  constructor(socket: Duplex, opts: SessionOptions) {
    super();
    this.#socket = socket;
    this.#role = opts.role;
    this.#parser = new FrameParser(opts.limits);
    this.#maxStreams = opts.maxStreams ?? 1000;
    this.#nextStreamId = opts.role === "client" ? 1 : 2;
    this.#nextPingId = opts.role === "client" ? 1 : 2;
    this.closed = new Promise((resolve) => socket.once("close", () => resolve()));
    socket.on("data", (chunk: Buffer) => this.#onBytes(chunk));
    socket.on("error", (err) => {
      this.failure ??= err;
    });
    socket.on("close", () => this.#onClose());
    // A peer that half-closes is done sending frames; our side ends with it.
    socket.on("end", () => this.#end());
    if (opts.head && opts.head.length > 0) queueMicrotask(() => this.#onBytes(opts.head!));
  }

  /** Opens a stream (SYN_STREAM); await replyReceived() before relying on the peer having it. */
  openStream(headers: SpdyHeaders, opts: { fin?: boolean } = {}): SpdyStream {
    if (this.#ended || this.#goAwaySent) throw new Error("session is closing");
    const id = this.#nextStreamId;
    this.#nextStreamId += 2;
    const stream = new SpdyStream(this, id, headers, true);
    this.#streams.set(id, stream);
    this._send({
      type: "syn_stream",
      streamId: id,
      associatedTo: 0,
      priority: 0,
      fin: !!opts.fin,
      unidirectional: false,
      headers,
    });
    if (opts.fin) stream.end();
    return stream;
  }

  /** Sends a PING and resolves when the peer echoes it. */
  ping(): Promise<void> {
    const id = this.#nextPingId;
    this.#nextPingId += 2;
    return new Promise((resolve) => {
      this.#pings.set(id, resolve);
      this._send({ type: "ping", id });
    });
  }

  /** Sends GOAWAY (once): no new streams are accepted; those open go on. */
  goAway(status: number = GoAwayStatus.Ok): void {
    if (this.#goAwaySent || this.#ended) return;
    this.#goAwaySent = true;
    this._send({ type: "goaway", lastGoodStreamId: this.#lastPeerStreamId, status });
  }

  /** GOAWAY, then ends the socket once what is queued is written; resolves when it has closed. */
  close(): Promise<void> {
    this.goAway();
    this.#end();
    return this.closed;
  }

  /** Tears the connection down at once. */
  destroy(): void {
    this.#socket.destroy();
  }

  /** Whether the connection has ended or is ending. */
  get ended(): boolean {
    return this.#ended;
  }

  /** @internal Encodes and writes a frame; `cb` runs once the socket took it (at once if the session ended). */
  _send(frame: Frame, cb?: () => void): void {
    if (this.#ended || this.#socket.destroyed || this.#socket.writableEnded) {
      if (cb) queueMicrotask(cb);
      return;
    }
    const bytes = this.#writer.encode(frame);
    if (cb) this.#socket.write(bytes, () => cb());
    else this.#socket.write(bytes);
  }

  /** @internal A stream's reader is behind: stop reading the socket until it catches up. */
  _stall(stream: SpdyStream): void {
    this.#stalled.add(stream);
    this.#socket.pause();
  }

  /** @internal A stream's reader wants more. */
  _resume(stream: SpdyStream): void {
    if (this.#stalled.delete(stream) && this.#stalled.size === 0 && !this.#ended) this.#socket.resume();
  }

  /** @internal A stream is finished both ways or gone. */
  _forget(stream: SpdyStream): void {
    this.#streams.delete(stream.id);
    this._resume(stream);
  }

  #onBytes(chunk: Buffer): void {
    if (this.#ended && this.#socket.destroyed) return;
    try {
      this.#parser.push(chunk, (f) => this.#onFrame(f));
    } catch (e) {
      this.#fail(e instanceof SpdyProtocolError ? GoAwayStatus.ProtocolError : GoAwayStatus.InternalError, e);
    }
  }

  /** A connection error: GOAWAY with `status`, then drop the connection (SPDY/3 2.4.1). */
  #fail(status: number, err: unknown): void {
    this.failure ??= err instanceof Error ? err : new Error(String(err));
    this.goAway(status);
    this.#end();
    // Stop parsing: after a bad frame nothing more of this peer can be read.
    this.#socket.removeAllListeners("data");
    this.#socket.resume();
    setTimeout(() => this.#socket.destroy(), 1000).unref();
  }

  #peerParity(id: number): boolean {
    return this.#role === "server" ? id % 2 === 1 : id % 2 === 0;
  }

  #onFrame(f: Frame): void {
    this.emit("frame", f);
    switch (f.type) {
      case "syn_stream": {
        if (!this.#peerParity(f.streamId) || f.streamId <= this.#lastPeerStreamId) {
          throw new SpdyProtocolError(`SYN_STREAM with out-of-order or wrong-parity id ${f.streamId}`);
        }
        this.#lastPeerStreamId = f.streamId;
        if (this.#goAwaySent || this.#ended || this.#streams.size >= this.#maxStreams) {
          this._send({ type: "rst_stream", streamId: f.streamId, status: RstStatus.RefusedStream });
          return;
        }
        const stream = new SpdyStream(this, f.streamId, f.headers, false);
        this.#streams.set(f.streamId, stream);
        if (f.fin) stream._fin();
        if (this.listenerCount("stream") === 0) stream.reset(RstStatus.RefusedStream);
        else this.emit("stream", stream);
        return;
      }
      case "syn_reply": {
        const stream = this.#streams.get(f.streamId);
        if (!stream) return;
        if (!stream._replyFrom(f.headers)) {
          stream.reset(RstStatus.StreamInUse);
          return;
        }
        if (f.fin) stream._fin();
        return;
      }
      case "headers":
        if (f.fin) this.#streams.get(f.streamId)?._fin();
        return;
      case "data": {
        // The session window counts every DATA byte, whatever became of its stream.
        this.#unacked += f.data.length;
        if (this.#unacked >= INITIAL_WINDOW / 2) {
          this._send({ type: "window_update", streamId: 0, delta: this.#unacked });
          this.#unacked = 0;
        }
        // Data for a stream that is gone (reset, or closed both ways) is dropped, as spdystream does.
        this.#streams.get(f.streamId)?._data(f.data, f.fin);
        return;
      }
      case "rst_stream":
        this.#streams
          .get(f.streamId)
          ?._gone(new Error(`stream ${f.streamId} reset by the peer (status ${f.status})`));
        return;
      case "ping":
        if (this.#peerParity(f.id)) this._send({ type: "ping", id: f.id });
        else {
          this.#pings.get(f.id)?.();
          this.#pings.delete(f.id);
        }
        return;
      case "goaway":
        this.emit("goaway", f.status);
        return;
      case "settings":
      case "window_update":
        // See the header comment: no flow control, by design.
        return;
    }
  }

  /** Ends our side of the socket (after what is queued); the streams are cut off. */
  #end(): void {
    if (this.#ended) return;
    this.#ended = true;
    for (const s of [...this.#streams.values()]) s._gone(new Error("connection closed"));
    this.#socket.end();
  }

  #onClose(): void {
    this.#ended = true;
    for (const s of [...this.#streams.values()]) s._gone(new Error("connection closed"));
    for (const resolve of this.#pings.values()) resolve();
    this.#pings.clear();
    this.emit("close");
  }
}
