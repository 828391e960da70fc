/**
 * The BuildKit messages wharf reads and writes, by field number (moby.buildkit.v1 Control, .types,
 * .frontend LLBBridge, .apicaps; google.rpc.Status). Only the fields wharf uses are here.
 */
import { ProtoReader, ProtoWriter, timestamp } from "./proto.ts";

/** Control.Solve's request, as far as wharf acts on it. */
export interface ControlSolveRequest {
  ref: string;
  hasDefinition: boolean;
  exporter: string;
  exporterAttrs: Record<string, string>;
  session: string;
  frontend: string;
  frontendAttrs: Record<string, string>;
}

/** Decodes moby.buildkit.v1.SolveRequest. */
export function decodeControlSolve(b: Buffer): ControlSolveRequest {
  const r = new ProtoReader(b);
  return {
    ref: r.string(1),
    hasDefinition: (r.message(2)?.fields.length ?? 0) > 0,
    exporter: r.string(3),
    exporterAttrs: r.map(4),
    session: r.string(5),
    frontend: r.string(6),
    frontendAttrs: r.map(7),
  };
}

/** Encodes moby.buildkit.v1.SolveResponse. */
export function encodeControlSolveResponse(exporterResponse: Record<string, string>): Buffer {
  return new ProtoWriter().map(1, exporterResponse).finish();
}

/** LLBBridge.Solve's request. */
export interface GatewaySolveRequest {
  hasDefinition: boolean;
  frontend: string;
  frontendOpt: Record<string, string>;
  final: boolean;
  evaluate: boolean;
}

/** Decodes moby.buildkit.v1.frontend.SolveRequest. */
export function decodeGatewaySolve(b: Buffer): GatewaySolveRequest {
  const r = new ProtoReader(b);
  return {
    hasDefinition: (r.message(1)?.fields.length ?? 0) > 0,
    frontend: r.string(2),
    frontendOpt: r.map(3),
    final: r.bool(10),
    evaluate: r.bool(14),
  };
}

/** A frontend Result holding one ref, with its metadata. */
export function encodeResult(refId: string, metadata: Record<string, Buffer>): ProtoWriter {
  return new ProtoWriter().message(3, new ProtoWriter().string(1, refId)).map(10, metadata);
}

/** Encodes moby.buildkit.v1.frontend.SolveResponse. */
export function encodeGatewaySolveResponse(refId: string, metadata: Record<string, Buffer>): Buffer {
  return new ProtoWriter().message(3, encodeResult(refId, metadata)).finish();
}

/** What a client's Return carries: the result's ref, or the error it failed with. */
export interface ReturnRequest {
  refId: string | undefined;
  error: { code: number; message: string } | undefined;
}

/** Decodes moby.buildkit.v1.frontend.ReturnRequest. */
export function decodeReturn(b: Buffer): ReturnRequest {
  const r = new ProtoReader(b);
  const res = r.message(1);
  const err = r.message(2);
  let refId: string | undefined;
  if (res) {
    if (res.has(3)) refId = res.message(3)?.string(1);
    else if (res.has(1)) refId = res.string(1);
  }
  return {
    refId,
    error:
      err && (err.int(1) !== 0 || err.string(2)) ? { code: err.int(1), message: err.string(2) } : undefined,
  };
}

/** A worker as ListWorkers and Ping describe it. */
export interface WorkerInfo {
  id: string;
  labels: Record<string, string>;
  platforms: { os: string; architecture: string; variant?: string }[];
  version: string;
}

/** Encodes moby.buildkit.v1.types.WorkerRecord. */
export function encodeWorker(w: WorkerInfo): ProtoWriter {
  const rec = new ProtoWriter().string(1, w.id).map(2, w.labels);
  for (const p of w.platforms)
    rec.message(3, new ProtoWriter().string(1, p.architecture).string(2, p.os).string(3, p.variant));
  return rec.message(5, encodeVersion(w.version));
}

/** Encodes moby.buildkit.v1.types.BuildkitVersion. */
export function encodeVersion(version: string): ProtoWriter {
  return new ProtoWriter().string(1, "github.com/wharf/wharf").string(2, version).string(3, "wharf");
}

