/**
 * The `dockerfile.v0` frontend: fetches the Dockerfile and the context from the client's session, then runs
 * wharf's one Dockerfile builder on them, its steps reported as vertices.
 */
import type { Readable } from "node:stream";
import { type BuildOptions, type BuildOutput, readIgnorePatterns } from "../build/index.ts";
import { receiveAsTar, receiveFiles } from "./fsutil.ts";
import { type ClientCall, Code, GrpcError } from "./grpc.ts";
import type { Progress } from "./progress.ts";
import { stepOutput } from "./progress.ts";
import { credentials, getSecret, type Session, SessionMethod, sshAgent } from "./session.ts";

/** What the frontend needs of the builder: the classic build's two phases. */
export interface FrontendBuilder {
  prepare(body: Readable, opts: BuildOptions): Promise<{ run(out: BuildOutput): Promise<string> }>;
}

/** Frontends BuildKit users name and wharf serves with its own builder. */
const DOCKERFILE_FRONTENDS = new Set(["dockerfile.v0", "gateway.v0"]);

/** `# syntax=` values that mean BuildKit's own Dockerfile frontend, which wharf's builder stands in for. */
const BUILTIN_SYNTAX =
  /^(docker\.io\/)?docker\/dockerfile(-upstream)?(:[0-9][\w.-]*|:latest|:labs)?(@sha256:[0-9a-f]{64})?$/;

function parseSyntax(text: string): string | undefined {
  for (const line of text.split("\n")) {
    const m = /^#\s*([a-zA-Z][a-zA-Z0-9]*)\s*=\s*(.*?)\s*$/.exec(line);
    if (!m) return undefined;
    if (m[1].toLowerCase() === "syntax") return m[2];
  }
  return undefined;
}

/** Checks the request names a frontend wharf has. */
export function checkFrontend(frontend: string, opts: Record<string, string>): void {
  if (!DOCKERFILE_FRONTENDS.has(frontend))
    throw new GrpcError(Code.INVALID_ARGUMENT, `frontend ${frontend} is not supported by wharf`);
  if (frontend === "gateway.v0" && opts.source && !BUILTIN_SYNTAX.test(opts.source))
    throw new GrpcError(Code.INVALID_ARGUMENT, `frontend image ${opts.source} is not supported by wharf`);
}

/** The builder's options from BuildKit's frontend attributes (`build-arg:X`, `label:X`, `target`, ...). */
export function buildOptions(opts: Record<string, string>): BuildOptions {
  const buildArgs: Record<string, string> = {};
  const labels: Record<string, string> = {};
  for (const [k, v] of Object.entries(opts)) {
    if (k.startsWith("build-arg:")) buildArgs[k.slice("build-arg:".length)] = v;
    else if (k.startsWith("label:")) labels[k.slice("label:".length)] = v;
    else if (k.startsWith("context:"))
      throw new GrpcError(
        Code.INVALID_ARGUMENT,
        `named build contexts (--build-context ${k.slice(8)}) are not supported by wharf`,
      );
  }
  const platform = opts.platform;
  if (platform?.includes(","))
    throw new GrpcError(
      Code.INVALID_ARGUMENT,
      `multi-platform builds (${platform}) are not supported by wharf`,
    );
  const hosts = (opts["add-hosts"] ?? "")
    .split(",")
    .filter(Boolean)
    .map((h) => h.replace("=", ":"));
  const net = opts["force-network-mode"];
  return {
    tags: [],
    dockerfile: opts.filename || "Dockerfile",
    buildArgs,
    target: opts.target || undefined,
    noCache: "no-cache" in opts,
    pull: opts["image-resolve-mode"] === "pull",
    rm: true,
    // A failed step's container goes too: BuildKit leaves none behind.
    forceRm: true,
    labels,
    quiet: false,
    networkMode: net && net !== "sandbox" ? net : undefined,
    extraHosts: hosts,
    shmSize: opts["shm-size"] ? Number(opts["shm-size"]) : undefined,
    platform: platform || undefined,
    cacheFrom: [],
    platformArgs: true,
  };
}

function posixBase(p: string): string {
  const i = p.lastIndexOf("/");
  return i < 0 ? p : p.slice(i + 1);
}

