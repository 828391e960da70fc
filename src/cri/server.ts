/**
 * The CRI gRPC server: grpc-js on a unix socket, with the two services' handlers. A method without a
 * handler answers UNIMPLEMENTED, as containerd 1.6 does for the methods a newer kubelet adds.
 */
import { chmod, mkdir, unlink } from "node:fs/promises";
import { dirname } from "node:path";
import * as grpc from "@grpc/grpc-js";
import { type ErrorKind, WharfError } from "../errdefs/index.ts";
import { log } from "../util/index.ts";
import { type CriServiceName, serviceDefinition } from "./codec.ts";

/** A unary handler: the decoded request in, the response object out (errors become gRPC statuses). */
export type Handler = (req: never) => Promise<unknown> | unknown;

/** Handlers by service and method name; methods left out answer UNIMPLEMENTED. */
export type CriHandlers = Record<CriServiceName, Record<string, Handler>>;

/** An error with an explicit gRPC status code, for answers errdefs has no kind for. */
export class GrpcStatusError extends Error {
  readonly code: grpc.status;

  constructor(code: grpc.status, message: string) {
    super(message);
    this.code = code;
  }
}

const KIND_CODES: Partial<Record<ErrorKind, grpc.status>> = {
  NotFound: grpc.status.NOT_FOUND,
  InvalidParameter: grpc.status.INVALID_ARGUMENT,
  Conflict: grpc.status.FAILED_PRECONDITION,
  NotModified: grpc.status.FAILED_PRECONDITION,
  Unauthorized: grpc.status.UNAUTHENTICATED,
  Forbidden: grpc.status.PERMISSION_DENIED,
  Unavailable: grpc.status.UNAVAILABLE,
  NotImplemented: grpc.status.UNIMPLEMENTED,
};

/** The gRPC status of an error: errdefs kinds mapped once here; anything else is UNKNOWN, as containerd's. */
export function statusOf(e: unknown): { code: grpc.status; details: string } {
  const details = e instanceof Error ? e.message : String(e);
  if (e instanceof GrpcStatusError) return { code: e.code, details };
  if (e instanceof WharfError) return { code: KIND_CODES[e.kind] ?? grpc.status.UNKNOWN, details };
  return { code: grpc.status.UNKNOWN, details };
}

function unary(service: string, method: string, fn: Handler): grpc.handleUnaryCall<unknown, unknown> {
  return (call, callback) => {
    Promise.resolve()
      .then(() => (fn as (r: unknown) => unknown)(call.request))
      .then(
        (res) => callback(null, res ?? {}),
        (e: unknown) => {
          const st = statusOf(e);
          if (st.code === grpc.status.UNKNOWN)
            log("warn", "cri: request failed", { method, service, err: e });
          callback({ code: st.code, details: st.details, name: "", message: st.details });
        },
      );
  };
}

/** The CRI server: `listen` binds the unix socket (mode 0600), `close` stops it and removes the socket. */
export class CriServer {
  readonly #server: grpc.Server;
  #path: string | undefined;

  constructor(handlers: CriHandlers) {
    // Images and exec output can exceed grpc's 4 MiB default; containerd accepts 16 MiB.
    this.#server = new grpc.Server({
      "grpc.max_receive_message_length": 16 << 20,
      "grpc.max_send_message_length": 16 << 20,
    });
    for (const service of ["RuntimeService", "ImageService"] as const) {
      const def = serviceDefinition(service);
      const served: Record<string, grpc.MethodDefinition<unknown, unknown>> = {};
      const impl: grpc.UntypedServiceImplementation = {};
      for (const [name, fn] of Object.entries(handlers[service])) {
        const m = def[name];
        if (!m) throw new Error(`cri: no method ${service}/${name}`);
        served[name] = m;
        impl[name] = unary(service, name, fn);
      }
      this.#server.addService(served, impl);
    }
  }

  /** Serves on the unix socket at `path` (a stale socket file there is replaced). */
  async listen(path: string): Promise<void> {
    await mkdir(dirname(path), { recursive: true });
    await unlink(path).catch(() => undefined);
    await new Promise<void>((resolve, reject) =>
      this.#server.bindAsync(`unix://${path}`, grpc.ServerCredentials.createInsecure(), (err) =>
        err ? reject(err) : resolve(),
      ),
    );
    // Whoever reaches this socket runs pods as root: as containerd's, it is root's alone.
    await chmod(path, 0o600);
    this.#path = path;
  }

  /** Stops accepting calls, ends those under way, and removes the socket. */
  async close(): Promise<void> {
    await new Promise<void>((resolve) => {
      const t = setTimeout(() => {
        this.#server.forceShutdown();
        resolve();
      }, 2000);
      this.#server.tryShutdown(() => {
        clearTimeout(t);
        resolve();
      });
    });
    if (this.#path) await unlink(this.#path).catch(() => undefined);
  }
}