/** Encodes ListWorkersResponse. */
export function encodeListWorkers(workers: WorkerInfo[]): Buffer {
  const w = new ProtoWriter();
  for (const x of workers) w.message(1, encodeWorker(x));
  return w.finish();
}

/** Encodes PongResponse: the gateway API and LLB capabilities, and the workers. */
export function encodePong(o: { frontendCaps: string[]; llbCaps: string[]; workers: WorkerInfo[] }): Buffer {
  const w = new ProtoWriter();
  for (const id of o.frontendCaps) w.message(1, new ProtoWriter().string(1, id).int(2, true));
  for (const id of o.llbCaps) w.message(2, new ProtoWriter().string(1, id).int(2, true));
  for (const x of o.workers) w.message(3, encodeWorker(x));
  return w.finish();
}

/** One vertex of the build graph as the Status stream reports it. */
export interface Vertex {
  digest: string;
  inputs: string[];
  name: string;
  cached: boolean;
  /** Milliseconds since the epoch. */
  started?: number;
  completed?: number;
  error?: string;
}

/** Progress of one part of a vertex (bytes of the context transferred). */
export interface VertexStatus {
  id: string;
  vertex: string;
  name: string;
  current: number;
  total: number;
  timestamp: number;
  started?: number;
  completed?: number;
}

/** Output of a vertex (1 stdout, 2 stderr). */
export interface VertexLog {
  vertex: string;
  timestamp: number;
  stream: number;
  msg: Buffer;
}

/** One Status stream message. */
export interface StatusUpdate {
  vertexes?: Vertex[];
  statuses?: VertexStatus[];
  logs?: VertexLog[];
}

/** Encodes StatusResponse. */
export function encodeStatus(u: StatusUpdate): Buffer {
  const w = new ProtoWriter();
  for (const v of u.vertexes ?? []) {
    const m = new ProtoWriter().string(1, v.digest);
    for (const i of v.inputs) m.string(2, i);
    m.string(3, v.name).int(4, v.cached);
    if (v.started !== undefined) m.message(5, timestamp(v.started));
    if (v.completed !== undefined) m.message(6, timestamp(v.completed));
    m.string(7, v.error);
    w.message(1, m);
  }
  for (const s of u.statuses ?? []) {
    const m = new ProtoWriter().string(1, s.id).string(2, s.vertex).string(3, s.name);
    m.int(4, s.current).int(5, s.total).message(6, timestamp(s.timestamp));
    if (s.started !== undefined) m.message(7, timestamp(s.started));
    if (s.completed !== undefined) m.message(8, timestamp(s.completed));
    w.message(2, m);
  }
  for (const l of u.logs ?? [])
    w.message(
      3,
      new ProtoWriter()
        .string(1, l.vertex)
        .message(2, timestamp(l.timestamp))
        .int(3, l.stream)
        .bytes(4, l.msg),
    );
  return w.finish();
}

/** One build cache record for DiskUsage and Prune. */
export interface UsageRecord {
  id: string;
  size: number;
  createdAt: number;
  lastUsedAt?: number;
  usageCount: number;
  description: string;
  recordType: string;
  inUse: boolean;
  shared: boolean;
}

/** Encodes moby.buildkit.v1.UsageRecord. */
export function encodeUsage(u: UsageRecord): ProtoWriter {
  const w = new ProtoWriter()
    .string(1, u.id)
    .int(3, u.inUse)
    .int(4, u.size)
    .message(6, timestamp(u.createdAt));
  if (u.lastUsedAt !== undefined) w.message(7, timestamp(u.lastUsedAt));
  return w.int(8, u.usageCount).string(9, u.description).string(10, u.recordType).int(11, u.shared);
}

/** Encodes DiskUsageResponse. */
export function encodeDiskUsage(records: UsageRecord[]): Buffer {
  const w = new ProtoWriter();
  for (const r of records) w.message(1, encodeUsage(r));
  return w.finish();
}

/** Decodes PruneRequest. */
export function decodePrune(b: Buffer): {
  all: boolean;
  filters: string[];
  keepDuration: number;
  keepBytes: number;
} {
  const r = new ProtoReader(b);
  return { all: r.bool(2), filters: r.strings(1), keepDuration: r.int(3), keepBytes: r.int(4) };
}
