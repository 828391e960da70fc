/**
 * BuildKit's control API as buildx drives it: Control.Solve names the exporter and the session, the client's
 * own gateway (LLBBridge, correlated by the `buildkit-controlapi-buildid` header) asks for the Dockerfile
 * frontend and returns its result, and Control.Solve then exports it. Status streams the build's vertices.
 */
import { randomBytes } from "node:crypto";
import { hostname } from "node:os";
import type { Duplex, Readable } from "node:stream";
import { fullString, parseNamed } from "../image/index.ts";
import { ociArch } from "../util/index.ts";
import { checkFrontend, type FrontendBuilder, solveDockerfile } from "./frontend.ts";
import { sendDiffCopy } from "./fsutil.ts";
import { Code, GrpcError, GrpcServer, type MethodHandler, type ServerCall, unary } from "./grpc.ts";
import {
  type ControlSolveRequest,
  decodeControlSolve,
  decodeGatewaySolve,
  decodePrune,
  decodeReturn,
  encodeControlSolveResponse,
  encodeDiskUsage,
  encodeGatewaySolveResponse,
  encodeListWorkers,
  encodePong,
  encodeStatus,
  encodeUsage,
  encodeVersion,
  type ReturnRequest,
  type StatusUpdate,
  type UsageRecord,
  type WorkerInfo,
} from "./messages.ts";
import { Progress } from "./progress.ts";
import { ProtoReader, ProtoWriter } from "./proto.ts";
import { SessionManager, SessionMethod } from "./session.ts";

/** What the BuildKit front end needs of the daemon: the builder, its cache, and tagging. */
export interface BuildkitBackend extends FrontendBuilder {
  /** Tags an image with a full reference; throws for a reference Docker would refuse. */
  tag(imageId: string, ref: string): Promise<void>;
  /** The build cache's records: key and image. */
  cacheRecords(): Promise<{ key: string; imageId: string; size: number; created: number }[]>;
  prune(opts: { all: boolean }): Promise<{ CachesDeleted: string[]; SpaceReclaimed: number }>;
  /** Runs `fn` on the image's root filesystem, mounted read-only (the local and tar exporters). */
  withRootfs<T>(imageId: string, fn: (dir: string) => Promise<T>): Promise<T>;
  /** A tar of a directory tree, owners and modes kept. */
  tarDir(dir: string): Promise<Readable>;
}

/** The BuildKit version wharf reports (the protocol level it speaks). */
export const BUILDKIT_VERSION = "v0.11.6";

const FRONTEND_CAPS = [
  "solve.base",
  "solve.inlinereturn",
  "resolveimage",
  "readfile",
  "return",
  "returnmap",
  "proto.refarray",
  "reference.output",
  "frontend.inputs",
  "gateway.solve.metadata",
];
const LLB_CAPS = [
  "source.image",
  "source.local",
  "source.local.unique",
  "source.local.sessionid",
  "source.local.includepatterns",
  "source.local.followpaths",
  "source.local.excludepatterns",
  "source.local.sharedkeyhint",
  "exec.meta.base",
  "exec.mount.bind",
  "exec.mount.cache",
  "exec.mount.tmpfs",
  "exec.mount.secret",
  "constraints",
  "platform",
  "meta.ignorecache",
  "meta.description",
];

interface Deferred<T> {
  promise: Promise<T>;
  resolve(v: T): void;
}

function deferred<T>(): Deferred<T> {
  let resolve!: (v: T) => void;
  const promise = new Promise<T>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

/** One build, from whichever of its calls arrives first until a while after Control.Solve answers. */
interface BuildRecord {
  ref: string;
  progress: Progress;
  control: Deferred<ControlSolveRequest>;
  returned: Deferred<ReturnRequest>;
  /** Result refs the gateway handed out, to the image each names. */
  results: Map<string, string>;
  abort: AbortController;
  /** Whether Control.Solve has claimed the record (it then removes it). */
  claimed: boolean;
}

function aborted(signal: AbortSignal): Promise<never> {
  return new Promise((_, reject) => {
    const fail = () => reject(new GrpcError(Code.CANCELLED, "context canceled"));
    if (signal.aborted) fail();
    else signal.addEventListener("abort", fail, { once: true });
  });
}

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    p,
    new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new GrpcError(Code.NOT_FOUND, `${what}: context deadline exceeded`)),
        ms,
      );
    }),
  ]).finally(() => clearTimeout(timer));
}

