/**
 * What differs when the OCI runtime is gVisor's runsc: it is recognised by its `--version`; its `ps` lists
 * the sandbox's own processes (their pids are the sandbox kernel's, not the host's); it has no `update`
 * (new limits go into the sandbox's cgroup on the host, cgroups.ts writeCgroupLimits), and it pauses with
 * `pause`/`resume` rather than through the cgroup freezer.
 *
 * The network trap: Debian's runsc (2022-12) decides it runs in the host's network namespace when
 * /proc/sys/net/core/rmem_default exists, which kernels since 6.x show in every namespace, and refuses to
 * start a networked sandbox. The container's namespace is not the host's (the bundle names a namespace of
 * the network driver's), so runsc's create and start run through a small wrapper that hides /proc/sys/net
 * behind an empty tmpfs in a private mount namespace of their own. Only containers with a network
 * namespace of their own use it; for one sharing the host's, runsc is left to refuse as it should.
 */
import { chmod, mkdir, writeFile } from "node:fs/promises";
import { dirname } from "node:path";
import type { Processes } from "../host/index.ts";
import type { OciProcess, OciSpec } from "../oci/index.ts";
import type { TopResult } from "./statstypes.ts";

/** The kind of command line a runtime speaks: runc's (runc, crun, youki) or gVisor's runsc. */
export type RuntimeFlavor = "runc" | "gvisor";

/** Capabilities newer than the 2022 runsc, which refuses a spec naming them ("unknown capability"). */
const UNKNOWN_CAPS = new Set(["CAP_PERFMON", "CAP_BPF", "CAP_CHECKPOINT_RESTORE"]);

/**
 * The bundle's spec as runsc takes it: without the capabilities it does not know, which `--privileged`
 * (every capability of the host's kernel) would otherwise name.
 */
export function gvisorSpec(spec: OciSpec): OciSpec {
  return { ...spec, process: gvisorProcess(spec.process) };
}

/** A process (the container's, or an exec session's) without the capabilities runsc does not know. */
export function gvisorProcess(p: OciProcess): OciProcess {
  const caps = p.capabilities;
  if (!caps) return p;
  const out: NonNullable<OciProcess["capabilities"]> = {};
  for (const k of ["bounding", "effective", "permitted", "inheritable", "ambient"] as const) {
    const l = caps[k]?.filter((c) => !UNKNOWN_CAPS.has(c));
    if (l) out[k] = l;
  }
  return { ...p, capabilities: out };
}

/** Asks the runtime for its version: runsc says "runsc version ...". */
export async function probeFlavor(path: string, o: { processes: Processes }): Promise<RuntimeFlavor> {
  return (await probeRuntime(path, o)).flavor;
}

/** What a runtime's `--version` tells: its flavor, and whether it is runc itself ("runc version ..."). */
export async function probeRuntime(
  path: string,
  o: { processes: Processes },
): Promise<{ flavor: RuntimeFlavor; runc: boolean }> {
  const out = await o.processes.run(path, ["--version"]).catch(() => "");
  return { flavor: /^runsc version/m.test(out) ? "gvisor" : "runc", runc: /^runc version/m.test(out) };
}

/** The wrapper script's text: runsc at `runscPath` with /proc/sys/net hidden (see the file comment). */
export function netnsWrapperScript(runscPath: string): string {
  return [
    "#!/bin/sh",
    "# Written by wharf: runs runsc with /proc/sys/net hidden, so that the 2022 runsc does not mistake the",
    "# container's network namespace for the host's (see src/runtime/gvisor.ts).",
    `exec unshare --mount --propagation slave /bin/sh -c 'mount -t tmpfs -o ro,size=4k,mode=0555 wharf-hide /proc/sys/net && exec "$0" "$@"' ${shq(runscPath)} "$@"`,
    "",
  ].join("\n");
}

/**
 * The exec wrapper's text: conmon asks for a TTY with runc's `exec --tty`, a flag runsc does not know (it
 * takes the terminal from process.json), so the wrapper drops it and runs runsc at `runscPath`.
 */
export function execWrapperScript(runscPath: string): string {
  return [
    "#!/bin/sh",
    "# Written by wharf: conmon's `exec --tty` is runc's; runsc reads the terminal from process.json.",
    'for a; do shift; [ "$a" = "--tty" ] || set -- "$@" "$a"; done',
    `exec ${shq(runscPath)} "$@"`,
    "",
  ].join("\n");
}

/** Writes a wrapper script to `file` (once per daemon start) and returns its path. */
export async function writeWrapper(file: string, text: string): Promise<string> {
  await mkdir(dirname(file), { recursive: true, mode: 0o700 });
  await writeFile(file, text, { mode: 0o700 });
  await chmod(file, 0o700);
  return file;
}

function shq(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

/**
 * `runsc ps <id>`'s table (UID PID PPID C TTY STIME TIME CMD) in the columns of Docker's default
 * `ps -ef` (UID PID PPID C STIME TTY TIME CMD); the pids are the sandbox's.
 */
export function parseRunscPs(out: string): TopResult {
  const titles = ["UID", "PID", "PPID", "C", "STIME", "TTY", "TIME", "CMD"];
  const lines = out.split("\n").filter((l) => l.trim() !== "");
  const head = (lines[0] ?? "").trim().split(/\s+/);
  const processes: string[][] = [];
  for (const line of lines.slice(1)) {
    const f = line.trim().split(/\s+/);
    const cmd = f.slice(head.length - 1).join(" ");
    const row = new Map(head.slice(0, -1).map((t, i) => [t, f[i] ?? ""]));
    row.set("CMD", cmd);
    processes.push(titles.map((t) => row.get(t) ?? ""));
  }
  return { titles, processes };
}
