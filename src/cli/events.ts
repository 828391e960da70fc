// `events` / `system events`: the daemon's event stream, printed as docker prints it.

import type { EventMessage } from "../apitypes/index.ts";
import { jsonLines } from "../client/index.ts";
import { flag } from "./args.ts";
import { type CommandDef, filterFlag, filtersFrom, list, StatusError, str, write } from "./common.ts";
import { escapeHtmlJson } from "./format/funcs.ts";
import { compileTemplate, TemplateError } from "./format/index.ts";
import { parseTimestampArg } from "./units.ts";

/** Go's `2006-01-02T15:04:05.000000000Z07:00` in local time, from nanoseconds since the epoch. */
export function rfc3339NanoFixed(nanos: bigint): string {
  const ms = Number(nanos / 1_000_000n);
  const frac = String(nanos % 1_000_000_000n).padStart(9, "0");
  const d = new Date(ms);
  const off = -d.getTimezoneOffset();
  const p = (n: number): string => String(n).padStart(2, "0");
  const zone =
    off === 0 ? "Z" : `${off > 0 ? "+" : "-"}${p(Math.trunc(Math.abs(off) / 60))}:${p(Math.abs(off) % 60)}`;
  return (
    `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T` +
    `${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}.${frac}${zone}`
  );
}

/** Docker's default line: time, type, action, actor ID and its attributes sorted by key. */
export function eventLine(
  e: EventMessage & { timeNano?: number; timeNanoText?: string; time?: number },
): string {
  let s = "";
  if (e.timeNanoText && e.timeNanoText !== "0") s += `${rfc3339NanoFixed(BigInt(e.timeNanoText))} `;
  else if (e.timeNano) s += `${rfc3339NanoFixed(BigInt(e.timeNano))} `;
  else if (e.time) s += `${rfc3339NanoFixed(BigInt(e.time) * 1_000_000_000n)} `;
  s += `${e.Type} ${e.Action} ${e.Actor?.ID ?? ""}`;
  const attrs = e.Actor?.Attributes ?? {};
  const keys = Object.keys(attrs).sort();
  if (keys.length) s += ` (${keys.map((k) => `${k}=${attrs[k]}`).join(", ")})`;
  return `${s}\n`;
}

/**
 * Parses the event stream keeping `timeNano` exact: it exceeds a double's precision, so it is taken from
 * the text and kept as a string of digits.
 */
function eventLines(input: AsyncIterable<Buffer | string>): AsyncGenerator<RawEvent> {
  return jsonLines(input, {
    parse(line: string): RawEvent {
      const e = JSON.parse(line) as RawEvent;
      const m = /"timeNano":\s*(\d+)/.exec(line);
      if (m) e.timeNanoText = m[1];
      e.rawText = line;
      return e;
    },
  });
}

/** `{{json .}}` of an event as docker marshals its Message: struct field order, sorted attributes, exact timeNano. */
export function eventJson(e: RawEvent): string {
  const attrs = (e.Actor?.Attributes ?? {}) as Record<string, string>;
  const sorted: Record<string, string> = {};
  for (const k of Object.keys(attrs).sort()) sorted[k] = attrs[k];
  const parts: string[] = [];
  const put = (k: string, v: unknown): void => {
    parts.push(`${JSON.stringify(k)}:${JSON.stringify(v)}`);
  };
  if (e.status) put("status", e.status);
  if (e.id) put("id", e.id);
  if (e.from) put("from", e.from);
  put("Type", e.Type);
  put("Action", e.Action);
  put("Actor", { ID: e.Actor?.ID ?? "", Attributes: sorted });
  if (e.scope) put("scope", e.scope);
  if (e.time) put("time", e.time);
  if (e.timeNanoText && e.timeNanoText !== "0") parts.push(`"timeNano":${e.timeNanoText}`);
  return escapeHtmlJson(`{${parts.join(",")}}`);
}

export type RawEvent = EventMessage & {
  timeNanoText?: string;
  rawText?: string;
  status?: string;
  id?: string;
  from?: string;
  scope?: string;
  time?: number;
  timeNano?: number;
};

/** An event as templates see it: Go field names, and the API's JSON for `{{json .}}`. */
class EventContext {
  readonly Status: string;
  readonly ID: string;
  readonly From: string;
  readonly Type: string;
  readonly Action: string;
  readonly Actor: { ID: string; Attributes: Record<string, string> };
  readonly Scope: string;
  readonly Time: number;
  readonly TimeNano: number;
  readonly #raw: RawEvent;

  constructor(e: RawEvent) {
    this.#raw = e;
    this.Status = e.status ?? "";
    this.ID = e.id ?? "";
    this.From = e.from ?? "";
    this.Type = e.Type;
    this.Action = e.Action;
    this.Actor = { ID: e.Actor?.ID ?? "", Attributes: (e.Actor?.Attributes ?? {}) as Record<string, string> };
    this.Scope = e.scope ?? "";
    this.Time = e.time ?? 0;
    this.TimeNano = e.timeNano ?? 0;
  }
  toJSON(): unknown {
    const { timeNanoText: _t, rawText: _r, ...rest } = this.#raw;
    return rest;
  }
}

const events: CommandDef = {
  spec: {
    name: "events",
    usage: "events [OPTIONS]",
    desc: "Get real time events from the server",
    aliases: ["system events", "events"],
    maxArgs: 0,
    flags: [
      filterFlag("Filter output based on conditions provided", { short: true }),
      flag.string(
        "format",
        "Format output using a custom template:\n'json':             Print in JSON format\n'TEMPLATE':         Print output using the given Go template.",
      ),
      flag.string("since", "Show all events created since timestamp"),
      flag.string("until", "Stream events until this timestamp"),
    ],
  },
  async run(cli, p) {
    const ts = (flag: string): string | undefined => {
      const v = str(p, flag);
      if (!v) return undefined;
      try {
        return parseTimestampArg(v);
      } catch (err) {
        throw new StatusError(1, (err as Error).message);
      }
    };
    let format = str(p, "format");
    if (format === "json") format = "{{json .}}";
    // The daemon's own line is what docker re-marshals, with timeNano exact (beyond a double's precision).
    const rawJson = format === "{{json .}}";
    let tmpl: ReturnType<typeof compileTemplate> | undefined;
    if (format) {
      try {
        tmpl = compileTemplate(format.replace(/\\t/g, "\t").replace(/\\n/g, "\n"));
      } catch (err) {
        if (err instanceof TemplateError) throw new StatusError(64, `template parsing error: ${err.message}`);
        throw err;
      }
    }
    const abort = new AbortController();
    const onSig = (): void => abort.abort();
    process.once("SIGINT", onSig);
    process.once("SIGTERM", onSig);
    try {
      const res = await cli
        .client()
        .events(
          { since: ts("since"), until: ts("until"), filters: filtersFrom(list(p, "filter")) },
          { signal: abort.signal },
        );
      for await (const e of eventLines(res)) {
        if (rawJson) await write(cli.out, `${eventJson(e)}\n`);
        else await write(cli.out, tmpl ? `${tmpl.execute(new EventContext(e))}\n` : eventLine(e));
      }
    } catch (err) {
      if (!abort.signal.aborted) throw err;
    } finally {
      process.off("SIGINT", onSig);
      process.off("SIGTERM", onSig);
    }
    return 0;
  },
};

/** The events command. */
export const commands: Record<string, CommandDef> = { events };
