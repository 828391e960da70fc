import type { Writable } from "node:stream";
import type { EngineClient, TlsOptions } from "../client/index.ts";
import type { CommandSpec, Parsed } from "./args.ts";

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
export function bool(p: Parsed, name: string): boolean {
  return p.flags[name] === true;
}

/** Reads a list flag. */
export function list(p: Parsed, name: string): string[] {
  const v = p.flags[name];
  return Array.isArray(v) ? v : [];
}

/** Reads an int flag, or undefined when unset. */
export function int(p: Parsed, name: string): number | undefined {
  const v = p.flags[name];
  return typeof v === "number" ? v : undefined;
}

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
