/**
 * The wire codec of the CRI messages: protobufjs reflection over the definitions in proto.ts, and the
 * grpc-js service definitions (paths, serializers) built from them for the server and for our client.
 */
import type * as grpc from "@grpc/grpc-js";
import Long from "long";
import protobuf from "protobufjs";
import { CRI_PROTO } from "./proto.ts";

// int64 fields carry nanosecond timestamps, past 2^53: with Long, decimal strings encode exactly.
protobuf.util.Long = Long;
protobuf.configure();

const root = protobuf.parse(CRI_PROTO, { keepCase: false }).root;

/** How decoded messages look: enums and 64-bit integers as numbers, absent scalars as their defaults. */
const AS_OBJECT: protobuf.IConversionOptions = {
  longs: Number,
  enums: Number,
  defaults: true,
  arrays: true,
  objects: true,
};

/** The two CRI services. */
export type CriServiceName = "RuntimeService" | "ImageService";

/** A message type of the CRI package by its name (e.g. "VersionResponse"). */
export function messageType(name: string): protobuf.Type {
  return root.lookupType(`runtime.v1.${name}`);
}

/** Encodes a plain object as the named message; unknown keys are dropped, as fromObject does. */
export function encode(type: protobuf.Type, value: unknown): Buffer {
  const msg = type.fromObject((value ?? {}) as Record<string, unknown>);
  return Buffer.from(type.encode(msg).finish());
}

/** Decodes the bytes of the named message into a plain object (see AS_OBJECT). */
export function decode<T>(type: protobuf.Type, bytes: Uint8Array): T {
  return type.toObject(type.decode(bytes), AS_OBJECT) as T;
}

/** The methods of a service, in the order the definitions list them. */
export function methodNames(service: CriServiceName): string[] {
  return root.lookupService(`runtime.v1.${service}`).methodsArray.map((m) => m.name);
}

/** The grpc-js definition of a CRI service: each method's path and its (de)serializers. */
export function serviceDefinition(service: CriServiceName): grpc.ServiceDefinition {
  const svc = root.lookupService(`runtime.v1.${service}`);
  const def: Record<string, grpc.MethodDefinition<unknown, unknown>> = {};
  for (const m of svc.methodsArray) {
    m.resolve();
    const req = m.resolvedRequestType as protobuf.Type;
    const res = m.resolvedResponseType as protobuf.Type;
    def[m.name] = {
      path: `/runtime.v1.${service}/${m.name}`,
      requestStream: false,
      responseStream: false,
      requestSerialize: (v: unknown) => encode(req, v),
      requestDeserialize: (b: Buffer) => decode(req, b),
      responseSerialize: (v: unknown) => encode(res, v),
      responseDeserialize: (b: Buffer) => decode(res, b),
      originalName: m.name,
    };
  }
  return def;
}
