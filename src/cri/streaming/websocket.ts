/**
 * The WebSocket forms of remotecommand and port-forward, as kubelet's streaming server (wsstream) speaks them:
 * every message starts with a channel byte (base64 variants: a channel digit, then base64 text). Exec and
 * attach use channels stdin 0, stdout 1, stderr 2, error 3, resize 4; v5 adds a CLOSE message (255, channel)
 * for half-closing stdin. Port-forward uses a data and an error channel per port, each opened by the server
 * with the port as 2 little-endian bytes.
 */
import { Duplex } from "node:stream";
import type { WebSocket } from "ws";
import type { StreamRuntime } from "../stream-runtime.ts";
import { endAndWait, type RemoteCommandChannels, type StreamOptions } from "./remotecommand.ts";
import { resizeEvents } from "./resize.ts";

/** Subprotocols for exec and attach, best first; "" (none offered) is binary, with v1's text status. */
export const wsRemoteCommandProtocols = [
  "v5.channel.k8s.io",
  "v4.channel.k8s.io",
  "v4.base64.channel.k8s.io",
  "channel.k8s.io",
  "base64.channel.k8s.io",
];

/** Subprotocols for port-forward. */
export const wsPortForwardProtocols = ["v4.channel.k8s.io", "v4.base64.channel.k8s.io"];

/** The v5 message that half-closes a channel: [255, channel]. */
const CLOSE_CHANNEL = 255;

/** kubelet's wsstream picks the first protocol the client lists that it supports; undefined: none. */
export function pickProtocol(offered: string[], supported: string[]): string | undefined {
  if (offered.length === 0) return "";
  return offered.find((p) => supported.includes(p));
}

/** One channel of a connection: readable if the client may send on it, writable if we may. */
class WsChannel extends Duplex {
  readonly #mux: WsMux;
  readonly num: number;
  readonly #writable: boolean;

  constructor(mux: WsMux, num: number, writable: boolean) {
    super({ allowHalfOpen: true });
    this.#mux = mux;
    this.num = num;
    this.#writable = writable;
  }

  override _read(): void {
    this.#mux.resume(this);
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    if (!this.#writable) {
      cb();
      return;
    }
    this.#mux.send(this.num, chunk, cb);
  }

  override _final(cb: (err?: Error | null) => void): void {
    cb();
  }
}

/** Multiplexes channels over one WebSocket. */
class WsMux {
  readonly #ws: WebSocket;
  readonly #base64: boolean;
  readonly #v5: boolean;
  readonly #channels = new Map<number, WsChannel>();
  readonly #readable = new Set<number>();
  readonly #stalled = new Set<WsChannel>();

