/**
 * `docker top`, as dockerd does it: run `ps <args>` on the host for the container's pids and keep the rows
 * whose PID is one of them. The header gives the titles; each row is split on ASCII blanks into as many
 * fields, the last title taking the rest of the line (the command with its spaces). Thread rows (PID "-",
 * with `-L`/`m`) belong to the process row above them. With a custom format (`-o`, `o`, `--format`) a
 * hidden PID column is put first, so `docker top c -o comm` works.
 */
import { SystemError } from "../errdefs/index.ts";
import { ProcessError, type Processes } from "../host/index.ts";
import type { TopResult } from "./statstypes.ts";

/** Runs `ps` with `psArgs` (Docker's default "-ef" when empty) and keeps the rows of `pids`. */
export async function runTop(
  pids: readonly number[],
  psArgs: string,
  o: { processes: Processes },
): Promise<TopResult> {
  const custom = psArgs.trim() !== "";
  let args = custom ? psArgs.split(" ") : ["-ef"];
  const extraPid = custom && hasCustomFormat(args);
  if (extraPid) args = ["-opid", ...args];
  let out: string;
  try {
    // Asking ps for the pids alone is cheapest; some options (f, -C) refuse -q, so retry listing all.
    out = await ps(o.processes, [...args, `-q${pids.join(",")}`]);
  } catch {
    out = await ps(o.processes, args);
  }
  return parsePsOutput(out, pids, extraPid);
}

async function ps(processes: Processes, args: string[]): Promise<string> {
  try {
    return await processes.run("ps", args, {
      maxBuffer: 64 * 1024 * 1024,
      env: { PATH: process.env.PATH ?? "/usr/bin:/bin" },
    });
  } catch (err) {
    const first = (err instanceof ProcessError ? err.stderr : "").split("\n")[0]?.trim();
    throw new SystemError(`ps: ${first || (err as Error).message}`, { cause: err });
  }
}

/**
 * Splits `ps` output into titles and the rows whose PID is in `pids`. `extraPid`: the first column is a
 * PID column we added, dropped from the result.
 */
export function parsePsOutput(out: string, pids: readonly number[], extraPid = false): TopResult {
  const lines = out.split("\n");
  let titles = fields(lines[0] ?? "");
  let pidCol = titles.indexOf("PID");
  if (extraPid) pidCol = titles[0] === "PID" ? 0 : -1;
  if (pidCol < 0) throw new SystemError("Couldn't find PID field in ps output");
  const first = extraPid ? 1 : 0;
  titles = titles.slice(first);
  const wanted = new Set(pids);
  const processes: string[][] = [];
  let lastKept = false;
  for (const line of lines.slice(1)) {
    if (line === "") continue;
    const f = fields(line);
    const pidText = f[pidCol] ?? "";
    if (pidText === "-") {
      if (lastKept) processes.push(row(f.slice(first), titles.length));
      continue;
    }
    const pid = Number(pidText);
    if (!/^\d+$/.test(pidText)) throw new SystemError(`Unexpected pid '${pidText}'`);
    lastKept = wanted.has(pid);
    if (lastKept) processes.push(row(f.slice(first), titles.length));
  }
  return { titles, processes };
}

function row(f: string[], n: number): string[] {
  const out = f.slice(0, n - 1);
  out.push(f.slice(n - 1).join(" "));
  return out;
}

function fields(s: string): string[] {
  return s.split(/[\t\n\f\r ]+/).filter(Boolean);
}

// ps options that take the next argument when given alone (`-U root`, `--sort pid`).
const SHORT_WITH_ARG = new Set(["-C", "-G", "-g", "-O", "-p", "-q", "-s", "-t", "-u", "-U"]);
const LONG_WITH_ARG = new Set([
  "--cols",
  "--columns",
  "--Group",
  "--group",
  "--lines",
  "--pid",
  "--ppid",
  "--quick-pid",
  "--rows",
  "--sid",
  "--sort",
  "--tty",
  "--User",
  "--user",
  "--width",
]);

/** True when the ps arguments choose their own columns (`-o`, `o` among BSD letters, `--format`). */
export function hasCustomFormat(args: readonly string[]): boolean {
  let skipNext = false;
  for (const arg of args) {
    if (skipNext) {
      skipNext = false;
      continue;
    }
    if (arg.startsWith("-o") || arg.startsWith("o") || arg.startsWith("--format")) return true;
    if (arg.startsWith("--")) {
      if (!arg.includes("=") && LONG_WITH_ARG.has(arg)) skipNext = true;
      continue;
    }
    if (arg.startsWith("-") && arg.length >= 2) {
      if (SHORT_WITH_ARG.has(arg.slice(0, 2))) {
        skipNext = arg.length === 2;
        continue;
      }
    }
    // BSD letters run together: an `o` is the format option, unless an option taking an argument
    // came first and the rest of the word is its value.
    for (let i = 0; i < arg.length; i++) {
      const c = arg[i];
      if (c === "o") return true;
      if (c !== undefined && "pqtUOk".includes(c)) {
        skipNext = i === arg.length - 1;
        break;
      }
    }
  }
  return false;
}
