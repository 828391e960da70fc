import { type KernelFiles, realHost } from "../host/index.ts";

/** What /proc/<pid>/stat says about a process: its command name, state letter and start time in clock ticks. */
export interface ProcStat {
  comm: string;
  state: string;
  startTime: number;
}

/** Reads /proc/<pid>/stat; undefined when the process does not exist. */
export async function procStat(pid: number, o: { files?: KernelFiles } = {}): Promise<ProcStat | undefined> {
  if (!Number.isInteger(pid) || pid <= 0) return undefined;
  let text: string;
  try {
    text = await (o.files ?? realHost().files).read(`/proc/${pid}/stat`);
  } catch {
    return undefined;
  }
  return parseProcStat(text);
}

/** Parses the text of /proc/<pid>/stat (the command name may hold spaces and parentheses). */
export function parseProcStat(text: string): ProcStat | undefined {
  const open = text.indexOf("(");
  const close = text.lastIndexOf(")");
  if (open < 0 || close < open) return undefined;
  const rest = text
    .slice(close + 2)
    .trim()
    .split(" ");
  // Field 3 (state) is rest[0]; field 22 (starttime) is rest[19].
  const startTime = Number(rest[19]);
  if (!rest[0] || !Number.isFinite(startTime)) return undefined;
  return { comm: text.slice(open + 1, close), state: rest[0], startTime };
}

/** True when `pid` is a live (not zombie) process whose start time matches, i.e. not a reused pid. */
export async function isSameLiveProcess(
  pid: number,
  startTime?: number,
  o: { files?: KernelFiles } = {},
): Promise<boolean> {
  const st = await procStat(pid, o);
  if (!st || st.state === "Z" || st.state === "X") return false;
  return startTime === undefined || st.startTime === startTime;
}

/** `pid` and every process below it, from /proc/<pid>/task/<tid>/children (parents before children). */
export async function descendants(pid: number, o: { files?: KernelFiles } = {}): Promise<number[]> {
  const files = o.files ?? realHost().files;
  const out: number[] = [];
  const queue = [pid];
  while (queue.length && out.length < 100_000) {
    const p = queue.shift() as number;
    out.push(p);
    const tids = await files.readdir(`/proc/${p}/task`).catch(() => [] as string[]);
    for (const t of tids) {
      const kids = await files.read(`/proc/${p}/task/${t}/children`).catch(() => "");
      for (const k of kids.split(" ").filter(Boolean)) queue.push(Number(k));
    }
  }
  return out;
}
