// Pulling an image and showing the daemon's JSON-lines progress the way docker does.
import type { Writable } from "node:stream";
import type { EngineClient } from "../client/index.ts";
import { registryAuthHeader } from "./auth.ts";
import { memoryWriter } from "./common.ts";
import { displayJsonMessages } from "./progress.ts";

export { displayJsonMessages } from "./progress.ts";

/** Splits `name[:tag]` / `name@digest` for the pull query; a bare name means `:latest`. */
export function splitImageRef(ref: string): { name: string; tag: string } {
  const at = ref.indexOf("@");
  if (at >= 0) return { name: ref.slice(0, at), tag: ref.slice(at + 1) };
  const colon = ref.lastIndexOf(":");
  if (colon > ref.lastIndexOf("/")) return { name: ref.slice(0, colon), tag: ref.slice(colon + 1) };
  return { name: ref, tag: "latest" };
}

/** True when the reference names no tag and no digest (docker then says "Using default tag"). */
export function isNameOnly(ref: string): boolean {
  if (ref.includes("@")) return false;
  return ref.lastIndexOf(":") <= ref.lastIndexOf("/");
}

/** `name:tag` with docker's default tag, as in "Unable to find image 'alpine:latest' locally". */
export function withDefaultTag(ref: string): string {
  const { name, tag } = splitImageRef(ref);
  return ref.includes("@") ? ref : `${name}:${tag}`;
}

/** Docker's normalized repository name: `alpine` → `docker.io/library/alpine`, `me/x` → `docker.io/me/x`. */
export function normalizeName(name: string): string {
  const slash = name.indexOf("/");
  if (slash < 0) return `docker.io/library/${name}`;
  const first = name.slice(0, slash);
  if (first.includes(".") || first.includes(":") || first === "localhost") return name;
  return `docker.io/${name}`;
}

/** The fully qualified reference docker prints after a pull (`docker.io/library/busybox:latest`). */
export function fullReference(ref: string): string {
  const { name, tag } = splitImageRef(ref);
  return `${normalizeName(name)}${ref.includes("@") ? "@" : ":"}${tag}`;
}

/** Pulls `ref` through `POST /images/create?fromImage=` (normalized, as docker sends it), printing progress. */
export async function pullImage(
  client: EngineClient,
  ref: string,
  opts: { out: Writable; quiet?: boolean; platform?: string },
): Promise<void> {
  const { name: short, tag } = splitImageRef(ref);
  const name = normalizeName(short);
  const res = await client.imageCreate(
    { fromImage: name, tag, platform: opts.platform || undefined },
    { registryAuth: await registryAuthHeader(name) },
  );
  const tty = !!(opts.out as { isTTY?: boolean }).isTTY;
  await displayJsonMessages(res, opts.quiet ? memoryWriter() : opts.out, {
    tty: tty && !opts.quiet,
    width: (opts.out as { columns?: number }).columns,
  });
}