/** Serves `/grpc` (Control, LLBBridge) and `/session` for the daemon. */
export class BuildkitService {
  readonly #backend: BuildkitBackend;
  readonly #server = new GrpcServer();
  readonly #builds = new Map<string, BuildRecord>();
  /** The client sessions builds read their inputs from. */
  readonly sessions = new SessionManager();

  constructor(backend: BuildkitBackend) {
    this.#backend = backend;
    this.#server.add(this.#control());
    this.#server.add(this.#gateway());
  }

  /** Speaks gRPC on an upgraded `/grpc` socket. */
  serveControl(socket: Duplex): void {
    this.#server.serve(socket);
  }

  /** Takes an upgraded `/session` socket as the session its headers name. */
  serveSession(socket: Duplex, headers: Record<string, string | string[] | undefined>): void {
    this.sessions.attach(socket, headers);
  }

  /** Ends every session (daemon shut-down); running builds see their inputs go. */
  close(): void {
    for (const b of this.#builds.values()) b.abort.abort();
    this.sessions.closeAll();
  }

  #record(ref: string): BuildRecord {
    let r = this.#builds.get(ref);
    if (!r) {
      r = {
        ref,
        progress: new Progress(ref),
        control: deferred(),
        returned: deferred(),
        results: new Map(),
        abort: new AbortController(),
        claimed: false,
      };
      this.#builds.set(ref, r);
      // A record no Control.Solve ever claims (a client that gave up) goes after a while.
      const rec = r;
      setTimeout(() => {
        if (this.#builds.get(ref) === rec && !rec.claimed) this.#builds.delete(ref);
      }, 600_000).unref();
    }
    return r;
  }

  #worker(): WorkerInfo {
    return {
      id: "wharf",
      labels: {
        "org.mobyproject.buildkit.worker.executor": "runc",
        "org.mobyproject.buildkit.worker.hostname": hostname(),
        "org.mobyproject.buildkit.worker.network": "host",
        "org.mobyproject.buildkit.worker.snapshotter": "overlayfs",
      },
      platforms: [{ os: "linux", architecture: ociArch() }],
      version: BUILDKIT_VERSION,
    };
  }

