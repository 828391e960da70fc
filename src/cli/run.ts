// `run` and `create`: build the request, create (pulling a missing image), then either print the ID
// (`-d`, `create`) or run in the foreground with docker's attach-before-start flow.
import { writeFileSync } from "node:fs";
import type { ContainerCreateRequest } from "../apitypes/index.ts";
import { isApiError } from "../client/index.ts";
import { type CommandSpec, type Parsed, UsageError } from "./args.ts";
import { runForeground, StartFailed, startErrorCode } from "./attach.ts";
import { bool, type Cli, type CommandDef, errorText, StatusError, str, write } from "./common.ts";
import { pullImage, withDefaultTag } from "./pull.ts";
import { buildCreateRequest, FlagValueError } from "./runconfig.ts";
import { CREATE_FLAGS, RUN_FLAGS } from "./runflags.ts";

function failure(cmd: string, code: number, err: unknown): StatusError {
  return new StatusError(code, `wharf: ${errorText(err)}\n\nRun 'wharf ${cmd} --help' for more information`);
}

/** Creates the container, pulling the image first if it is missing (and `--pull` allows). */
async function createContainer(
  cli: Cli,
  p: Parsed,
  req: ContainerCreateRequest,
  cmd: string,
): Promise<string> {
  const client = cli.client();
  const image = req.Image ?? "";
  const pull = str(p, "pull") || "missing";
  if (!["missing", "always", "never"].includes(pull)) {
    throw new StatusError(
      125,
      `wharf: invalid pull option: '${pull}': must be one of "always", "missing" or "never"`,
    );
  }
  // A function, so stderr (a stream Node makes on first use) is made only when there is a pull to report.
  const pullOpts = () => ({ out: cli.err, quiet: bool(p, "quiet"), platform: str(p, "platform") });
  try {
    if (pull === "always") await pullImage(client, image, pullOpts());
  } catch (err) {
    throw failure(cmd, 125, err);
  }
  const query = { name: str(p, "name") || undefined, platform: str(p, "platform") || undefined };
  let res: Awaited<ReturnType<typeof client.containerCreate>>;
  try {
    res = await client.containerCreate(req, query);
  } catch (err) {
    if (!(isApiError(err, 404) && /no such image/i.test(err.message) && pull === "missing"))
      throw failure(cmd, 125, err);
    await write(cli.err, `Unable to find image '${withDefaultTag(image)}' locally\n`);
    try {
      await pullImage(client, image, pullOpts());
      res = await client.containerCreate(req, query);
    } catch (err2) {
      throw failure(cmd, 125, err2);
    }
  }
  for (const w of res.Warnings ?? []) await write(cli.err, `WARNING: ${w}\n`);
  const cidfile = str(p, "cidfile");
  if (cidfile) {
    try {
      writeFileSync(cidfile, res.Id, { flag: "wx" });
    } catch (err) {
      throw failure(
        cmd,
        125,
        new Error(`failed to write the container ID to the file: ${(err as Error).message}`),
      );
    }
  }
  return res.Id;
}

function requestFrom(cmd: string, p: Parsed, spec: CommandSpec): ContainerCreateRequest {
  const [image, ...args] = p.args;
  if (
    cmd === "run" &&
    bool(p, "tty") &&
    bool(p, "interactive") &&
    !bool(p, "detach") &&
    !process.stdin.isTTY
  ) {
    throw new StatusError(1, "the input device is not a TTY");
  }
  try {
    return buildCreateRequest(p, image, args);
  } catch (err) {
    if (err instanceof StatusError) throw err;
    if (err instanceof FlagValueError) throw failure(cmd, 125, err);
    if (err instanceof UsageError) throw new UsageError(err.message, { code: err.code, spec });
    throw failure(cmd, 125, err);
  }
}

const runSpec: CommandSpec = {
  name: "run",
  usage: "run [OPTIONS] IMAGE [COMMAND] [ARG...]",
  desc: "Create and run a new container from an image",
  aliases: ["container run", "run"],
  flags: RUN_FLAGS,
  interspersed: false,
  minArgs: 1,
};

const run: CommandDef = {
  spec: runSpec,
  async run(cli, p) {
    const req = requestFrom("run", p, runSpec);
    const id = await createContainer(cli, p, req, "run");
    const client = cli.client();
    if (bool(p, "detach")) {
      try {
        await client.containerStart(id);
      } catch (err) {
        throw failure("run", startErrorCode(errorText(err)), err);
      }
      await write(cli.out, `${id}\n`);
      return 0;
    }
    try {
      return await runForeground(cli, {
        id,
        tty: !!req.Tty,
        stdin: !!req.AttachStdin,
        stdout: !!req.AttachStdout,
        stderr: !!req.AttachStderr,
        autoRemove: !!req.HostConfig?.AutoRemove,
        sigProxy: p.flags["sig-proxy"] !== false,
        detachKeys: str(p, "detach-keys") || undefined,
      });
    } catch (err) {
      if (err instanceof StartFailed) {
        const msg = errorText(err.cause);
        throw failure("run", startErrorCode(msg), err.cause);
      }
      throw err;
    }
  },
};

const create: CommandDef = {
  spec: {
    name: "create",
    usage: "create [OPTIONS] IMAGE [COMMAND] [ARG...]",
    desc: "Create a new container",
    aliases: ["container create", "create"],
    flags: CREATE_FLAGS,
    interspersed: false,
    minArgs: 1,
  },
  async run(cli, p) {
    const req = requestFrom("create", p, create.spec);
    const id = await createContainer(cli, p, req, "create");
    await write(cli.out, `${id}\n`);
    return 0;
  },
};

/** The run/create commands, by key. */
export const commands: Record<string, CommandDef> = { run, create };
