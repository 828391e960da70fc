// Talking to the dashboard's server: JSON calls through /api (the Engine API proxy), line streams, and the
// two shared live feeds (events, stats) every page subscribes to instead of polling.
import type { EventMessage, Sample } from "./types.ts";

/** An error answer, carrying the daemon's message. */
export class HttpError extends Error {
  readonly status: number;

  constructor(status: number, message: string) {
    super(message);
    this.status = status;
  }
}

async function fail(res: Response): Promise<never> {
  const text = await res.text();
  let msg = text;
  try {
    msg = (JSON.parse(text) as { message?: string }).message ?? text;
  } catch {
    // Plain text already.
  }
  throw new HttpError(res.status, msg || `${res.status} ${res.statusText}`);
}

/** Builds `/api<path>?query`. */
export function apiUrl(
  path: string,
  query: Record<string, string | number | boolean | undefined> = {},
): string {
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) {
    if (v !== undefined) p.set(k, typeof v === "boolean" ? (v ? "1" : "0") : String(v));
  }
  const s = p.toString();
  return `/api${path}${s ? `?${s}` : ""}`;
}

/** A call whose answer is JSON (or empty). */
export async function api<T>(
  method: string,
  path: string,
  opts: { query?: Record<string, string | number | boolean | undefined>; body?: unknown } = {},
): Promise<T> {
  const res = await fetch(apiUrl(path, opts.query), {
    method,
    headers: opts.body === undefined ? {} : { "Content-Type": "application/json" },
    body: opts.body === undefined ? undefined : JSON.stringify(opts.body),
  });
  if (!res.ok && res.status !== 304) return fail(res);
  const text = await res.text();
  return (text ? JSON.parse(text) : undefined) as T;
}

/** Reads a streamed response as it comes: raw chunks to `onChunk` until the body ends or `signal` aborts. */
export async function streamBytes(
  url: string,
  opts: { signal: AbortSignal; method?: string; onChunk: (b: Uint8Array) => void },
): Promise<void> {
  const res = await fetch(url, { method: opts.method ?? "GET", signal: opts.signal });
  if (!res.ok) return fail(res);
  const reader = res.body?.getReader();
  if (!reader) return;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return;
    if (value) opts.onChunk(value);
  }
}

/** Reads a JSON-lines response, one parsed object per line. */
export async function streamLines<T>(
  url: string,
  opts: { signal: AbortSignal; method?: string; onLine: (v: T) => void },
): Promise<void> {
  const dec = new TextDecoder();
  let rest = "";
  await streamBytes(url, {
    signal: opts.signal,
    method: opts.method,
    onChunk: (b) => {
      rest += dec.decode(b, { stream: true });
      let nl = rest.indexOf("\n");
      while (nl >= 0) {
        const line = rest.slice(0, nl).trim();
        rest = rest.slice(nl + 1);
        if (line) opts.onLine(JSON.parse(line) as T);
        nl = rest.indexOf("\n");
      }
    },
  });
  if (rest.trim()) opts.onLine(JSON.parse(rest) as T);
}

/** Splits Docker's multiplexed log stream (8-byte headers) into frames, across chunk boundaries. */
export class Demuxer {
  #buf = new Uint8Array(0);

  /** Feeds bytes; returns the complete frames (stream 1 stdout, 2 stderr). */
  push(b: Uint8Array): { stream: number; data: Uint8Array }[] {
    const buf = new Uint8Array(this.#buf.length + b.length);
    buf.set(this.#buf);
    buf.set(b, this.#buf.length);
    const out: { stream: number; data: Uint8Array }[] = [];
    let off = 0;
    while (buf.length - off >= 8) {
      const size = new DataView(buf.buffer, off + 4, 4).getUint32(0);
      if (buf.length - off < 8 + size) break;
      out.push({ stream: buf[off], data: buf.subarray(off + 8, off + 8 + size) });
      off += 8 + size;
    }
    this.#buf = buf.slice(off);
    return out;
  }
}

type Listener<T> = (v: T) => void;

/** The daemon's event stream, opened once for the whole app and reopened when it drops. */
class EventFeed {
  readonly #listeners = new Set<Listener<EventMessage>>();
  #started = false;
  /** Whether the stream is currently connected (shown in the header). */
  connected = false;
  readonly #status = new Set<Listener<boolean>>();

  subscribe(fn: Listener<EventMessage>): () => void {
    this.#listeners.add(fn);
    this.#start();
    return () => this.#listeners.delete(fn);
  }

  onStatus(fn: Listener<boolean>): () => void {
    this.#status.add(fn);
    return () => this.#status.delete(fn);
  }

  #setConnected(v: boolean): void {
    this.connected = v;
    for (const fn of this.#status) fn(v);
  }

  #start(): void {
    if (this.#started) return;
    this.#started = true;
    const run = async (delay: number): Promise<void> => {
      const ctl = new AbortController();
      try {
        this.#setConnected(true);
        await streamLines<EventMessage>(apiUrl("/events"), {
          signal: ctl.signal,
          onLine: (e) => {
            for (const fn of this.#listeners) fn(e);
          },
        });
      } catch {
        // Dropped: reconnect below, backing off.
      }
      this.#setConnected(false);
      // A reconnect after a drop, not a polling loop: the next wait happens only when the stream ends.
      setTimeout(() => void run(Math.min(delay * 2, 10_000)), delay);
    };
    void run(500);
  }
}

/** The app's one event stream. */
export const events = new EventFeed();

const HISTORY = 120;

/** Live stats of a set of containers over one stream; subscribers get every sample of their id. */
class StatsFeed {
  readonly #subs = new Map<string, Set<Listener<Sample>>>();
  readonly latest = new Map<string, Sample>();
  /** The last two minutes of each container seen, so a chart opened later starts with history. */
  readonly history = new Map<string, Sample[]>();
  #ctl: AbortController | undefined;
  #key = "";
  #timer: ReturnType<typeof setTimeout> | undefined;

  subscribe(id: string, fn: Listener<Sample>): () => void {
    let s = this.#subs.get(id);
    if (!s) {
      s = new Set();
      this.#subs.set(id, s);
      this.#reopenSoon();
    }
    s.add(fn);
    return () => {
      s.delete(fn);
      if (s.size === 0) {
        this.#subs.delete(id);
        this.#reopenSoon();
      }
    };
  }

  /** Reopens the stream for the current ids when they changed (batched, so a page's rows open it once). */
  #reopenSoon(): void {
    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => this.#reopen(), 50);
  }

  #reopen(): void {
    const ids = [...this.#subs.keys()].sort();
    const key = ids.join(",");
    if (key === this.#key) return;
    this.#key = key;
    this.#ctl?.abort();
    this.#ctl = undefined;
    if (ids.length === 0) return;
    const ctl = new AbortController();
    this.#ctl = ctl;
    const q = ids.map((id) => `id=${encodeURIComponent(id)}`).join("&");
    streamLines<Sample>(`/api/ui/stats?${q}`, {
      signal: ctl.signal,
      onLine: (s) => {
        this.latest.set(s.id, s);
        const h = this.history.get(s.id) ?? [];
        h.push(s);
        if (h.length > HISTORY) h.shift();
        this.history.set(s.id, h);
        for (const fn of this.#subs.get(s.id) ?? []) fn(s);
      },
    }).catch(() => {});
  }
}

/** The app's one stats stream. */
export const stats = new StatsFeed();
