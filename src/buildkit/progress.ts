/**
 * A build's progress as BuildKit's Status stream reports it: vertices that start, complete (maybe cached or
 * failed) and log. Late subscribers get the history first, so a Status call racing the Solve misses nothing.
 */
import { createHash } from "node:crypto";
import type { BuildOutput, StepName } from "../build/index.ts";
import { fullString, parseNamed } from "../image/index.ts";
import type { StatusUpdate, Vertex } from "./messages.ts";

let lastMs = 0;
/** Strictly increasing milliseconds: the client orders vertices by their start, and steps start within one. */
function now(): number {
  lastMs = Math.max(Date.now(), lastMs + 0.001);
  return lastMs;
}

/** Collects a build's status updates and fans them out to Status streams. */
export class Progress {
  readonly #history: StatusUpdate[] = [];
  readonly #subs = new Set<(u: StatusUpdate | undefined) => void>();
  readonly #salt: string;
  #closed = false;

  constructor(salt: string) {
    this.#salt = salt;
  }

  #emit(u: StatusUpdate): void {
    if (this.#closed) return;
    this.#history.push(u);
    for (const s of this.#subs) s(u);
  }

  /** Starts a vertex; the handle completes it, marks it cached, and logs to it. */
  vertex(name: string, opts: { inputs?: string[] } = {}): VertexHandle {
    const digest = `sha256:${createHash("sha256").update(`${this.#salt}\0${name}\0${this.#history.length}`).digest("hex")}`;
    const v: Vertex = { digest, inputs: opts.inputs ?? [], name, cached: false, started: now() };
    this.#emit({ vertexes: [{ ...v }] });
    let done = false;
    return {
      digest,
      cached: () => {
        v.cached = true;
      },
      log: (msg, stream = 1) => {
        if (!done)
          this.#emit({ logs: [{ vertex: digest, timestamp: now(), stream, msg: Buffer.from(msg) }] });
      },
      status: (s) => {
        const at = now();
        this.#emit({
          statuses: [
            {
              id: s.id,
              vertex: digest,
              name: s.id,
              current: s.current,
              total: 0,
              timestamp: at,
              // The client prints how long a status took (past 10 ms) from its own start, not the vertex's.
              started: s.started ?? at,
              completed: s.done ? now() : undefined,
            },
          ],
        });
      },
      complete: (err) => {
        if (done) return;
        done = true;
        v.completed = now();
        if (err) v.error = err;
        this.#emit({ vertexes: [{ ...v }] });
      },
    };
  }

  /** Subscribes: `fn` gets the history, then each update, then undefined when the build is over. */
  subscribe(fn: (u: StatusUpdate | undefined) => void): () => void {
    for (const u of this.#history) fn(u);
    if (this.#closed) {
      fn(undefined);
      return () => undefined;
    }
    this.#subs.add(fn);
    return () => this.#subs.delete(fn);
  }

  /** Ends every Status stream. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const s of this.#subs) s(undefined);
    this.#subs.clear();
  }
}

/** One running vertex. */
export interface VertexHandle {
  readonly digest: string;
  cached(): void;
  /** Logs to the vertex on stdout (1) or stderr (2). */
  log(msg: string, stream?: 1 | 2): void;
  /** A part of the vertex: `started` (ms) when it began before now, as a transfer that is over. */
  status(s: { id: string; current: number; done?: boolean; started?: number }): void;
  complete(err?: string): void;
}

const STEP = /^Step (\d+)\/(\d+) : (.*)\n$/s;

/**
 * Turns the classic builder's output (Step N/M lines, ` ---> ` notes, the steps' own output) into vertices:
 * one per step, cached when the builder used its cache, the rest as the step's log.
 */
export function stepOutput(
  p: Progress,
  o: { signal: AbortSignal; inputs: string[] },
): { out: BuildOutput; current(): VertexHandle | undefined; finish(err?: string): void } {
  let cur: VertexHandle | undefined;
  let last = o.inputs;
  // What the builder said of the coming step: undefined for one BuildKit shows no vertex for.
  let named: { name: StepName | undefined } | undefined;
  const resolved = new Set<string>();
  const out: BuildOutput = {
    signal: o.signal,
    aux: () => undefined,
    step: (s) => {
      named = { name: s };
    },
    stream: (text) => {
      const m = STEP.exec(text);
      if (m) {
        cur?.complete();
        cur = undefined;
        const hint = named;
        named = undefined;
        let name: string;
        if (hint) {
          if (!hint.name) return;
          name = vertexName(hint.name);
          // BuildKit's frontend resolves each base image's config first, in a vertex of its own.
          const image = hint.name.image !== undefined ? fullImageName(hint.name.image) : undefined;
          if (image && !resolved.has(image)) {
            resolved.add(image);
            p.vertex(`[internal] load metadata for ${image}`).complete();
          }
        } else name = `[${m[1]}/${m[2]}] ${m[3].replace(/^(\w+)/, (w) => w.toUpperCase())}`;
        cur = p.vertex(name, { inputs: last });
        last = [cur.digest];
        return;
      }
      if (text.startsWith(" ---> ")) {
        if (text.includes("Using cache")) cur?.cached();
        return;
      }
      if (/^Successfully (built|tagged) /.test(text)) return;
      cur?.log(text);
    },
    stderr: (text) => cur?.log(text, 2),
  };
  return {
    out,
    current: () => cur,
    finish: (err) => {
      cur?.complete(err);
      cur = undefined;
    },
  };
}

/** `[base 2/3] RUN ...`, the index padded to the total's width, FROM naming its image in full, as BuildKit's. */
function vertexName(s: StepName): string {
  const width = String(s.total).length;
  const what = s.image !== undefined ? `FROM ${fullImageName(s.image)}` : s.instruction;
  return `[${s.stage ? `${s.stage} ` : ""}${String(s.index).padStart(width)}/${s.total}] ${what}`;
}

/** `busybox` as BuildKit shows a base image: `docker.io/library/busybox:latest`. */
function fullImageName(image: string): string {
  try {
    const ref = parseNamed(image);
    return fullString(ref.tag === undefined && !ref.digest ? { ...ref, tag: "latest" } : ref);
  } catch {
    // A name that does not parse fails the step with the builder's own error.
    return image;
  }
}
