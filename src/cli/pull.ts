// Pulling an image and showing the daemon's JSON-lines progress the way docker does.
import type { Writable } from "node:stream";
import type { JSONMessage } from "../api/types.ts";
import { ApiError, type EngineClient, jsonLines } from "../client/index.ts";
import { write } from "./common.ts";

/** Splits `name[:tag]` / `name@digest` for the pull query; a bare name means `:latest`. */
export function splitImageRef(ref: string): { name: string; tag: string } {
  const at = ref.indexOf("@");
  if (at >= 0) return { name: ref.slice(0, at), tag: ref.slice(at + 1) };
  const colon = ref.lastIndexOf(":");
  if (colon > ref.lastIndexOf("/")) return { name: ref.slice(0, colon), tag: ref.slice(colon + 1) };
  return { name: ref, tag: "latest" };
}

/** `name:tag` with docker's default tag, as in "Unable to find image 'alpine:latest' locally". */
export function withDefaultTag(ref: string): string {
  const { name, tag } = splitImageRef(ref);
  return ref.includes("@") ? ref : `${name}:${tag}`;
}

/**
 * Prints progress lines (`<id>: <status>`); byte-progress updates only on a terminal. An `error` line
 * ends the stream with that error, as the daemon reports pull failures in-band.
 */
export async function displayJsonMessages(
  body: AsyncIterable<Buffer | string>,
  out: Writable,
  opts: { quiet?: boolean; tty?: boolean } = {},
): Promise<JSONMessage[]> {
  const all: JSONMessage[] = [];
  for await (const m of jsonLines<JSONMessage>(body)) {
    all.push(m);
    if (m.error || m.errorDetail?.message)
      throw new ApiError(500, m.errorDetail?.message ?? m.error ?? "unknown error");
    if (opts.quiet) continue;
    if (m.stream) {
      await write(out, m.stream);
      continue;
    }
    if (!m.status) continue;
    if (m.progressDetail?.current !== undefined && !opts.tty) continue;
    const id = m.id ? `${m.id}: ` : "";
    const progress = opts.tty && m.progress ? ` ${m.progress}` : "";
    await write(out, `${id}${m.status}${progress}\n`);
  }
  return all;
}

/** Docker's normalized repository name: `alpine` → `docker.io/library/alpine`, `me/x` → `docker.io/me/x`. */
export function normalizeName(name: string): string {
  const slash = name.indexOf("/");
  if (slash < 0) return `docker.io/library/${name}`;
  const first = name.slice(0, slash);
  if (first.includes(".") || first.includes(":") || first === "localhost") return name;
  return `docker.io/${name}`;
}

/** Pulls `ref` through `POST /images/create?fromImage=` (normalized, as docker sends it), printing progress. */
export async function pullImage(
  client: EngineClient,
  ref: string,
  opts: { out: Writable; quiet?: boolean; platform?: string },
): Promise<void> {
  const { name: short, tag } = splitImageRef(ref);
  const name = normalizeName(short);
  const res = await client.imageCreate({ fromImage: name, tag, platform: opts.platform || undefined });
  await displayJsonMessages(res, opts.out, {
    quiet: opts.quiet,
    tty: (opts.out as { isTTY?: boolean }).isTTY,
  });
}
