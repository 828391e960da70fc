/**
 * The one conmon command line, for a container (conmon.ts) and for an exec session (exec.ts): both run
 * the container's OCI runtime with its global flags (its state root among them) and the same logging,
 * and differ only where this says.
 */

/** How one conmon is to run. */
export interface ConmonArgs {
  /** The container (-c). */
  containerId: string;
  /** conmon's own id (-u): the container's id, or the exec session's. */
  sessionId: string;
  /** The OCI runtime conmon runs (-r). */
  runtimePath: string;
  /** Its global flags (`--root=...` and the configured runtimeArgs), one --runtime-arg each. */
  runtimeArgs: readonly string[];
  /** -b: the bundle, or the session dir of an exec. */
  bundleDir: string;
  /** Where conmon keeps its files (pid, conmon.pid, exit, oom). */
  persistDir: string;
  /** Name conmon logs under (-n). */
  name: string;
  logLevel: string;
  /** "k8s-file:<path>" for a container, "none" for an exec (its output goes to the attached client only). */
  log: string;
  /** Where a container's exit code is written (exec sessions report theirs over the sync pipe). */
  exitDir?: string;
  tty: boolean;
  /** -i: keep a stdin pipe for attach. */
  stdin: boolean;
  /** --leave-stdin-open: the first client detaching does not close the container's stdin. */
  leaveStdinOpen?: boolean;
  /** --log-size-max in bytes; no limit when absent or 0. */
  logSizeMax?: number;
  /** An exec session: conmon runs `runc exec` with this process.json, after the attach handshake. */
  execProcessSpec?: string;
}

/** The argument list of one conmon (the pipes it uses are named in its environment, see conmonEnv). */
export function conmonArgs(o: ConmonArgs): string[] {
  const args = [
    "--api-version",
    "1",
    "-c",
    o.containerId,
    "-u",
    o.sessionId,
    "-r",
    o.runtimePath,
    "-b",
    o.bundleDir,
    "-p",
    `${o.persistDir}/pid`,
    "-n",
    o.name,
  ];
  if (o.exitDir) args.push("--exit-dir", o.exitDir);
  args.push(
    "--persist-dir",
    o.persistDir,
    "--full-attach",
    "-l",
    o.log,
    "--log-level",
    o.logLevel,
    "--syslog",
    "--conmon-pidfile",
    `${o.persistDir}/conmon.pid`,
  );
  for (const a of o.runtimeArgs) args.push("--runtime-arg", a);
  if (o.execProcessSpec) args.push("-e", "--exec-attach", "--exec-process-spec", o.execProcessSpec);
  if (o.tty) args.push("-t");
  if (o.stdin) {
    args.push("-i");
    if (o.leaveStdinOpen) args.push("--leave-stdin-open");
  }
  if (o.logSizeMax && o.logSizeMax > 0) args.push("--log-size-max", String(o.logSizeMax));
  return args;
}

/** conmon's environment: PATH and the fd numbers of its pipes; nothing else of the daemon's leaks in. */
export function conmonEnv(pipes: { sync: number; start?: number; attach?: number }): Record<string, string> {
  return {
    PATH: process.env.PATH ?? "/usr/sbin:/usr/bin:/sbin:/bin",
    _OCI_SYNCPIPE: String(pipes.sync),
    ...(pipes.start !== undefined ? { _OCI_STARTPIPE: String(pipes.start) } : {}),
    ...(pipes.attach !== undefined ? { _OCI_ATTACHPIPE: String(pipes.attach) } : {}),
  };
}
