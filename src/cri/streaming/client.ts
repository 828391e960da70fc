/**
 * A client of streaming URLs, as client-go's SPDY executor and port-forwarder drive them: used by our tests
 * (and by the CRI tests that check exec, attach and port-forward end to end). It opens the streams in
 * client-go's order and reads the error stream's status the way client-go decodes it.
 */
import type { Socket } from "node:net";
import type { Readable } from "node:stream";
import { nodeHttp } from "../../util/index.ts";
import type { TerminalSize } from "../stream-runtime.ts";
import { protocolVersion, spdyRemoteCommandProtocols } from "./remotecommand.ts";
import type { Frame } from "./spdy/frames.ts";
import type { SpdyHeaders } from "./spdy/headers.ts";
import { SpdySession, type SpdyStream } from "./spdy/session.ts";
import type { KubeStatus } from "./status.ts";

/** The server refused the upgrade. */
export class StreamDialError extends Error {
  override name = "StreamDialError";
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  constructor(status: number, body: string, headers: Record<string, string | string[] | undefined>) {
    super(`upgrade refused: ${status} ${body.trim()}`);
    this.status = status;
    this.headers = headers;
  }
}

/** Upgrades `url` to SPDY/3.1 offering `protocols`; resolves with the session and the protocol chosen. */
export function dialSpdy(
  url: string,
  protocols: string[],
): Promise<{ session: SpdySession; protocol: string }> {
  return new Promise((resolve, reject) => {
    const req = nodeHttp().request(url, {
      method: "POST",
      headers: {
        Connection: "Upgrade",
        Upgrade: "SPDY/3.1",
        "X-Stream-Protocol-Version": protocols,
        "Content-Length": "0",
      },
    });
    req.on("upgrade", (res, socket: Socket, head) => {
      const protocol = String(res.headers["x-stream-protocol-version"] ?? "");
      resolve({ session: new SpdySession(socket, { role: "client", head }), protocol });
    });
    req.on("response", (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (c: string) => {
        body += c;
      });
      res.on("end", () => reject(new StreamDialError(res.statusCode ?? 0, body, res.headers)));
    });
    req.on("error", reject);
    req.end();
  });
}

function headers(entries: Record<string, string>): SpdyHeaders {
  return new Map(Object.entries(entries).map(([k, v]) => [k.toLowerCase(), [v]]));
}

async function collect(stream: Readable | undefined): Promise<Buffer> {
  if (!stream) return Buffer.alloc(0);
  const parts: Buffer[] = [];
  try {
    for await (const c of stream) parts.push(c as Buffer);
  } catch {
    // A reset ends what there is.
  }
  return Buffer.concat(parts);
}

/** What a remotecommand session gave back. */
export interface RemoteCommandResult {
  protocol: string;
  stdout: Buffer;
  stderr: Buffer;
  /** The error stream: a Status from v4 on, else its text (empty on success). */
  status: KubeStatus | string;
  /** 0 on success, the command's code on NonZeroExitCode, -1 on any other failure. */
  exitCode: number;
  /** Every control frame the server sent (DATA frames left out). */
  frames: Exclude<Frame, { type: "data" }>[];
}

/** Options of runRemoteCommand: which streams to open, and what to send. */
export interface RemoteCommandOptions {
  stdin?: Readable | Buffer | string;
  stdout?: boolean;
  stderr?: boolean;
  tty?: boolean;
  resize?: TerminalSize[];
  protocols?: string[];
}

/** Runs an exec or attach URL to its end over SPDY. */
export async function runRemoteCommand(
  url: string,
  opts: RemoteCommandOptions,
): Promise<RemoteCommandResult> {
  const { session, protocol } = await dialSpdy(url, opts.protocols ?? spdyRemoteCommandProtocols);
  const version = protocolVersion(protocol);
  const frames: RemoteCommandResult["frames"] = [];
  session.on("frame", (f) => {
    if (f.type !== "data") frames.push(f);
  });
  const open = (type: string) => session.openStream(headers({ streamType: type }));
  try {
    const error = open("error");
    const stdin = opts.stdin !== undefined ? open("stdin") : undefined;
    const stdout = opts.stdout ? open("stdout") : undefined;
    const stderr = opts.stderr && !opts.tty ? open("stderr") : undefined;
    const resize = opts.tty && version >= 3 ? open("resize") : undefined;
    const opened = [error, stdin, stdout, stderr, resize].filter((s): s is SpdyStream => !!s);
    await Promise.all(opened.map((s) => s.replyReceived()));
    // Like client-go, never half-close the streams only read (error, stdout, stderr): the server must not
    // wait on their FIN.
    if (resize) {
      for (const size of opts.resize ?? [])
        resize.write(`${JSON.stringify({ Width: size.width, Height: size.height })}\n`);
    }
    if (stdin) {
      const input = opts.stdin!;
      if (typeof input === "string" || Buffer.isBuffer(input)) stdin.end(input);
      else input.pipe(stdin);
    }
    const [out, err, status] = await Promise.all([collect(stdout), collect(stderr), collect(error)]);
    return { protocol, stdout: out, stderr: err, ...decodeStatus(status, version), frames };
  } finally {
    await session.close();
  }
}

/** client-go's error decoders: v4's Status JSON, or earlier versions' text. */
export function decodeStatus(
  bytes: Buffer,
  version: number,
): { status: KubeStatus | string; exitCode: number } {
  const text = bytes.toString("utf8");
  if (version < 4) return { status: text, exitCode: text === "" ? 0 : -1 };
  if (text === "") return { status: text, exitCode: 0 };
  const status = JSON.parse(text) as KubeStatus;
  if (status.status === "Success") return { status, exitCode: 0 };
  if (status.reason === "NonZeroExitCode") {
    const cause = status.details?.causes.find((c) => c.reason === "ExitCode");
    return { status, exitCode: cause ? Number(cause.message) : -1 };
  }
  return { status, exitCode: -1 };
}

/** One forwarded connection over a port-forward session: its data stream and what the error stream said. */
export interface ForwardedConnection {
  data: SpdyStream;
  /** Resolves with the error stream's text (empty when none) once the server closed it. */
  error: Promise<string>;
}

/** Opens a forwarded connection to `port` on a portforward.k8s.io session, as client-go does per accept. */
export async function forwardPort(
  session: SpdySession,
  port: number,
  requestId: number,
): Promise<ForwardedConnection> {
  const h = { streamType: "error", port: String(port), requestID: String(requestId) };
  const error = session.openStream(headers(h));
  await error.replyReceived();
  error.end();
  const errorText = collect(error).then((b) => b.toString("utf8"));
  const data = session.openStream(headers({ ...h, streamType: "data" }));
  await data.replyReceived();
  return { data, error: errorText };
}