  constructor(ws: WebSocket, protocol: string) {
    this.#ws = ws;
    this.#base64 = protocol.includes("base64");
    this.#v5 = protocol === "v5.channel.k8s.io";
    ws.on("message", (data: Buffer) => this.#onMessage(data));
    ws.on("close", () => {
      for (const c of this.#channels.values()) if (!c.readableEnded) c.push(null);
    });
    ws.on("error", () => {});
  }

  /** Channel `num`; `read`: the client may send on it, `write`: we may. */
  channel(num: number, read: boolean, write: boolean): WsChannel {
    const c = new WsChannel(this, num, write);
    this.#channels.set(num, c);
    if (read) this.#readable.add(num);
    else c.push(null);
    return c;
  }

  /** Sends `data` on channel `num`. */
  send(num: number, data: Buffer, cb?: () => void): void {
    if (this.#ws.readyState !== this.#ws.OPEN) {
      if (cb) queueMicrotask(cb);
      return;
    }
    const frame = this.#base64
      ? String.fromCharCode(48 + num) + data.toString("base64")
      : Buffer.concat([Buffer.from([num]), data]);
    this.#ws.send(frame, { binary: !this.#base64 }, () => cb?.());
  }

  resume(c: WsChannel): void {
    if (this.#stalled.delete(c) && this.#stalled.size === 0) this.#ws.resume();
  }

  /** Closes the connection normally once what is queued is sent. */
  close(): void {
    if (this.#ws.readyState === this.#ws.OPEN) this.#ws.close(1000);
  }

  /** A text frame in a binary protocol is read as bytes all the same, as x/net/websocket's Message does. */
  #onMessage(raw: Buffer): void {
    if (raw.length === 0) return;
    let num = raw[0];
    let data = raw.subarray(1);
    if (this.#base64) {
      num -= 48;
      data = Buffer.from(data.toString("latin1"), "base64");
    }
    if (this.#v5 && num === CLOSE_CHANNEL) {
      const target = this.#channels.get(raw[1]);
      if (target && this.#readable.has(target.num) && !target.readableEnded) target.push(null);
      this.#readable.delete(raw[1]);
      return;
    }
    const c = this.#channels.get(num);
    // Messages for channels the client may not write (or that do not exist) are dropped, as wsstream does.
    if (!c || !this.#readable.has(num) || data.length === 0) return;
    if (!c.push(data)) {
      this.#stalled.add(c);
      this.#ws.pause();
    }
  }
}

/** Sets up exec/attach channels on an accepted WebSocket. */
export function wsRemoteCommandChannels(
  ws: WebSocket,
  protocol: string,
  opts: StreamOptions,
): RemoteCommandChannels {
  const mux = new WsMux(ws, protocol);
  const stdin = mux.channel(0, opts.stdin, false);
  const stdout = mux.channel(1, false, opts.stdout);
  const stderr = mux.channel(2, false, opts.stderr);
  const error = mux.channel(3, false, true);
  const resize = mux.channel(4, true, false);
  const version = protocol.startsWith("v5.") ? 5 : protocol.startsWith("v4.") ? 4 : 1;
  const abort = new AbortController();
  let finishing = false;
  ws.once("close", () => {
    if (!finishing) abort.abort(new Error("connection closed"));
  });
  // Tell the client the session is set up: an empty message on the lowest channel it will hear from.
  mux.send(opts.stdout ? 1 : opts.stderr ? 2 : 3, Buffer.alloc(0));
  const resizes = resizeEvents(resize);
  const ch: RemoteCommandChannels = {
    version,
    signal: abort.signal,
    async finish(status: Buffer) {
      finishing = true;
      if (status.length > 0) error.write(status);
      await Promise.all([endAndWait(stdout), endAndWait(stderr), endAndWait(error)]);
      mux.close();
    },
  };
  if (opts.stdin) ch.stdin = stdin;
  if (opts.stdout) ch.stdout = stdout;
  if (opts.stderr) ch.stderr = stderr;
  if (opts.tty) ch.resize = resizes;
  return ch;
}

/** Serves a port-forward WebSocket: one data and one error channel per port, each port forwarded once. */
export async function serveWsPortForward(
  ws: WebSocket,
  protocol: string,
  runtime: StreamRuntime,
  target: { podSandboxId: string; ports: number[] },
): Promise<void> {
  const mux = new WsMux(ws, protocol);
  const pairs = target.ports.map((port, i) => {
    const data = mux.channel(i * 2, true, true);
    const error = mux.channel(i * 2 + 1, false, true);
    const portBytes = Buffer.alloc(2);
    portBytes.writeUInt16LE(port);
    data.write(portBytes);
    error.write(portBytes);
    return { port, data, error };
  });
  await Promise.all(
    pairs.map(async ({ port, data, error }) => {
      try {
        await runtime.portForward(target.podSandboxId, port, data);
      } catch (e) {
        const msg = e instanceof Error ? e.message : String(e);
        error.write(Buffer.from(`error forwarding port ${port} to pod ${target.podSandboxId}, uid : ${msg}`));
      }
      await Promise.all([endAndWait(data), endAndWait(error)]);
    }),
  );
  mux.close();
}
