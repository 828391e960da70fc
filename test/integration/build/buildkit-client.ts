/**
 * A BuildKit client of our own, speaking to the daemon as buildx's docker driver does: `/grpc` upgraded to
 * HTTP/2 for Control and LLBBridge, `/session` upgraded for the attachables the daemon calls back into (file
 * sync with a DiffCopy sender, secrets).
 */
import { randomBytes } from "node:crypto";
import { once } from "node:events";
import { connect } from "node:net";
import type { Duplex } from "node:stream";
import { receiveFiles, sendDiffCopy } from "../../../src/buildkit/fsutil.ts";
import {
  Code,
  GrpcClient,
  GrpcError,
  GrpcServer,
  type ServerCall,
  unary,
} from "../../../src/buildkit/grpc.ts";
import { ProtoReader, ProtoWriter } from "../../../src/buildkit/proto.ts";
import { ignoreMatcher } from "../../../src/util/index.ts";

/** Dials the daemon's socket and upgrades `path` to h2c, returning the raw socket after the 101. */
export function upgrade(
  socketPath: string,
  path: string,
  headers: Record<string, string | string[]> = {},
): Promise<Duplex> {
  return new Promise((resolve, reject) => {
    const s = connect(socketPath);
    s.once("error", reject);
    s.once("connect", () => {
      let extra = "";
      for (const [k, v] of Object.entries(headers)) for (const x of [v].flat()) extra += `${k}: ${x}\r\n`;
      s.write(`POST ${path} HTTP/1.1\r\nHost: docker\r\nConnection: Upgrade\r\nUpgrade: h2c\r\n${extra}\r\n`);
    });
    let buf = Buffer.alloc(0);
    const onData = (c: Buffer) => {
      buf = Buffer.concat([buf, c]);
      const end = buf.indexOf("\r\n\r\n");
      if (end < 0) return;
      s.off("data", onData);
      s.pause();
      const head = buf.subarray(0, end).toString("latin1");
      if (!/^HTTP\/1\.1 101 /.test(head)) {
        reject(new Error(`no upgrade: ${head}`));
        s.destroy();
        return;
      }
      const rest = buf.subarray(end + 4);
      if (rest.length) s.unshift(rest);
      s.off("error", reject);
      resolve(s);
    };
    s.on("data", onData);
  });
}

/** The Control API client over an upgraded `/grpc`. */
export async function controlClient(socketPath: string): Promise<GrpcClient> {
  return new GrpcClient(await upgrade(socketPath, "/grpc"));
}

/** Decoded Status stream messages. */
export interface StatusEvents {
  vertexes: { digest: string; name: string; cached: boolean; completed: boolean; error: string }[];
  logs: { vertex: string; stream: number; msg: string }[];
  statuses: { id: string; current: number }[];
}

/** Reads a build's Status stream until it ends. */
export async function readStatus(c: GrpcClient, ref: string): Promise<StatusEvents> {
  const call = c.call("/moby.buildkit.v1.Control/Status");
  await call.send(new ProtoWriter().string(1, ref).finish());
  call.end();
  const out: StatusEvents = { vertexes: [], logs: [], statuses: [] };
  for await (const m of call.messages()) {
    const r = new ProtoReader(m);
    for (const v of r.messages(1))
      out.vertexes.push({
        digest: v.string(1),
        name: v.string(3),
        cached: v.bool(4),
        completed: v.has(6),
        error: v.string(7),
      });
    for (const st of r.messages(2)) out.statuses.push({ id: st.string(1), current: st.int(4) });
    for (const l of r.messages(3))
      out.logs.push({ vertex: l.string(1), stream: l.int(3), msg: l.bytes(4).toString("utf8") });
  }
  await call.done;
  return out;
}

function metaList(h: Record<string, string | string[] | undefined>, k: string): string[] {
  const v = h[k];
  return v === undefined
    ? []
    : [v]
        .flat()
        .flatMap((x) => x.split(","))
        .map((x) => x.trim())
        .filter(Boolean);
}

/** What a session offers besides the files: secrets, SSH agents (id → agent socket), registry logins. */
export interface SessionExtras {
  secrets?: Record<string, string>;
  sshAgents?: Record<string, string>;
  credentials?: Record<string, { username: string; secret: string }>;
}

/** Carries one ForwardAgent stream to the agent's socket, as buildx's ssh provider does. */
async function forwardToAgent(call: ServerCall, agentSocket: string): Promise<void> {
  const conn = connect(agentSocket);
  await once(conn, "connect");
  const back = (async () => {
    for await (const chunk of conn) await call.send(new ProtoWriter().bytes(1, chunk as Buffer).finish());
  })();
  for await (const m of call.messages()) {
    const data = new ProtoReader(m).bytes(1);
    if (data.length && !conn.write(data)) await once(conn, "drain");
  }
  conn.end();
  await back;
}

