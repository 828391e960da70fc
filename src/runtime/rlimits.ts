import { type KernelFiles, realHost } from "../host/index.ts";
import type { OciRlimit } from "../oci/index.ts";

const NAMES: Record<string, string> = {
  "Max open files": "RLIMIT_NOFILE",
  "Max processes": "RLIMIT_NPROC",
};

/**
 * The daemon's own NOFILE and NPROC limits, for SpecInput.defaultRlimits. Containers get what the daemon
 * has, because raising them past the host's hard limit fails with EPERM in runc.
 */
export function daemonRlimits(o: { files?: KernelFiles } = {}): OciRlimit[] {
  const text = (o.files ?? realHost().files).readSync("/proc/self/limits");
  const out: OciRlimit[] = [];
  for (const line of text.split("\n")) {
    for (const [label, type] of Object.entries(NAMES)) {
      if (!line.startsWith(label)) continue;
      const [soft, hard] = line.slice(label.length).trim().split(/\s+/);
      // "unlimited" is 2^64-1, which a JS number cannot carry into JSON; leaving it out inherits it anyway.
      const num = (v: string | undefined): number | undefined =>
        v && /^\d+$/.test(v) ? Number(v) : undefined;
      const s = num(soft);
      const h = num(hard);
      if (s !== undefined && h !== undefined) out.push({ type, soft: s, hard: h });
    }
  }
  return out;
}
