// `build` with the classic builder: the context directory (minus .dockerignore) or stdin as a tar,
// the Dockerfile placed in it, docker's query parameters, and its output and exit codes.
import { randomBytes } from "node:crypto";
import { lstat, readFile, realpath, stat, writeFile } from "node:fs/promises";
import { isAbsolute, join, relative, resolve, sep } from "node:path";
import { PassThrough, Readable } from "node:stream";
import type { BuildQuery } from "../apitypes/index.ts";
import { parseDockerignore } from "../util/index.ts";
import { addContext, addTarEntry, tarPack } from "../util/tar/index.ts";
import { type FlagSpec, flag, type Parsed } from "./args.ts";
import { bool, type Cli, type CommandDef, int, kvMap, list, StatusError, str, write } from "./common.ts";
import { displayJsonMessages, JsonStreamError } from "./progress.ts";
import { humanSize, parseRamBytes } from "./units.ts";

const FLAGS: FlagSpec[] = [
  flag.list("add-host", "Add a custom host-to-IP mapping (host:ip)"),
  flag.list("build-arg", "Set build-time variables"),
  flag.list("cache-from", "Images to consider as cache sources", { typeName: "strings" }),
  flag.string("cgroup-parent", 'Set the parent cgroup for the "RUN" instructions during build'),
  flag.bool("compress", "Compress the build context using gzip"),
  flag.int("cpu-period", "Limit the CPU CFS (Completely Fair Scheduler) period"),
  flag.int("cpu-quota", "Limit the CPU CFS (Completely Fair Scheduler) quota"),
  flag.int("cpu-shares", "CPU shares (relative weight)", { short: "c" }),
  flag.string("cpuset-cpus", "CPUs in which to allow execution (0-3, 0,1)"),
  flag.string("cpuset-mems", "MEMs in which to allow execution (0-3, 0,1)"),
  flag.bool("disable-content-trust", "Skip image verification", { default: true }),
  flag.string("file", 'Name of the Dockerfile (Default is "PATH/Dockerfile")', { short: "f" }),
  flag.bool("force-rm", "Always remove intermediate containers"),
  flag.string("iidfile", "Write the image ID to the file"),
  flag.string("isolation", "Container isolation technology"),
  flag.list("label", "Set metadata for an image"),
  flag.string("memory", "Memory limit", { short: "m", typeName: "bytes" }),
  flag.string("memory-swap", "Swap limit equal to memory plus swap: -1 to enable unlimited swap", {
    typeName: "bytes",
  }),
  flag.string("network", "Set the networking mode for the RUN instructions during build", {
    default: "default",
  }),
  flag.bool("no-cache", "Do not use cache when building the image"),
  flag.string("platform", "Set platform if server is multi-platform capable"),
  flag.bool("pull", "Always attempt to pull a newer version of the image"),
  flag.bool("quiet", "Suppress the build output and print image ID on success", { short: "q" }),
  flag.bool("rm", "Remove intermediate containers after a successful build", { default: true }),
  flag.list("security-opt", "Security options", { typeName: "strings" }),
  flag.string("shm-size", 'Size of "/dev/shm"', { typeName: "bytes" }),
  flag.bool("squash", "Squash newly built layers into a single new layer"),
  flag.list("tag", 'Name and optionally a tag in the "name:tag" format', { short: "t" }),
  flag.string("target", "Set the target build stage to build."),
  flag.list("ulimit", "Ulimit options", { typeName: "ulimit" }),
];

function prepErr(msg: string): StatusError {
  return new StatusError(1, `unable to prepare context: ${msg}`);
}

async function readAll(input: NodeJS.ReadableStream): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of input) chunks.push(typeof c === "string" ? Buffer.from(c) : (c as Buffer));
  return Buffer.concat(chunks);
}

/** True for a tar (ustar magic) or a compressed stream (gzip, bzip2, xz, zstd), as docker sniffs stdin. */
export function looksLikeArchive(head: Buffer): boolean {
  if (head.length > 262 && head.subarray(257, 262).toString("latin1") === "ustar") return true;
  const magic = [
    [0x1f, 0x8b],
    [0x42, 0x5a, 0x68],
    [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00],
    [0x28, 0xb5, 0x2f, 0xfd],
  ];
  return magic.some((m) => m.every((b, i) => head[i] === b));
}

/** The context tar and the Dockerfile's name in it. */
interface Context {
  body: Readable;
  dockerfile?: string;
}

