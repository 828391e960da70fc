/**
 * Port-forward over SPDY (subprotocol portforward.k8s.io), as kubelet serves it: for each forwarded
 * connection the client opens an error stream and a data stream with the same requestID and port headers;
 * once both are there the data stream is joined to the port inside the pod. Failures are written as text on
 * the error stream, which the client reads to its end after the data stream.
 */
import type { StreamRuntime } from "../stream-runtime.ts";
import { endAndWait } from "./remotecommand.ts";
import { RstStatus } from "./spdy/frames.ts";
import type { SpdySession, SpdyStream } from "./spdy/session.ts";

/** The port-forward subprotocols we accept. */
export const spdyPortForwardProtocols = ["portforward.k8s.io"];

interface Pair {
  data?: SpdyStream;
  error?: SpdyStream;
  timer: NodeJS.Timeout;
}

/** The port a stream's header names, or an error text as kubelet's httpStreamReceived words it. */
function checkStream(s: SpdyStream): { port: number } | { error: string } {
  const portText = s.header("port");
  if (!portText) return { error: `"port" header is required` };
  const port = /^\d{1,5}$/.test(portText) ? Number(portText) : Number.NaN;
  if (!(port >= 1 && port <= 65535)) return { error: `unable to parse "${portText}" as a port` };
  const type = s.header("streamtype");
  if (!type) return { error: `"streamType" header is required` };
  if (type !== "error" && type !== "data") return { error: `invalid stream type "${type}"` };
  return { port };
}

/** kubelet's fallback for clients without requestID: error stream id, or data stream id - 2. */
function requestId(s: SpdyStream): string {
  const id = s.header("requestid");
  if (id) return id;
  return String(s.header("streamtype") === "error" ? s.id : s.id - 2);
}

/** Serves port-forward streams on `session` until it closes. */
export function serveSpdyPortForward(
  session: SpdySession,
  runtime: StreamRuntime,
  podSandboxId: string,
  streamCreationTimeoutMs: number,
): Promise<void> {
  const pairs = new Map<string, Pair>();
  session.on("stream", (s) => {
    const checked = checkStream(s);
    if ("error" in checked) {
      s.reset(RstStatus.ProtocolError);
      return;
    }
    s.reply();
    const id = requestId(s);
    let pair = pairs.get(id);
    if (!pair) {
      const timer = setTimeout(() => {
        pairs.delete(id);
        const p = pair!;
        if (p.error) {
          p.error.end(`(request=${id}) timed out waiting for streams`);
        }
        p.data?.reset();
      }, streamCreationTimeoutMs);
      timer.unref();
      pair = { timer };
      pairs.set(id, pair);
    }
    const kind = s.header("streamtype") as "data" | "error";
    if (pair[kind]) {
      const msg = `error processing stream for request ${id}: ${kind} stream already assigned`;
      if (pair.error && !pair.error.writableEnded) pair.error.write(msg);
      s.reset(RstStatus.ProtocolError);
      return;
    }
    pair[kind] = s;
    if (!pair.data || !pair.error) return;
    clearTimeout(pair.timer);
    pairs.delete(id);
    void forward(runtime, podSandboxId, checked.port, pair.data, pair.error);
  });
  return session.closed;
}

async function forward(
  runtime: StreamRuntime,
  podSandboxId: string,
  port: number,
  data: SpdyStream,
  error: SpdyStream,
): Promise<void> {
  // The client never writes on the error stream, and half-closes it at once: drain it.
  error.resume();
  try {
    await runtime.portForward(podSandboxId, port, data);
  } catch (e) {
    const msg = e instanceof Error ? e.message : String(e);
    if (!error.gone) error.write(`error forwarding port ${port} to pod ${podSandboxId}, uid : ${msg}`);
  }
  await Promise.all([endAndWait(data), endAndWait(error)]);
}
