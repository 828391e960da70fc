/** Log levels in increasing severity, as dockerd's --log-level takes them. */
export type LogLevel = "debug" | "info" | "warn" | "error" | "fatal";
const order: Record<LogLevel, number> = { debug: 0, info: 1, warn: 2, error: 3, fatal: 4 };

let threshold = order.info;

/** Sets the minimum level written. */
export function setLogLevel(level: LogLevel): void {
  threshold = order[level];
}

/** Writes one logfmt-style line to stderr when `level` passes the threshold. */
export function log(level: LogLevel, msg: string, fields: Record<string, unknown> = {}): void {
  if (order[level] < threshold) return;
  let line = `time="${new Date().toISOString()}" level=${level} msg=${JSON.stringify(msg)}`;
  for (const [k, v] of Object.entries(fields))
    line += ` ${k}=${JSON.stringify(v instanceof Error ? v.message : v)}`;
  process.stderr.write(`${line}\n`);
}