async function contextFromDir(
  dir: string,
  dockerfileFlag: string,
  stdinDockerfile?: Buffer,
): Promise<Context> {
  let ctx: string;
  try {
    const s = await stat(dir);
    if (!s.isDirectory()) throw prepErr(`context must be a directory: ${resolve(dir)}`);
    ctx = await realpath(dir);
  } catch (err) {
    if (err instanceof StatusError) throw err;
    throw prepErr(`path "${dir}" not found`);
  }
  let dockerfilePath: string | undefined;
  if (!stdinDockerfile) {
    dockerfilePath = dockerfileFlag
      ? isAbsolute(dockerfileFlag)
        ? dockerfileFlag
        : resolve(dockerfileFlag)
      : join(ctx, "Dockerfile");
    if (!dockerfileFlag) {
      const lower = join(ctx, "dockerfile");
      if (
        !(await lstat(dockerfilePath).catch(() => undefined)) &&
        (await lstat(lower).catch(() => undefined))
      )
        dockerfilePath = lower;
    }
    try {
      dockerfilePath = await realpath(dockerfilePath);
    } catch {
      throw prepErr(
        `unable to evaluate symlinks in Dockerfile path: lstat ${await firstMissing(dockerfilePath)}: no such file or directory`,
      );
    }
  }
  const rules = parseDockerignore(await readFile(join(ctx, ".dockerignore"), "utf8").catch(() => ""));
  let relDockerfile = dockerfilePath ? relative(ctx, dockerfilePath).split(sep).join("/") : undefined;
  let extra: { name: string; data: Buffer } | undefined;
  if (stdinDockerfile || !relDockerfile || relDockerfile.startsWith("../")) {
    // A Dockerfile from outside the context (or stdin) travels in it under a random name, as docker does.
    const name = `.dockerfile.${randomBytes(10).toString("hex")}`;
    extra = { name, data: stdinDockerfile ?? (await readFile(dockerfilePath ?? "")) };
    relDockerfile = name;
  }
  const keep = new Set([".dockerignore", relDockerfile]);
  const pack = tarPack();
  const out = new PassThrough();
  (async () => {
    await addContext(pack, ctx, { rules, keep });
    if (extra)
      await addTarEntry(
        pack,
        { name: extra.name, mode: 0o600, uid: 0, gid: 0, mtime: new Date() },
        extra.data,
      );
    pack.finalize();
  })().catch((err: unknown) => pack.destroy(err as Error));
  Readable.from(pack as AsyncIterable<Buffer>).pipe(out);
  return { body: out, dockerfile: relDockerfile };
}

/** Build args as docker sends them: `K=V`, `K` from our environment, else `K` → null. */
export function buildArgs(values: string[]): Record<string, string | null> {
  const out: Record<string, string | null> = {};
  for (const v of values) {
    const eq = v.indexOf("=");
    if (eq >= 0) out[v.slice(0, eq)] = v.slice(eq + 1);
    else out[v] = process.env[v] ?? null;
  }
  return sortedMap(out);
}

/** A map with its keys in order, as Go's JSON encoder writes maps. */
function sortedMap<T>(m: Record<string, T>): Record<string, T> {
  const out: Record<string, T> = {};
  for (const k of Object.keys(m).sort()) out[k] = m[k];
  return out;
}

/** The first component of `p` that does not exist, as Go's EvalSymlinks reports it. */
async function firstMissing(p: string): Promise<string> {
  const parts = p.split("/").filter(Boolean);
  for (let i = 1; i <= parts.length; i++) {
    const prefix = `/${parts.slice(0, i).join("/")}`;
    if (!(await lstat(prefix).catch(() => undefined))) return prefix;
  }
  return p;
}

function bytesOf(p: Parsed, name: string): number | undefined {
  const v = str(p, name);
  if (!v) return undefined;
  if (v === "-1") return -1;
  return parseRamBytes(v);
}

