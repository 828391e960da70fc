// Docker's jsonmessage display: pull/push/load/build progress streams. On a terminal each layer keeps
// its own line, redrawn in place with a progress bar; elsewhere only the status changes are printed.
import type { Writable } from "node:stream";
import type { JSONMessage } from "../apitypes/index.ts";
import { ApiError, jsonLines } from "../client/index.ts";
import { write } from "./common.ts";
import { humanSize } from "./units.ts";

/** The `progressDetail` of a message. */
export interface ProgressDetail {
  current?: number;
  total?: number;
  start?: number;
  units?: string;
  hidecounts?: boolean;
}

/** Go's Duration.String() for whole seconds (`1m5s`, `3s`, `0s`). */
function goSeconds(s: number): string {
  if (s === 0) return "0s";
  const h = Math.trunc(s / 3600);
  const m = Math.trunc((s % 3600) / 60);
  const sec = s % 60;
  if (h) return `${h}h${m}m${sec}s`;
  if (m) return `${m}m${sec}s`;
  return `${sec}s`;
}

/** The bar, counts and time left docker shows for one layer at terminal `width`. */
export function progressString(p: ProgressDetail, width: number, now: number = Date.now()): string {
  const cur = p.current ?? 0;
  const total = p.total ?? 0;
  if (cur <= 0 && total <= 0) return "";
  if (total <= 0) return p.units ? `${cur} ${p.units}` : humanSize(cur, 4).padStart(8);
  let pct = Math.trunc(Math.trunc((cur / total) * 100) / 2);
  if (pct > 50) pct = 50;
  let bar = "";
  if (width > 110) bar = `[${"=".repeat(pct)}>${" ".repeat(Math.max(0, 50 - pct))}] `;
  let nums = "";
  if (!p.hidecounts) {
    if (!p.units) {
      const c = humanSize(cur, 4).padStart(8);
      nums = cur > total ? c : `${c}/${humanSize(total, 4)}`;
    } else {
      nums = cur > total ? `${cur} ${p.units}` : `${cur}/${total} ${p.units}`;
    }
  }
  let left = "";
  if (cur > 0 && p.start && p.start > 0 && pct < 50) {
    const elapsed = now / 1000 - p.start;
    left = ` ${goSeconds(Math.round((elapsed / cur) * (total - cur)))}`;
  }
  return bar + nums + left;
}

/** An error reported inside a progress stream; `code` is the errorDetail's (a failed RUN's exit code). */
export class JsonStreamError extends ApiError {
  readonly code: number | undefined;
  constructor(message: string, code: number | undefined) {
    super(500, message);
    this.code = code;
  }
}

/** Options of displayJsonMessages. */
export interface DisplayOptions {
  /** Redraw layer lines in place (stdout is a terminal). */
  tty?: boolean;
  /** Terminal width for the bar (no bar at 110 columns or fewer). */
  width?: number;
  /** Called with each `aux` message (build's image ID, push's digest). */
  onAux?: (aux: Record<string, unknown>) => void;
}

/** Writes one message as docker's JSONMessage.Display does; false when it was a hidden progress update. */
function display(m: JSONMessage, tty: boolean, width: number): string | undefined {
  const p = m.progressDetail as ProgressDetail | undefined;
  const prog = p ? progressString(p, width) : "";
  let s = "";
  let endl = "";
  if (tty && !m.stream && p) {
    s += "\x1b[2K\r";
    endl = "\r";
  } else if (p && prog) {
    return undefined;
  }
  if (m.id) s += `${m.id}: `;
  if (m.from) s += `(from ${m.from}) `;
  if (p && tty) s += `${m.status ?? ""} ${prog}${endl}`;
  else if (m.progress) s += `${m.status ?? ""} ${m.progress}${endl}`;
  else if (m.stream) s += `${m.stream}${endl}`;
  else s += `${m.status ?? ""}${endl}\n`;
  return s;
}

/**
 * Shows a JSON-lines progress stream like docker's DisplayJSONMessagesStream; an in-band error ends it
 * with that error (the daemon reports pull and build failures this way).
 */
export async function displayJsonMessages(
  body: AsyncIterable<Buffer | string>,
  out: Writable,
  opts: DisplayOptions = {},
): Promise<JSONMessage[]> {
  const tty = !!opts.tty;
  const width = opts.width ?? 200;
  let ids = new Map<string, number>();
  const all: JSONMessage[] = [];
  for await (const m of jsonLines<JSONMessage>(body)) {
    all.push(m);
    if (m.aux) {
      opts.onAux?.(m.aux);
      continue;
    }
    if (m.error || m.errorDetail?.message)
      throw new JsonStreamError(m.errorDetail?.message ?? m.error ?? "unknown error", m.errorDetail?.code);
    let s = "";
    let diff = 0;
    if (m.id && (m.progressDetail || m.progress)) {
      let line = ids.get(m.id);
      if (line === undefined) {
        line = ids.size;
        ids.set(m.id, line);
        if (tty) s += "\n";
      }
      diff = ids.size - line;
      if (tty) s += `\x1b[${diff}A`;
    } else {
      // Anything that is not a layer's progress ends the block of lines redrawn in place.
      ids = new Map();
    }
    const shown = display(m, tty, width);
    if (shown === undefined && !tty) continue;
    s += shown ?? "";
    if (m.id && tty && diff) s += `\x1b[${diff}B`;
    if (s) await write(out, s);
  }
  return all;
}
