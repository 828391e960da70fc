/**
 * Client sessions (`POST /session`): the CLI serves its attachables (file sync, secrets, auth) over gRPC on the
 * upgraded socket, and the daemon calls into them while it builds. Sessions are found by the UUID the CLI sends
 * and names in Control.Solve.
 */

import { once } from "node:events";
import type { IncomingHttpHeaders } from "node:http";
import type { Duplex } from "node:stream";
import { type GrpcClient as Client, Code, GrpcClient, GrpcError } from "./grpc.ts";
import { ProtoReader, ProtoWriter } from "./proto.ts";

/** One connected session. */
export interface Session {
  readonly id: string;
  readonly name: string;
  readonly sharedKey: string;
  /** The gRPC methods the CLI serves on it. */
  readonly methods: Set<string>;
  readonly client: Client;
}

/** Method names of the attachables wharf calls. */
export const SessionMethod = {
  diffCopy: "/moby.filesync.v1.FileSync/DiffCopy",
  fileSend: "/moby.filesync.v1.FileSend/DiffCopy",
  getSecret: "/moby.buildkit.secrets.v1.Secrets/GetSecret",
  health: "/grpc.health.v1.Health/Check",
  sshCheck: "/moby.sshforward.v1.SSH/CheckAgent",
  sshForward: "/moby.sshforward.v1.SSH/ForwardAgent",
  credentials: "/moby.filesync.v1.Auth/Credentials",
} as const;

function header(h: IncomingHttpHeaders, name: string): string[] {
  const v = h[name];
  if (v === undefined) return [];
  return (Array.isArray(v) ? v : [v])
    .flatMap((x) => x.split(","))
    .map((x) => x.trim())
    .filter(Boolean);
}

/** The sessions clients hold open, and waiters for ones not connected yet. */
export class SessionManager {
  readonly #sessions = new Map<string, Session>();
  readonly #waiters = new Map<string, ((s: Session) => void)[]>();

