/**
 * A CRI client over the same message definitions: what the integration tests drive the socket with, and
 * a way to script a wharf node without crictl.
 */
import * as grpc from "@grpc/grpc-js";
import { type CriServiceName, serviceDefinition } from "./codec.ts";

/** A failed call: the gRPC status code and the server's message. */
export class CriCallError extends Error {
  readonly code: number;

  constructor(code: number, message: string) {
    super(message);
    this.code = code;
  }
}

type GenericClient = grpc.Client & Record<string, grpc.requestCallback<unknown> | unknown>;

/** A connection to a CRI socket: `runtime(method, req)` and `image(method, req)` resolve with the response. */
export class CriClient {
  readonly #clients: Record<CriServiceName, GenericClient>;

  constructor(socketPath: string) {
    const make = (s: CriServiceName) => {
      const Ctor = grpc.makeGenericClientConstructor(serviceDefinition(s), s);
      return new Ctor(`unix://${socketPath}`, grpc.credentials.createInsecure(), {
        "grpc.max_receive_message_length": 16 << 20,
      }) as unknown as GenericClient;
    };
    this.#clients = { RuntimeService: make("RuntimeService"), ImageService: make("ImageService") };
  }

  #call<T>(service: CriServiceName, method: string, req: unknown, timeoutMs: number): Promise<T> {
    const c = this.#clients[service];
    const fn = c[method] as
      | ((
          r: unknown,
          m: grpc.Metadata,
          o: grpc.CallOptions,
          cb: (e: grpc.ServiceError | null, v: T) => void,
        ) => void)
      | undefined;
    if (typeof fn !== "function") return Promise.reject(new Error(`no method ${service}/${method}`));
    return new Promise<T>((resolve, reject) =>
      fn.call(c, req ?? {}, new grpc.Metadata(), { deadline: Date.now() + timeoutMs }, (err, res) =>
        err ? reject(new CriCallError(err.code, err.details || err.message)) : resolve(res),
      ),
    );
  }

  /** A RuntimeService call. */
  runtime<T = Record<string, unknown>>(
    method: string,
    req?: unknown,
    opts: { timeoutMs?: number } = {},
  ): Promise<T> {
    return this.#call<T>("RuntimeService", method, req, opts.timeoutMs ?? 60_000);
  }

  /** An ImageService call. */
  image<T = Record<string, unknown>>(
    method: string,
    req?: unknown,
    opts: { timeoutMs?: number } = {},
  ): Promise<T> {
    return this.#call<T>("ImageService", method, req, opts.timeoutMs ?? 120_000);
  }

  /** A raw call by path, for checking what an unserved method answers. */
  raw(path: string): Promise<Buffer> {
    const c = this.#clients.RuntimeService;
    return new Promise((resolve, reject) =>
      c.makeUnaryRequest(
        path,
        (b: Buffer) => b,
        (b: Buffer) => b,
        Buffer.alloc(0),
        (err, res) => (err ? reject(new CriCallError(err.code, err.details)) : resolve(res as Buffer)),
      ),
    );
  }

  close(): void {
    this.#clients.RuntimeService.close();
    this.#clients.ImageService.close();
  }
}
