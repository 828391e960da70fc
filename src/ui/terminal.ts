// The browser's terminal: a WebSocket bridged to an exec with a TTY, hijacked from the daemon the way
// `wharf exec -it` does it. Binary messages carry keystrokes and output; text messages carry resizes.
import type { IncomingMessage } from "node:http";
import type { Duplex } from "node:stream";
import { type WebSocket, WebSocketServer } from "ws";
import type { EngineClient } from "../client/index.ts";

// Prefer bash where the image has it, as the shells of other dashboards do.
const SHELL = ["/bin/sh", "-c", "command -v bash >/dev/null 2>&1 && exec bash || exec sh"];

function size(v: string | null, def: number): number {
  const n = Number(v);
  return Number.isInteger(n) && n > 0 && n < 1000 ? n : def;
}

/** A resize message from the page. */
interface ResizeMessage {
  type: "resize";
  cols: number;
  rows: number;
}

function parseResize(text: string): ResizeMessage | undefined {
  try {
    const m = JSON.parse(text) as Partial<ResizeMessage>;
    if (m.type === "resize" && typeof m.cols === "number" && typeof m.rows === "number") {
      return { type: "resize", cols: size(String(m.cols), 80), rows: size(String(m.rows), 24) };
    }
  } catch {
    // Not ours: ignored.
  }
  return undefined;
}

async function bridge(client: EngineClient, ws: WebSocket, url: URL): Promise<void> {
  const container = url.searchParams.get("container") ?? "";
  const cols = size(url.searchParams.get("cols"), 80);
  const rows = size(url.searchParams.get("rows"), 24);
  const { Id: execId } = await client.execCreate(container, {
    AttachStdin: true,
    AttachStdout: true,
    AttachStderr: true,
    Tty: true,
    ConsoleSize: [rows, cols],
    Env: ["TERM=xterm-256color"],
    Cmd: SHELL,
  });
  const stream = (await client.execStart(execId, { Tty: true, ConsoleSize: [rows, cols] })) as Duplex;
  stream.on("data", (chunk: Buffer) => {
    if (ws.readyState === ws.OPEN) ws.send(chunk, { binary: true });
  });
  stream.on("close", () => ws.close(1000, "exited"));
  stream.on("error", () => ws.close(1011, "exec stream failed"));
  ws.on("message", (data: Buffer, isBinary: boolean) => {
    if (isBinary) {
      if (typeof stream.write === "function") stream.write(data);
      return;
    }
    const r = parseResize(data.toString("utf8"));
    if (r) client.execResize(execId, { h: r.rows, w: r.cols }).catch(() => {});
  });
  ws.on("close", () => stream.destroy());
}

/** Upgrades terminal requests (already let through by the guard) to bridged WebSockets. */
export class TerminalServer {
  readonly #wss = new WebSocketServer({ noServer: true, maxPayload: 1 << 20 });
  readonly #client: EngineClient;

  constructor(client: EngineClient) {
    this.#client = client;
  }

  /** Takes over an upgrade request's socket. */
  handle(req: IncomingMessage, socket: Duplex, opts: { head: Buffer; url: URL }): void {
    this.#wss.handleUpgrade(req, socket, opts.head, (ws) => {
      bridge(this.#client, ws, opts.url).catch((err: unknown) => {
        const msg = err instanceof Error ? err.message : String(err);
        if (ws.readyState === ws.OPEN) ws.send(`\r\n${msg}\r\n`);
        ws.close(1011, msg.slice(0, 120));
      });
    });
  }

  /** Closes every open terminal. */
  close(): void {
    for (const ws of this.#wss.clients) ws.terminate();
    this.#wss.close();
  }
}