/** Runs a Dockerfile build whose inputs come over `session`; returns the image ID. */
export async function solveDockerfile(
  deps: { builder: FrontendBuilder; session: Session },
  o: { frontendOpt: Record<string, string>; progress: Progress; signal: AbortSignal },
): Promise<string> {
  const { session, builder } = deps;
  const { progress } = o;
  if (!session.methods.has(SessionMethod.diffCopy))
    throw new GrpcError(Code.INVALID_ARGUMENT, "the client's session offers no file sync");
  const opts = buildOptions(o.frontendOpt);
  const name = posixBase(o.frontendOpt.filename || "Dockerfile");
  const dfDir = o.frontendOpt.dockerfilekey || "dockerfile";
  const ctxDir = o.frontendOpt.contextkey || "context";

  const defV = progress.vertex(`[internal] load build definition from ${name}`);
  const dfFiles = await receiveFiles(
    cancellable(
      session.client.call(SessionMethod.diffCopy, {
        "dir-name": dfDir,
        "include-patterns": [name, `${name}.dockerignore`],
        followpaths: [name, `${name}.dockerignore`],
      }),
      o.signal,
    ),
  ).catch((e: unknown) => {
    defV.complete(String(e));
    throw e;
  });
  const text = dfFiles.get(name);
  if (text === undefined) {
    const msg = `failed to read dockerfile: open ${name}: no such file or directory`;
    defV.complete(msg);
    throw new GrpcError(Code.INVALID_ARGUMENT, msg);
  }
  // The client prints the status id and then the bytes itself: `transferring dockerfile: 154B done`.
  defV.status({ id: "transferring dockerfile:", current: text.length, done: true });
  defV.complete();
  const dockerfileText = text.toString("utf8");
  const syntax = parseSyntax(dockerfileText);
  if (syntax && !BUILTIN_SYNTAX.test(syntax))
    throw new GrpcError(
      Code.INVALID_ARGUMENT,
      `failed to solve with frontend dockerfile.v0: the # syntax=${syntax} frontend is not supported by wharf, which builds with its own Dockerfile frontend`,
    );

  let ignoreText = dfFiles.get(`${name}.dockerignore`)?.toString("utf8");
  if (ignoreText === undefined) {
    const ignV = progress.vertex("[internal] load .dockerignore");
    const got = await receiveFiles(
      cancellable(
        session.client.call(SessionMethod.diffCopy, {
          "dir-name": ctxDir,
          "include-patterns": [".dockerignore"],
          followpaths: [".dockerignore"],
        }),
        o.signal,
      ),
    );
    ignoreText = got.get(".dockerignore")?.toString("utf8");
    ignV.complete();
  }
  const excludes = ignoreText ? readIgnorePatterns(ignoreText) : [];

  const ctxV = progress.vertex("[internal] load build context");
  const meta: Record<string, string | string[]> = { "dir-name": ctxDir };
  if (excludes.length) meta["exclude-patterns"] = excludes;
  const transferStart = Date.now();
  const diff = session.client.call(SessionMethod.diffCopy, meta);
  const recv = receiveAsTar(diff);
  // The transfer stops too: a build ended mid-context (its Solve refused, the client gone) waits for no file.
  const onAbort = () => {
    diff.cancel();
    recv.tar.destroy(new GrpcError(Code.CANCELLED, "context canceled"));
  };
  o.signal.addEventListener("abort", onAbort);
  let build: Awaited<ReturnType<FrontendBuilder["prepare"]>>;
  try {
    // A secret the client lacks is simply absent (the step fails only when it says required=true).
    const secret = (id: string) => getSecret(session, id).catch(() => undefined);
    build = await builder.prepare(recv.tar, {
      ...opts,
      dockerfileText,
      secret,
      sshAgent: (id) => sshAgent(session, id),
      // Base images pull with the client's own credentials for the registry, as BuildKit's resolver asks them.
      registryAuth: async (host) => {
        const c = await credentials(session, host).catch(() => undefined);
        if (!c) return undefined;
        return c.username ? { username: c.username, password: c.secret } : { identitytoken: c.secret };
      },
    });
    const got = await recv.done;
    ctxV.status({ id: "transferring context:", current: got.bytes, done: true, started: transferStart });
    ctxV.complete();
  } catch (e) {
    ctxV.complete(e instanceof Error ? e.message : String(e));
    throw e;
  } finally {
    o.signal.removeEventListener("abort", onAbort);
  }

  const steps = stepOutput(progress, { signal: o.signal, inputs: [ctxV.digest] });
  try {
    const id = await build.run(steps.out);
    steps.finish();
    return id;
  } catch (e) {
    const msg = stepError(e);
    steps.finish(msg);
    throw new GrpcError(o.signal.aborted ? Code.CANCELLED : Code.UNKNOWN, msg);
  }
}

/** A session call that the build's end cancels: a build ended early (its Solve refused, the client gone) waits for no file. */
function cancellable(call: ClientCall, signal: AbortSignal): ClientCall {
  if (signal.aborted) call.cancel();
  else signal.addEventListener("abort", () => call.cancel(), { once: true });
  return call;
}

/** BuildKit's wording for a step that failed: the client prints it after `ERROR: failed to solve:`. */
function stepError(e: unknown): string {
  const msg = e instanceof Error ? e.message : String(e);
  const m = /^The command '(.*)' returned a non-zero code: (\d+)$/s.exec(msg);
  if (m) return `process "${m[1]}" did not complete successfully: exit code: ${m[2]}`;
  return msg;
}