  #control(): Record<string, MethodHandler> {
    const p = "/moby.buildkit.v1.Control/";
    return {
      [`${p}ListWorkers`]: unary(async () => encodeListWorkers([this.#worker()])),
      [`${p}Info`]: unary(async () => new ProtoWriter().message(1, encodeVersion(BUILDKIT_VERSION)).finish()),
      [`${p}Solve`]: unary((req, call) => this.#solve(req, call)),
      [`${p}Status`]: (call) => this.#status(call),
      [`${p}DiskUsage`]: unary(async () => encodeDiskUsage(await this.#usage())),
      [`${p}Prune`]: async (call) => {
        let req: Buffer = Buffer.alloc(0);
        for await (const m of call.messages()) req = m;
        const { filters, keepDuration, keepBytes } = decodePrune(req);
        const before = new Map((await this.#usage()).map((u) => [u.id, u]));
        // BuildKit's prune takes every unused record but internal and frontend ones (which `all` adds), and
        // wharf's are all regular ones: `buildx prune` forgets them all, as against dockerd. Filters and keep
        // limits wharf cannot weigh keep all but the records whose image is gone.
        // (buildx sends its filters joined into one string: an empty one when there are none.)
        const limited = filters.some(Boolean) || keepDuration > 0 || keepBytes > 0;
        const res = await this.#backend.prune({ all: !limited });
        for (const key of res.CachesDeleted) {
          const u = before.get(key);
          if (u) await call.send(encodeUsage(u).finish());
        }
      },
    };
  }

  #gateway(): Record<string, MethodHandler> {
    const p = "/moby.buildkit.v1.frontend.LLBBridge/";
    return {
      [`${p}Ping`]: unary(async () =>
        encodePong({ frontendCaps: FRONTEND_CAPS, llbCaps: LLB_CAPS, workers: [this.#worker()] }),
      ),
      [`${p}Solve`]: unary((req, call) => this.#gatewaySolve(req, call)),
      [`${p}Return`]: unary(async (req, call) => {
        this.#record(buildId(call)).returned.resolve(decodeReturn(req));
        return Buffer.alloc(0);
      }),
    };
  }

  async #usage(): Promise<UsageRecord[]> {
    return (await this.#backend.cacheRecords()).map((r) => ({
      id: r.key,
      size: r.size,
      createdAt: r.created,
      // Used when made: buildx du shows LAST ACCESSED from it.
      lastUsedAt: r.created,
      usageCount: 1,
      description: `wharf build step, image ${r.imageId.slice(7, 19)}`,
      recordType: "regular",
      inUse: false,
      shared: false,
    }));
  }

  async #solve(body: Buffer, call: ServerCall): Promise<Buffer> {
    const req = decodeControlSolve(body);
    if (!req.ref) throw new GrpcError(Code.INVALID_ARGUMENT, "invalid empty ref");
    const rec = this.#record(req.ref);
    rec.claimed = true;
    rec.control.resolve(req);
    const onAbort = () => rec.abort.abort();
    call.signal.addEventListener("abort", onAbort);
    try {
      const exporter = req.exporter || "";
      if (exporter && !["moby", "image", "local", "tar"].includes(exporter))
        throw new GrpcError(
          Code.INVALID_ARGUMENT,
          `exporter "${exporter}" is not supported by wharf (use --load, -o type=local or -o type=tar)`,
        );
      if (exporter === "image" && req.exporterAttrs.push === "true")
        throw new GrpcError(
          Code.INVALID_ARGUMENT,
          "pushing from the build is not supported by wharf: docker push the image",
        );
      let imageId: string | undefined;
      if (req.frontend) {
        checkFrontend(req.frontend, req.frontendAttrs);
        imageId = await this.#runFrontend(rec, { opts: req.frontendAttrs, session: req.session });
      } else if (req.hasDefinition) {
        throw new GrpcError(
          Code.UNIMPLEMENTED,
          "LLB definitions are not supported by wharf: build with the Dockerfile frontend",
        );
      } else {
        const r = await Promise.race([rec.returned.promise, aborted(rec.abort.signal)]);
        if (r.error) throw new GrpcError(r.error.code || Code.UNKNOWN, r.error.message);
        if (r.refId) {
          imageId = rec.results.get(r.refId);
          if (!imageId) throw new GrpcError(Code.NOT_FOUND, `no such result ${r.refId}`);
        }
      }
      const resp: Record<string, string> = {};
      if (imageId && (exporter === "local" || exporter === "tar")) {
        await this.#exportFiles(rec, { imageId, exporter, session: req.session });
        return encodeControlSolveResponse(resp);
      }
      if (imageId) {
        const names = (req.exporterAttrs.name ?? "")
          .split(",")
          .map((n) => n.trim())
          .filter(Boolean)
          .map(normalizedName);
        const v = rec.progress.vertex("exporting to image");
        v.status({ id: `writing image ${imageId}`, current: 0, done: true });
        try {
          for (const n of names) {
            await this.#backend.tag(imageId, n);
            v.status({ id: `naming to ${n}`, current: 0, done: true });
          }
        } catch (e) {
          v.complete(e instanceof Error ? e.message : String(e));
          throw new GrpcError(Code.INVALID_ARGUMENT, e instanceof Error ? e.message : String(e));
        }
        v.complete();
        resp["containerimage.digest"] = imageId;
        resp["containerimage.config.digest"] = imageId;
        if (names.length) resp["image.name"] = names.join(",");
      }
      return encodeControlSolveResponse(resp);
    } catch (e) {
      // A failed Solve ends the build, as BuildKit cancels the job: the client's gateway Solve (still running
      // the frontend when this exporter was refused) ends too, instead of buildx waiting for it.
      rec.abort.abort();
      throw e;
    } finally {
      call.signal.removeEventListener("abort", onAbort);
      rec.progress.close();
      setTimeout(() => {
        if (this.#builds.get(req.ref) === rec) this.#builds.delete(req.ref);
      }, 60_000).unref();
    }
  }

  /** `-o type=local|tar`: the image's files go back to the client over its FileSend attachable. */
  async #exportFiles(
    rec: BuildRecord,
    o: { imageId: string; exporter: string; session: string },
  ): Promise<void> {
    const session = await this.sessions.get(o.session, { signal: rec.abort.signal });
    if (!session.methods.has(SessionMethod.fileSend))
      throw new GrpcError(Code.INVALID_ARGUMENT, "the client's session takes no exported files");
    const v = rec.progress.vertex(
      o.exporter === "tar" ? "exporting to client tarball" : "exporting to client directory",
    );
    try {
      await this.#backend.withRootfs(o.imageId, async (dir) => {
        const call = session.client.call(SessionMethod.fileSend);
        if (o.exporter === "local") await sendDiffCopy(call, dir);
        else {
          for await (const chunk of await this.#backend.tarDir(dir))
            await call.send(new ProtoWriter().bytes(1, chunk as Buffer).finish());
          call.end();
          for await (const _ of call.messages());
        }
        await call.done;
      });
      v.complete();
    } catch (e) {
      v.complete(e instanceof Error ? e.message : String(e));
      throw e;
    }
  }

  async #runFrontend(
    rec: BuildRecord,
    o: { opts: Record<string, string>; session: string },
  ): Promise<string> {
    const session = await this.sessions.get(o.session, { signal: rec.abort.signal });
    return solveDockerfile(
      { builder: this.#backend, session },
      { frontendOpt: o.opts, progress: rec.progress, signal: rec.abort.signal },
    );
  }

  async #gatewaySolve(body: Buffer, call: ServerCall): Promise<Buffer> {
    const rec = this.#record(buildId(call));
    const req = decodeGatewaySolve(body);
    if (req.hasDefinition)
      throw new GrpcError(
        Code.UNIMPLEMENTED,
        "LLB definitions are not supported by wharf: build with the Dockerfile frontend",
      );
    if (req.frontendOpt.requestid)
      throw new GrpcError(Code.UNIMPLEMENTED, `unsupported request ${req.frontendOpt.requestid}`);
    checkFrontend(req.frontend, req.frontendOpt);
    const control = await withTimeout(rec.control.promise, 30_000, "waiting for the build's Solve call");
    const onAbort = () => rec.abort.abort();
    call.signal.addEventListener("abort", onAbort);
    try {
      const imageId = await this.#runFrontend(rec, { opts: req.frontendOpt, session: control.session });
      const refId = randomBytes(16).toString("hex");
      rec.results.set(refId, imageId);
      return encodeGatewaySolveResponse(refId, {});
    } finally {
      call.signal.removeEventListener("abort", onAbort);
    }
  }

  async #status(call: ServerCall): Promise<void> {
    let req: Buffer = Buffer.alloc(0);
    for await (const m of call.messages()) req = m;
    const ref = new ProtoReader(req).string(1);
    const rec = this.#record(ref);
    const queue: (StatusUpdate | undefined)[] = [];
    let wake: (() => void) | undefined;
    const unsub = rec.progress.subscribe((u) => {
      queue.push(u);
      wake?.();
    });
    try {
      for (;;) {
        if (!queue.length) {
          await Promise.race([
            new Promise<void>((r) => {
              wake = r;
            }),
            aborted(call.signal),
          ]);
          wake = undefined;
          continue;
        }
        const u = queue.shift();
        if (!u) return;
        await call.send(encodeStatus(u));
      }
    } finally {
      unsub();
    }
  }
}

function buildId(call: ServerCall): string {
  const v = call.headers["buildkit-controlapi-buildid"];
  const id = Array.isArray(v) ? v[0] : v;
  if (!id) throw new GrpcError(Code.INVALID_ARGUMENT, "no buildkit-controlapi-buildid header");
  return id;
}

/**
 * `bx1` as BuildKit's moby exporter names it in its progress and `image.name`: `docker.io/library/bx1` (no tag
 * added); a name that does not parse is left for tag() to refuse with Docker's text.
 */
function normalizedName(n: string): string {
  try {
    return fullString(parseNamed(n));
  } catch {
    return n;
  }
}
