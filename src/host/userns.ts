/**
 * User namespaces: whether this process runs in one (a rootless daemon), and the subordinate id ranges
 * (/etc/subuid, /etc/subgid) that newuidmap/newgidmap let a user map into one.
 */
import { readFileSync } from "node:fs";

/** The identity map of the initial user namespace: every id maps to itself. */
const INITIAL_MAP = /^\s*0\s+0\s+4294967295\s*$/;

let cached: boolean | undefined;

/** Whether this process runs inside a user namespace (its uid_map is not the initial identity map). */
export function inUserNamespace(): boolean {
  if (cached === undefined) {
    try {
      cached = !INITIAL_MAP.test(readFileSync("/proc/self/uid_map", "utf8"));
    } catch {
      cached = false;
    }
  }
  return cached;
}

/** One subordinate range: `count` ids from `start`. */
export interface SubidRange {
  start: number;
  count: number;
}

/**
 * The ranges /etc/subuid (or /etc/subgid) text grants a user, named by login or by numeric id, in file
 * order (newuidmap's order too).
 */
export function parseSubids(text: string, who: { name: string; id: number }): SubidRange[] {
  const out: SubidRange[] = [];
  for (const line of text.split("\n")) {
    const [owner, start, count] = line.trim().split(":");
    if (!owner || !start || !count || !/^\d+$/.test(start) || !/^\d+$/.test(count)) continue;
    if (owner !== who.name && owner !== String(who.id)) continue;
    if (Number(count) > 0) out.push({ start: Number(start), count: Number(count) });
  }
  return out;
}

/** The first of a user's subordinate ranges in `file`; undefined when the file has none for them. */
export function firstSubidRange(file: string, who: { name: string; id: number }): SubidRange | undefined {
  let text = "";
  try {
    text = readFileSync(file, "utf8");
  } catch {
    return undefined;
  }
  return parseSubids(text, who)[0];
}