/** A session: serves the two local dirs (and secrets) as the CLI does. Returns its id and a closer. */
export async function startSession(
  socketPath: string,
  o: { context: string; dockerfileDir: string } & SessionExtras,
): Promise<{
  id: string;
  close(): void;
  requests: Record<string, string[]>[];
  /** The hosts the daemon asked credentials for. */
  credentialHosts: string[];
  /** What the daemon exported: files by path (`local`), or the raw bytes (`tar`). */
  exported: { files?: Map<string, Buffer>; bytes?: Buffer };
}> {
  const id = randomBytes(12).toString("hex");
  const server = new GrpcServer();
  const requests: Record<string, string[]>[] = [];
  const exported: { files?: Map<string, Buffer>; bytes?: Buffer } = {};
  const credentialHosts: string[] = [];
  server.add({
    "/moby.sshforward.v1.SSH/CheckAgent": unary(async (req) => {
      const agent = new ProtoReader(req).string(1) || "default";
      if (!o.sshAgents?.[agent]) throw new GrpcError(Code.NOT_FOUND, `unset ssh forward key ${agent}`);
      return Buffer.alloc(0);
    }),
    "/moby.sshforward.v1.SSH/ForwardAgent": async (call) => {
      const agent = metaList(call.headers, "buildkit.ssh.id")[0] || "default";
      const path = o.sshAgents?.[agent];
      if (!path) throw new GrpcError(Code.NOT_FOUND, `unset ssh forward key ${agent}`);
      await forwardToAgent(call, path);
    },
    // SERVING (1), as the CLI's health server answers the daemon's checks.
    "/grpc.health.v1.Health/Check": unary(async () => new ProtoWriter().int(1, 1).finish()),
    "/moby.filesync.v1.Auth/Credentials": unary(async (req) => {
      const host = new ProtoReader(req).string(1);
      credentialHosts.push(host);
      const c = o.credentials?.[host];
      return new ProtoWriter().string(1, c?.username).string(2, c?.secret).finish();
    }),
    "/moby.filesync.v1.FileSend/DiffCopy": async (call) => {
      const msgs = call.messages();
      const first = await msgs.next();
      // A local export starts with a STAT packet (type 0, field 2), a tar one with raw bytes (field 1).
      const head = first.done ? undefined : new ProtoReader(first.value);
      if (head?.has(2)) {
        const replay = (async function* () {
          yield first.value as Buffer;
          yield* msgs;
        })();
        exported.files = await receiveFiles({ send: (m) => call.send(m), messages: () => replay });
        return;
      }
      const parts: Buffer[] = head ? [head.bytes(1)] : [];
      for await (const m of msgs) parts.push(new ProtoReader(m).bytes(1));
      exported.bytes = Buffer.concat(parts);
    },
    "/moby.filesync.v1.FileSync/DiffCopy": async (call) => {
      const dirName = metaList(call.headers, "dir-name")[0];
      const include = metaList(call.headers, "include-patterns");
      const exclude = metaList(call.headers, "exclude-patterns");
      requests.push({ dir: [dirName], include, exclude });
      const root = dirName === "dockerfile" ? o.dockerfileDir : o.context;
      const ex = exclude.length ? ignoreMatcher(exclude) : undefined;
      await sendDiffCopy(call, root, {
        filter: (rel, isDir) => {
          if (include.length && !include.some((p) => p === rel || (isDir && p.startsWith(`${rel}/`))))
            return false;
          return !ex?.ignores(rel);
        },
      });
    },
    "/moby.buildkit.secrets.v1.Secrets/GetSecret": unary(async (req) => {
      const key = new ProtoReader(req).string(1);
      const v = o.secrets?.[key];
      if (v === undefined) throw new Error(`secret ${key} not found`);
      return new ProtoWriter().bytes(1, Buffer.from(v)).finish();
    }),
  });
  const methods = [
    "/moby.filesync.v1.FileSync/DiffCopy",
    "/moby.filesync.v1.FileSend/DiffCopy",
    "/moby.buildkit.secrets.v1.Secrets/GetSecret",
    "/moby.sshforward.v1.SSH/CheckAgent",
    "/moby.sshforward.v1.SSH/ForwardAgent",
    "/moby.filesync.v1.Auth/Credentials",
    "/grpc.health.v1.Health/Check",
  ];
  const sock = await upgrade(socketPath, "/session", {
    "X-Docker-Expose-Session-Uuid": id,
    "X-Docker-Expose-Session-Name": "test",
    "X-Docker-Expose-Session-Sharedkey": "k",
    "X-Docker-Expose-Session-Grpc-Method": methods,
  });
  server.serve(sock);
  return { id, close: () => sock.destroy(), requests, credentialHosts, exported };
}