  /** Takes over an upgraded `/session` socket. */
  attach(socket: Duplex, headers: IncomingHttpHeaders): Session {
    const id = header(headers, "x-docker-expose-session-uuid")[0];
    if (!id) throw new GrpcError(Code.INVALID_ARGUMENT, "no session id");
    const client = new GrpcClient(socket);
    const s: Session = {
      id,
      name: header(headers, "x-docker-expose-session-name")[0] ?? "",
      sharedKey: header(headers, "x-docker-expose-session-sharedkey")[0] ?? "",
      methods: new Set(header(headers, "x-docker-expose-session-grpc-method")),
      client,
    };
    this.#sessions.set(id, s);
    const stopHealth = s.methods.has(SessionMethod.health) ? monitorHealth(s) : () => undefined;
    void client.closed.then(() => {
      stopHealth();
      if (this.#sessions.get(id) === s) this.#sessions.delete(id);
    });
    for (const w of this.#waiters.get(id) ?? []) w(s);
    this.#waiters.delete(id);
    return s;
  }

  /** The session with this id, waiting a while for the CLI to connect it. */
  get(id: string, opts: { timeoutMs?: number; signal?: AbortSignal } = {}): Promise<Session> {
    const s = this.#sessions.get(id);
    if (s) return Promise.resolve(s);
    return new Promise((resolve, reject) => {
      const list = this.#waiters.get(id) ?? [];
      const done = (x: Session) => {
        clearTimeout(timer);
        resolve(x);
      };
      const timer = setTimeout(() => {
        const l = this.#waiters.get(id);
        if (l)
          this.#waiters.set(
            id,
            l.filter((w) => w !== done),
          );
        reject(new GrpcError(Code.NOT_FOUND, `no active session for ${id}: context deadline exceeded`));
      }, opts.timeoutMs ?? 10_000);
      opts.signal?.addEventListener("abort", () => {
        clearTimeout(timer);
        reject(new GrpcError(Code.CANCELLED, "context canceled"));
      });
      list.push(done);
      this.#waiters.set(id, list);
    });
  }

  /** Closes every session (daemon shut-down). */
  closeAll(): void {
    for (const s of this.#sessions.values()) s.client.close();
    this.#sessions.clear();
  }
}

const HEALTH_INTERVAL_MS = 5_000;
const HEALTH_TIMEOUT_MS = 10_000;
const HEALTH_FAILURES = 3;

/**
 * Checks a session with grpc.health.v1 Health/Check, as BuildKit's session manager does, and closes it after
 * a few checks in a row failed or went unanswered: a client that hangs with its socket open then fails its
 * builds instead of holding them forever. Returns the stopper.
 */
function monitorHealth(s: Session): () => void {
  let failures = 0;
  let busy = false;
  const timer = setInterval(() => {
    if (busy) return;
    busy = true;
    const call = s.client.call(SessionMethod.health);
    const deadline = setTimeout(() => call.cancel(), HEALTH_TIMEOUT_MS);
    void (async () => {
      await call.send(Buffer.alloc(0));
      call.end();
      let serving = true;
      for await (const m of call.messages()) serving = new ProtoReader(m).int(1) === 1;
      await call.done;
      return serving;
    })()
      .then(
        (serving) => {
          failures = serving ? 0 : failures + 1;
        },
        () => {
          failures++;
        },
      )
      .finally(() => {
        clearTimeout(deadline);
        busy = false;
        if (failures >= HEALTH_FAILURES) s.client.close();
      });
  }, HEALTH_INTERVAL_MS);
  timer.unref();
  return () => clearInterval(timer);
}

/** Asks the session for a secret (`--secret id=...`); NotFound when the CLI has none by that id. */
export async function getSecret(s: Session, id: string): Promise<Buffer> {
  if (!s.methods.has(SessionMethod.getSecret))
    throw new GrpcError(Code.NOT_FOUND, `secret ${id} not found: the client offers no secrets`);
  const resp = await s.client.unary(SessionMethod.getSecret, new ProtoWriter().string(1, id).finish());
  return new ProtoReader(resp).bytes(1);
}

/**
 * `RUN --mount=type=ssh`: whether the client forwards an agent by this id (`--ssh id=...`; BuildKit asks
 * CheckAgent first), and then a function carrying one connection of the step's to that agent over
 * ForwardAgent, the agent's id in the call's `buildkit.ssh.id` metadata.
 */
export async function sshAgent(s: Session, id: string): Promise<((conn: Duplex) => void) | undefined> {
  if (!s.methods.has(SessionMethod.sshCheck) || !s.methods.has(SessionMethod.sshForward)) return undefined;
  try {
    await s.client.unary(SessionMethod.sshCheck, new ProtoWriter().string(1, id).finish());
  } catch {
    return undefined;
  }
  return (conn) => forwardAgent(s, id, conn);
}

function forwardAgent(s: Session, id: string, conn: Duplex): void {
  const call = s.client.call(SessionMethod.sshForward, { "buildkit.ssh.id": id });
  conn.on("error", () => call.cancel());
  conn.on("data", (data: Buffer) => {
    conn.pause();
    call.send(new ProtoWriter().bytes(1, data).finish()).then(
      () => conn.resume(),
      () => conn.destroy(),
    );
  });
  conn.on("end", () => call.end());
  void (async () => {
    try {
      for await (const m of call.messages()) {
        const data = new ProtoReader(m).bytes(1);
        if (data.length && !conn.write(data)) await once(conn, "drain");
      }
      conn.end();
    } catch {
      conn.destroy();
    }
  })();
  call.done.catch(() => conn.destroy());
}

/** Registry credentials the client holds for `host` (its docker config), or undefined when it has none. */
export async function credentials(
  s: Session,
  host: string,
): Promise<{ username: string; secret: string } | undefined> {
  if (!s.methods.has(SessionMethod.credentials)) return undefined;
  const r = new ProtoReader(
    await s.client.unary(SessionMethod.credentials, new ProtoWriter().string(1, host).finish()),
  );
  const username = r.string(1);
  const secret = r.string(2);
  return username || secret ? { username, secret } : undefined;
}
