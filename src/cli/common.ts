import type { Writable } from "node:stream";
import type { EngineClient, TlsOptions } from "../client/index.ts";
import { flagBool, flagInt, flagList } from "../util/index.ts";
import type { CommandSpec, FlagSpec, Parsed } from "./args.ts";

/** What every command gets: the streams, and a client made on first use. */
export interface Cli {
  out: Writable;
  err: Writable;
  /** The daemon address in use (`-H`, `WHARF_HOST` or the default). */
  host: string;
  client(): EngineClient;
}

/** A command: its spec and what it does; resolves to the exit code. */
export interface CommandDef {
  spec: CommandSpec;
  run(cli: Cli, parsed: Parsed): Promise<number>;
}

/**
 * Ends a command with an exit code and optional message (docker's cli.StatusError), e.g. `run`'s 125
 * with "wharf: Error response from daemon: ...".
 */
export class StatusError extends Error {
  readonly code: number;

  constructor(code: number, message = "") {
    super(message);
    this.name = "StatusError";
    this.code = code;
  }
}

/** Options to build a client from global flags. */
export interface ClientConfig {
  host: string;
  tls?: TlsOptions;
}

/** Writes and waits until the stream took it (so process exit never truncates output). */
export function write(w: Writable, s: string): Promise<void> {
  return new Promise((resolve, reject) => {
    w.write(s, (err) => (err ? reject(err) : resolve()));
  });
}

/** Reads a string flag (empty string when unset). */
export function str(p: Parsed, name: string): string {
  const v = p.flags[name];
  return typeof v === "string" ? v : v === undefined ? "" : String(v);
}

/** Reads a boolean flag. */
export const bool = flagBool;
/** Reads a list flag. */
export const list = flagList;
/** Reads an int flag, or undefined when unset. */
export const int = flagInt;

/** Docker's message for an API error: `Error response from daemon: <message>`; others as they are. */
export function errorText(err: unknown): string {
  if (err && typeof err === "object" && "statusCode" in err && err instanceof Error) {
    return `Error response from daemon: ${err.message}`;
  }
  return err instanceof Error ? err.message : String(err);
}

/** Runs `fn` for each target, printing errors as docker does; exit 1 if any failed. */
export async function forEachTarget(
  cli: Cli,
  targets: string[],
  fn: (target: string) => Promise<string | undefined>,
): Promise<number> {
  const errors: string[] = [];
  for (const t of targets) {
    try {
      const line = await fn(t);
      if (line !== undefined) await write(cli.out, `${line}\n`);
    } catch (err) {
      errors.push(errorText(err));
    }
  }
  if (errors.length) {
    await write(cli.err, `${errors.join("\n")}\n`);
    return 1;
  }
  return 0;
}

/** The `--format` flag shared by list commands. */
export const FORMAT_FLAG_DESC =
  "Format output using a custom template: 'table', 'table TEMPLATE', 'json', or 'TEMPLATE' (Go template)";

/** Parses `--filter k=v` flags into the API's filters map. */
export function filtersFrom(values: string[]): Record<string, string[]> | undefined {
  if (values.length === 0) return undefined;
  const out: Record<string, string[]> = {};
  for (const v of values) {
    const i = v.indexOf("=");
    if (i <= 0)
      throw new StatusError(
        125,
        `invalid argument "${v}" for "-f, --filter" flag: bad format of filter (expected name=value)`,
      );
    const k = v.slice(0, i).trim().toLowerCase();
    out[k] = [...(out[k] ?? []), v.slice(i + 1)];
  }
  return out;
}

/** Reads one line from stdin (for prompts); empty at EOF. */
export function readLine(input: NodeJS.ReadableStream = process.stdin): Promise<string> {
  return new Promise((resolve) => {
    let buf = "";
    const onData = (c: Buffer | string): void => {
      buf += c.toString();
      const nl = buf.indexOf("\n");
      if (nl >= 0) done(buf.slice(0, nl));
    };
    const onEnd = (): void => done(buf);
    const done = (line: string): void => {
      input.off("data", onData);
      input.off("end", onEnd);
      input.pause();
      (input as NodeJS.ReadStream & { unref?: () => void }).unref?.();
      resolve(line);
    };
    input.on("data", onData);
    input.once("end", onEnd);
    input.resume();
  });
}

/** Docker's `[y/N]` prompt: the message and question on stdout; true only for y/Y. */
export async function confirm(cli: Cli, message: string): Promise<boolean> {
  await write(cli.out, `${message}\nAre you sure you want to continue? [y/N] `);
  const answer = (await readLine()).trim().toLowerCase();
  return answer === "y";
}

/** `--filter` as docker declares it: with `-f` on listings, long-only where `-f` means `--force`. */
export function filterFlag(desc: string, opts: { short?: boolean } = {}): FlagSpec {
  const f: FlagSpec = { name: "filter", type: "list", typeName: "filter", desc };
  if (opts.short) f.short = "f";
  return f;
}

/** Docker's prune output: the deleted list under a heading, then the space reclaimed. */
export function pruneReport(heading: string, deleted: string[], reclaimed: string | undefined): string {
  let s = "";
  if (deleted.length) s += `${heading}:\n${deleted.join("\n")}\n\n`;
  if (reclaimed !== undefined) s += `Total reclaimed space: ${reclaimed}\n`;
  return s;
}

/** `k=v` flags into a map; a bare `k` maps to "" (docker's label and option maps). */
export function kvMap(values: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const v of values) {
    const eq = v.indexOf("=");
    if (eq < 0) out[v] = "";
    else out[v.slice(0, eq)] = v.slice(eq + 1);
  }
  return out;
}

/** Natural order as docker sorts names: digit runs compare as numbers. */
export function naturalLess(a: string, b: string): number {
  const re = /(\d+|\D+)/g;
  const pa = a.match(re) ?? [];
  const pb = b.match(re) ?? [];
  for (let i = 0; i < Math.min(pa.length, pb.length); i++) {
    const x = pa[i];
    const y = pb[i];
    if (x === y) continue;
    const nx = /^\d/.test(x);
    const ny = /^\d/.test(y);
    if (nx && ny) {
      const d = Number(x) - Number(y);
      if (d !== 0) return d;
      return x.length - y.length;
    }
    return x < y ? -1 : 1;
  }
  return pa.length - pb.length;
}

/** Sorted `k=v` pairs joined by commas, as docker's `.Labels` column shows them. */
export function labelsText(labels: Record<string, string> | null | undefined): string {
  return Object.keys(labels ?? {})
    .sort()
    .map((k) => `${k}=${labels?.[k]}`)
    .join(",");
}

/** A writable that keeps what is written in `chunks` (or drops it): for output shown only on failure. */
export function memoryWriter(chunks?: string[]): Writable {
  return {
    write(c: string | Buffer, cb?: () => void): boolean {
      chunks?.push(c.toString());
      cb?.();
      return true;
    },
  } as unknown as Writable;
}