/** Control.Solve as buildx sends it: no frontend (the client's gateway drives it), exporter moby. */
export function controlSolve(o: {
  ref: string;
  session: string;
  names?: string;
  exporter?: string;
  frontend?: string;
  frontendAttrs?: Record<string, string>;
}): Buffer {
  return new ProtoWriter()
    .string(1, o.ref)
    .string(3, o.exporter ?? "moby")
    .map(4, o.names ? { name: o.names } : {})
    .string(5, o.session)
    .string(6, o.frontend)
    .map(7, o.frontendAttrs ?? {})
    .finish();
}

/** LLBBridge.Solve for the Dockerfile frontend. */
export function gatewaySolve(frontendOpt: Record<string, string>): Buffer {
  return new ProtoWriter().string(2, "dockerfile.v0").map(3, frontendOpt).int(5, true).int(6, true).finish();
}

/** The ref id of a gateway SolveResponse. */
export function resultRef(resp: Buffer): string {
  return new ProtoReader(resp).message(3)?.message(3)?.string(1) ?? "";
}

/** A ReturnRequest with the ref, or with an error. */
export function returnRequest(o: { ref?: string; error?: string }): Buffer {
  const w = new ProtoWriter();
  if (o.ref !== undefined) w.message(1, new ProtoWriter().message(3, new ProtoWriter().string(1, o.ref)));
  if (o.error) w.message(2, new ProtoWriter().int(1, 2).string(2, o.error));
  return w.finish();
}

/**
 * Starts a build of `context` and walks away from it, as a client that dies mid-build: once a Status message
 * satisfies `gone`, the session and the control connection close without a Return.
 */
export async function abandonBuild(
  socketPath: string,
  context: string,
  gone: (status: ProtoReader) => boolean,
): Promise<void> {
  const s = await startSession(socketPath, { context, dockerfileDir: context });
  const c = await controlClient(socketPath);
  const ref = randomBytes(12).toString("hex");
  try {
    const status = c.call("/moby.buildkit.v1.Control/Status");
    await status.send(new ProtoWriter().string(1, ref).finish());
    status.end();
    c.unary("/moby.buildkit.v1.Control/Solve", controlSolve({ ref, session: s.id })).catch(() => undefined);
    const md = { "buildkit-controlapi-buildid": ref };
    c.unary("/moby.buildkit.v1.frontend.LLBBridge/Solve", gatewaySolve({}), md).catch(() => undefined);
    for await (const m of status.messages()) if (gone(new ProtoReader(m))) break;
  } finally {
    s.close();
    c.close();
  }
}

/** Runs a whole build as buildx does: Status, Control.Solve, Ping, LLBBridge.Solve, Return. */
export async function buildkitBuild(
  socketPath: string,
  o: {
    context: string;
    dockerfileDir?: string;
    names?: string;
    frontendOpt?: Record<string, string>;
    exporter?: string;
  } & SessionExtras,
): Promise<{
  exporterResponse: Record<string, string>;
  credentialHosts: string[];
  status: StatusEvents;
  error?: string;
  exported: { files?: Map<string, Buffer>; bytes?: Buffer };
}> {
  const c = await controlClient(socketPath);
  const s = await startSession(socketPath, {
    context: o.context,
    dockerfileDir: o.dockerfileDir ?? o.context,
    secrets: o.secrets,
    sshAgents: o.sshAgents,
    credentials: o.credentials,
  });
  const ref = randomBytes(12).toString("hex");
  try {
    const status = readStatus(c, ref);
    const solve = c.unary(
      "/moby.buildkit.v1.Control/Solve",
      controlSolve({ ref, session: s.id, names: o.names, exporter: o.exporter }),
    );
    solve.catch(() => undefined);
    const md = { "buildkit-controlapi-buildid": ref };
    await c.unary("/moby.buildkit.v1.frontend.LLBBridge/Ping", Buffer.alloc(0), md);
    let ret: Buffer;
    try {
      const res = await c.unary(
        "/moby.buildkit.v1.frontend.LLBBridge/Solve",
        gatewaySolve({ filename: "Dockerfile", ...o.frontendOpt }),
        md,
      );
      ret = returnRequest({ ref: resultRef(res) });
    } catch (e) {
      ret = returnRequest({ error: (e as Error).message });
    }
    await c.unary("/moby.buildkit.v1.frontend.LLBBridge/Return", ret, md);
    try {
      const resp = await solve;
      const exporterResponse = new ProtoReader(resp).map(1);
      return {
        exporterResponse,
        status: await status,
        exported: s.exported,
        credentialHosts: s.credentialHosts,
      };
    } catch (e) {
      return {
        exporterResponse: {},
        status: await status,
        error: (e as Error).message,
        exported: s.exported,
        credentialHosts: s.credentialHosts,
      };
    }
  } finally {
    s.close();
    c.close();
  }
}
