// `exec` and `attach`: hijacked streams into a running container, docker's exit-status rules.

import type { ExecCreateRequest } from "../apitypes/index.ts";
import { isApiError } from "../client/index.ts";
import { flag } from "./args.ts";
import { monitorTtySize, proxySignals, pumpStreams } from "./attach.ts";
import { bool, type CommandDef, list, StatusError, str } from "./common.ts";
import { readKvFile, resolveEnv } from "./runconfig.ts";

/** Docker's check before streaming a TTY: our stdin must be a terminal too. */
function checkTty(stdin: boolean, tty: boolean): void {
  if (stdin && tty && !process.stdin.isTTY) throw new StatusError(1, "the input device is not a TTY");
}

function consoleSize(tty: boolean): [number, number] | undefined {
  if (!tty || !process.stdout.isTTY) return undefined;
  return [process.stdout.rows, process.stdout.columns];
}

const exec: CommandDef = {
  spec: {
    name: "exec",
    usage: "exec [OPTIONS] CONTAINER COMMAND [ARG...]",
    desc: "Execute a command in a running container",
    aliases: ["container exec", "exec"],
    minArgs: 2,
    interspersed: false,
    flags: [
      flag.bool("detach", "Detached mode: run command in the background", { short: "d" }),
      flag.string("detach-keys", "Override the key sequence for detaching a container"),
      flag.list("env", "Set environment variables", { short: "e" }),
      flag.list("env-file", "Read in a file of environment variables"),
      flag.bool("interactive", "Keep STDIN open even if not attached", { short: "i" }),
      flag.bool("privileged", "Give extended privileges to the command"),
      flag.bool("tty", "Allocate a pseudo-TTY", { short: "t" }),
      flag.string("user", 'Username or UID (format: "<name|uid>[:<group|gid>]")', { short: "u" }),
      flag.string("workdir", "Working directory inside the container", { short: "w" }),
    ],
  },
  async run(cli, p) {
    const [container, ...cmd] = p.args;
    const client = cli.client();
    const detach = bool(p, "detach");
    const tty = bool(p, "tty");
    const interactive = bool(p, "interactive");
    const body: ExecCreateRequest = {
      User: str(p, "user"),
      Privileged: bool(p, "privileged"),
      Tty: tty,
      ConsoleSize: consoleSize(tty),
      AttachStdin: !detach && interactive,
      AttachStdout: !detach,
      AttachStderr: !detach,
      DetachKeys: str(p, "detach-keys"),
      Detach: detach,
      Env: [
        ...list(p, "env-file").flatMap((f) => readKvFile(f, { fromEnv: true })),
        ...resolveEnv(list(p, "env")),
      ],
      WorkingDir: str(p, "workdir"),
      Cmd: cmd,
    };
    // Checked before creating, so a bad terminal never leaves an exec instance behind (as docker does).
    await client.containerInspect(container);
    if (!detach) checkTty(!!body.AttachStdin, tty);
    const { Id: execId } = await client.execCreate(container, body);
    if (!execId) throw new StatusError(1, "exec ID empty");
    if (detach) {
      await client.execStartDetached(execId, { Tty: tty, ConsoleSize: body.ConsoleSize ?? null });
      return 0;
    }
    const stream = await client
      .execStart(execId, { Detach: false, Tty: tty, ConsoleSize: body.ConsoleSize ?? null })
      .catch((err: unknown) => {
        // Docker reports a refused upgrade by its status alone.
        if (isApiError(err)) throw new StatusError(1, `unable to upgrade to tcp, received ${err.statusCode}`);
        throw err;
      });
    const pump = pumpStreams(cli, stream, {
      tty,
      stdin: !!body.AttachStdin,
      stdout: true,
      stderr: true,
      detachKeys: body.DetachKeys,
    });
    const undo = tty ? monitorTtySize((size) => client.execResize(execId, size)) : () => {};
    try {
      await pump.done;
    } finally {
      undo();
      pump.stop();
      stream.destroy();
    }
    if (pump.detached()) return 0;
    // The exit status is the exec's, learnt once its stream ended.
    try {
      const ins = await client.execInspect(execId);
      if (ins?.ExitCode) return ins.ExitCode;
    } catch (err) {
      if (!isApiError(err, 404)) throw err;
    }
    return 0;
  },
};

const attach: CommandDef = {
  spec: {
    name: "attach",
    usage: "attach [OPTIONS] CONTAINER",
    desc: "Attach local standard input, output, and error streams to a running container",
    aliases: ["container attach", "attach"],
    minArgs: 1,
    maxArgs: 1,
    flags: [
      flag.string("detach-keys", "Override the key sequence for detaching a container"),
      flag.bool("no-stdin", "Do not attach STDIN"),
      flag.bool("sig-proxy", "Proxy all received signals to the process", { default: true }),
    ],
  },
  async run(cli, p) {
    const client = cli.client();
    const c = await client.containerInspect(p.args[0]);
    const st = c.State;
    if (!st?.Running) throw new StatusError(1, "You cannot attach to a stopped container, start it first");
    if (st.Paused) throw new StatusError(1, "You cannot attach to a paused container, unpause it first");
    if (st.Restarting)
      throw new StatusError(1, "You cannot attach to a restarting container, wait until it is running");
    const tty = !!c.Config?.Tty;
    const stdin = !bool(p, "no-stdin") && !!c.Config?.OpenStdin;
    checkTty(stdin, tty);
    const detachKeys = str(p, "detach-keys") || undefined;
    const stream = await client.containerAttach(p.args[0], {
      stream: true,
      stdin,
      stdout: true,
      stderr: true,
      detachKeys,
    });
    // Registered now so an exit while we stream is not missed.
    const wait = await client.containerWait(p.args[0], { condition: "not-running" });
    const undo: (() => void)[] = [];
    if (p.flags["sig-proxy"] !== false && !tty)
      undo.push(proxySignals((signal) => client.containerKill(p.args[0], { signal })));
    if (tty) undo.push(monitorTtySize((size) => client.containerResize(p.args[0], size)));
    const pump = pumpStreams(cli, stream, { tty, stdin, stdout: true, stderr: true, detachKeys });
    undo.push(pump.stop);
    try {
      await pump.done;
    } finally {
      for (const u of undo) u();
      stream.destroy();
    }
    if (pump.detached()) return 0;
    const status = await wait.result;
    if (status.Error?.Message) throw new StatusError(1, status.Error.Message);
    return status.StatusCode;
  },
};

/** The exec and attach commands. */
export const commands: Record<string, CommandDef> = { exec, attach };