async function makeContext(cli: Cli, p: Parsed): Promise<Context & { remote?: string }> {
  const arg = p.args[0];
  const file = str(p, "file");
  if (arg === "-") {
    if (file === "-")
      throw new StatusError(1, "invalid argument: can't use stdin for both build context and dockerfile");
    const data = await readAll(process.stdin);
    if (looksLikeArchive(data)) return { body: Readable.from([data]), dockerfile: file || undefined };
    const pack = tarPack();
    pack.entry({ name: "Dockerfile", mode: 0o600, uid: 0, gid: 0, mtime: new Date() }, data);
    pack.finalize();
    return { body: Readable.from(pack as AsyncIterable<Buffer>), dockerfile: "Dockerfile" };
  }
  if (/^(https?:\/\/|git@|git:\/\/|github\.com\/)/.test(arg)) {
    return { body: Readable.from([]), remote: arg, dockerfile: file || undefined };
  }
  const stdinDockerfile = file === "-" ? await readAll(process.stdin) : undefined;
  void cli;
  return contextFromDir(arg, file === "-" ? "" : file, stdinDockerfile);
}

const build: CommandDef = {
  spec: {
    name: "build",
    usage: "build [OPTIONS] PATH | URL | -",
    desc: "Build an image from a Dockerfile",
    aliases: ["image build", "build", "builder build"],
    minArgs: 1,
    maxArgs: 1,
    flags: FLAGS,
  },
  async run(cli, p) {
    const quiet = bool(p, "quiet");
    const ctx = await makeContext(cli, p);
    let sent = 0;
    const counted = new PassThrough();
    ctx.body.on("data", (c: Buffer) => {
      sent += c.length;
    });
    ctx.body.pipe(counted);
    const query: BuildQuery & Record<string, unknown> = {
      t: list(p, "tag"),
      dockerfile: ctx.dockerfile,
      remote: ctx.remote,
      q: quiet || undefined,
      nocache: bool(p, "no-cache") || undefined,
      pull: bool(p, "pull") || undefined,
      // Docker sends rm and networkmode only when they differ from the daemon's defaults.
      rm: p.flags.rm === false ? false : undefined,
      forcerm: bool(p, "force-rm") || undefined,
      target: str(p, "target") || undefined,
      platform: str(p, "platform") || undefined,
      networkmode: str(p, "network") && str(p, "network") !== "default" ? str(p, "network") : undefined,
      shmsize: bytesOf(p, "shm-size"),
      memory: bytesOf(p, "memory"),
      memswap: bytesOf(p, "memory-swap"),
      cpushares: int(p, "cpu-shares"),
      cpuperiod: int(p, "cpu-period"),
      cpuquota: int(p, "cpu-quota"),
      cpusetcpus: str(p, "cpuset-cpus") || undefined,
      cgroupparent: str(p, "cgroup-parent") || undefined,
      squash: bool(p, "squash") || undefined,
      version: "1",
    };
    if (list(p, "build-arg").length)
      query.buildargs = buildArgs(list(p, "build-arg")) as Record<string, string>;
    if (list(p, "label").length) query.labels = sortedMap(kvMap(list(p, "label")));
    if (list(p, "cache-from").length) query.cachefrom = list(p, "cache-from");
    if (list(p, "add-host").length) query.extrahosts = list(p, "add-host").join(",");
    const uploaded = new Promise<void>((r) => ctx.body.once("end", () => r()));
    const res = await cli.client().build(ctx.remote ? Buffer.alloc(0) : counted, query);
    if (!ctx.remote) await uploaded;
    if (!quiet && !ctx.remote)
      await write(cli.out, `Sending build context to Docker daemon ${humanSize(sent, 4).padStart(8)}\r\r\n`);
    let imageId = "";
    const tty = !!(cli.out as { isTTY?: boolean }).isTTY;
    const buffered: string[] = [];
    const sink = quiet
      ? ({
          write: (c: string | Buffer, cb?: () => void) => {
            buffered.push(c.toString());
            cb?.();
            return true;
          },
        } as unknown as NodeJS.WritableStream as import("node:stream").Writable)
      : cli.out;
    try {
      await displayJsonMessages(res, sink, {
        tty: tty && !quiet,
        onAux: (aux) => {
          if (typeof aux.ID === "string") imageId = aux.ID;
        },
      });
    } catch (err) {
      if (quiet && buffered.length) await write(cli.err, buffered.join(""));
      if (err instanceof JsonStreamError) throw new StatusError(err.code || 1, err.message);
      throw err;
    }
    // Quiet, the daemon's only output is the image ID, which docker prints as it came.
    if (quiet) await write(cli.out, buffered.join(""));
    const iid = str(p, "iidfile");
    if (iid) await writeFile(iid, imageId);
    return 0;
  },
};

/** The build command. */
export const commands: Record<string, CommandDef> = { build };
