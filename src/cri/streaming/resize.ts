/**
 * The resize stream (SPDY) or channel 4 (WebSocket): a sequence of JSON objects {"Width":W,"Height":H}, as
 * Go's json.Encoder writes them (one per line). Go's decoder matches field names without regard to case, so
 * {"width":..} is taken too. A malformed object ends the sequence, as it ends kubelet's decoder loop.
 */
import type { Readable } from "node:stream";
import type { TerminalSize } from "../stream-runtime.ts";

/** Longest run of bytes without a complete object before the stream is given up on. */
const MAX_PENDING = 4096;

/** Splits concatenated JSON objects; returns the sizes found and the unfinished rest. */
export function splitSizes(text: string): { sizes: TerminalSize[]; rest: string; bad: boolean } {
  const sizes: TerminalSize[] = [];
  let start = 0;
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (inString) {
      if (c === "\\") i++;
      else if (c === '"') inString = false;
      continue;
    }
    if (c === '"') inString = true;
    else if (c === "{") {
      if (depth === 0) start = i;
      depth++;
    } else if (c === "}") {
      depth--;
      if (depth < 0) return { sizes, rest: "", bad: true };
      if (depth === 0) {
        const size = parseSize(text.slice(start, i + 1));
        if (!size) return { sizes, rest: "", bad: true };
        sizes.push(size);
        start = i + 1;
      }
    } else if (depth === 0 && !/\s/.test(c)) return { sizes, rest: "", bad: true };
  }
  return { sizes, rest: depth > 0 ? text.slice(start) : "", bad: false };
}

function parseSize(json: string): TerminalSize | undefined {
  let v: unknown;
  try {
    v = JSON.parse(json);
  } catch {
    return undefined;
  }
  if (typeof v !== "object" || v === null) return undefined;
  const size = { width: 0, height: 0 };
  for (const [k, val] of Object.entries(v)) {
    const key = k.toLowerCase();
    if (key !== "width" && key !== "height") continue;
    if (typeof val !== "number" || !Number.isInteger(val) || val < 0 || val > 0xffff) return undefined;
    size[key] = val;
  }
  return size;
}

/** Sizes queued for a runtime that reads them late; older ones are dropped (only the last size matters). */
const MAX_QUEUED = 16;

/**
 * The sizes a resize stream carries, as an async iterable that ends with the stream. The stream is read at
 * once whether or not anyone iterates, so an unread resize stream never holds up the connection.
 */
export function resizeEvents(stream: Readable): AsyncIterable<TerminalSize> {
  const queue: TerminalSize[] = [];
  let done = false;
  let wake: (() => void) | undefined;
  let pending = "";
  const finish = () => {
    done = true;
    wake?.();
  };
  stream.on("data", (chunk: Buffer | string) => {
    if (done) return;
    pending += typeof chunk === "string" ? chunk : chunk.toString("utf8");
    const { sizes, rest, bad } = splitSizes(pending);
    pending = rest;
    queue.push(...sizes);
    if (queue.length > MAX_QUEUED) queue.splice(0, queue.length - MAX_QUEUED);
    if (bad || rest.length > MAX_PENDING) finish();
    else wake?.();
  });
  stream.on("end", finish);
  stream.on("close", finish);
  stream.on("error", finish);
  return {
    async *[Symbol.asyncIterator]() {
      for (;;) {
        const next = queue.shift();
        if (next) {
          yield next;
          continue;
        }
        if (done) return;
        await new Promise<void>((resolve) => {
          wake = resolve;
        });
        wake = undefined;
      }
    },
  };
}
