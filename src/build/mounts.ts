/**
 * `RUN --mount=...`: cache directories that outlive the build, tmpfs, read-only binds of the context, and
 * secrets from the client, given to the step's container as binds and tmpfs. Mount points are not part of the
 * step's layer.
 */
import { createHash, randomBytes } from "node:crypto";
import { chmod, chown, mkdir, rm, writeFile } from "node:fs/promises";
import { createServer, type Server } from "node:net";
import { join, posix } from "node:path";
import type { Duplex } from "node:stream";
import { InvalidParameterError } from "../errdefs/index.ts";
import { resolveInRoot } from "../runtime/index.ts";
import type { BuildContext } from "./context.ts";
import { BuildError } from "./errors.ts";

/** What one RUN step mounts, as the container's HostConfig takes it. */
export interface RunMounts {
  binds: string[];
  tmpfs: Record<string, string>;
  /** Paths (relative to /) the mounts create in the rootfs: left out of the layer. */
  targets: string[];
  /** Variables the step's process gets (SSH_AUTH_SOCK for an ssh mount). */
  env: string[];
  /** Removes what the mounts left on the host (secret files, agent sockets). */
  cleanup(): Promise<void>;
}

/** Where mounts get their inputs. */
export interface MountSources {
  /** `<dataRoot>/build`: cache mounts live under it. */
  dir: string;
  /** The build's scratch directory (secret files). */
  work: string;
  context: BuildContext;
  /** A secret the client offers (`--secret id=...`); undefined when it has none by that id. */
  secret?: (id: string) => Promise<Buffer | undefined>;
  /** The client's SSH agent by id (`--ssh`); undefined when it forwards none by that id. */
  sshAgent?: (id: string) => Promise<((conn: Duplex) => void) | undefined>;
  /** `from=<stage|image>`: that image's root filesystem, mounted read-only until `release`. */
  imageRootfs?: (from: string) => Promise<{ dir: string; release(): Promise<void> }>;
}

/** The `from=` values of a step's `--mount` flags: the stages or images the step reads, in order. */
export function mountSources(specs: string[]): string[] {
  return specs.map((s) => parseSpec(s).from).filter((f): f is string => !!f);
}

function parseSpec(spec: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const part of spec.split(",")) {
    if (!part) continue;
    const i = part.indexOf("=");
    const k = (i < 0 ? part : part.slice(0, i)).trim().toLowerCase();
    out[k] = i < 0 ? "true" : part.slice(i + 1).trim();
  }
  return out;
}

function truthy(v: string | undefined): boolean {
  return v !== undefined && v !== "false" && v !== "0";
}

function cleanTarget(t: string, workdir: string): string {
  return posix.normalize(posix.isAbsolute(t) ? t : posix.join(workdir || "/", t));
}

/** Prepares the mounts of a RUN step's `--mount` flags. */
export async function prepareMounts(
  specs: string[],
  o: MountSources & { workdir: string },
): Promise<RunMounts> {
  const m: RunMounts = { binds: [], tmpfs: {}, targets: [], env: [], cleanup: async () => undefined };
  const files: string[] = [];
  const held: { release(): Promise<void> }[] = [];
  const servers: Server[] = [];
  let sshCount = 0;
  m.cleanup = async () => {
    for (const srv of servers.splice(0)) await new Promise((r) => srv.close(r));
    for (const f of files) await rm(f, { force: true }).catch(() => undefined);
    for (const h of held.splice(0)) await h.release().catch(() => undefined);
  };
  try {
    for (const spec of specs) {
      const f = parseSpec(spec);
      const type = f.type ?? "bind";
      const rawTarget = f.target ?? f.dst ?? f.destination;
      const ro = truthy(f.readonly ?? f.ro);
      if (type === "secret") {
        const id = f.id ?? (rawTarget ? posix.basename(rawTarget) : "");
        if (!id) throw new InvalidParameterError("RUN --mount=type=secret needs an id or a target");
        const target = cleanTarget(rawTarget ?? `/run/secrets/${id}`, "/");
        const data = o.secret ? await o.secret(id) : undefined;
        if (data === undefined) {
          if (truthy(f.required)) throw new BuildError(`secret ${id}: not found`);
          continue;
        }
        await mkdir(o.work, { recursive: true, mode: 0o700 });
        const file = join(o.work, `secret-${randomBytes(8).toString("hex")}`);
        files.push(file);
        await writeFile(file, data, { mode: 0o600 });
        await chown(file, Number(f.uid ?? 0), Number(f.gid ?? 0));
        await chmod(file, f.mode ? Number.parseInt(f.mode, 8) : 0o400);
        m.binds.push(`${file}:${target}:ro`);
        m.targets.push(target.slice(1));
        continue;
      }
      if (type === "ssh") {
        const index = sshCount++;
        const id = f.id || "default";
        const forward = o.sshAgent ? await o.sshAgent(id) : undefined;
        if (!forward) {
          if (truthy(f.required))
            throw new BuildError(`no SSH key ${JSON.stringify(id)} forwarded from the client`);
          continue;
        }
        // BuildKit's place for the nth agent socket; the first one is the step's SSH_AUTH_SOCK.
        const target = cleanTarget(rawTarget ?? `/run/buildkit/ssh_agent.${index}`, "/");
        await mkdir(o.work, { recursive: true, mode: 0o700 });
        const file = join(o.work, `ssh-${randomBytes(8).toString("hex")}.sock`);
        const srv = createServer((conn) => forward(conn));
        await new Promise<void>((resolve, reject) => {
          srv.once("error", reject);
          srv.listen(file, () => resolve());
        });
        servers.push(srv);
        files.push(file);
        await chown(file, Number(f.uid ?? 0), Number(f.gid ?? 0));
        await chmod(file, f.mode ? Number.parseInt(f.mode, 8) : 0o600);
        m.binds.push(`${file}:${target}`);
        m.targets.push(target.slice(1));
        if (!m.env.some((e) => e.startsWith("SSH_AUTH_SOCK="))) m.env.push(`SSH_AUTH_SOCK=${target}`);
        continue;
      }
      if (!rawTarget) throw new InvalidParameterError(`RUN --mount=type=${type} needs a target`);
      const target = cleanTarget(rawTarget, o.workdir);
      if (type === "cache") {
        if (f.from) throw new BuildError("RUN --mount=type=cache,from=... is not supported by wharf");
        const id = f.id ?? target;
        const dir = join(o.dir, "cache-mounts", createHash("sha256").update(id).digest("hex").slice(0, 32));
        await mkdir(dir, { recursive: true, mode: 0o755 });
        if (f.mode) await chmod(dir, Number.parseInt(f.mode, 8));
        if (f.uid || f.gid) await chown(dir, Number(f.uid ?? 0), Number(f.gid ?? 0));
        m.binds.push(`${dir}:${target}${ro ? ":ro" : ""}`);
      } else if (type === "tmpfs") {
        m.tmpfs[target] = f.size ? `size=${f.size}` : "";
      } else if (type === "bind" && f.from) {
        if (!o.imageRootfs) throw new BuildError("RUN --mount=type=bind,from=... is not available here");
        const root = await o.imageRootfs(f.from);
        held.push(root);
        // Links in the stage resolve inside it: a stage cannot name a host path as the source.
        const src = await resolveInRoot(root.dir, f.source ?? f.src ?? "/");
        // The image's view is read-only (its overlay's upper dir is thrown away): rw is accepted, as
        // BuildKit's, and writes go nowhere.
        m.binds.push(`${src}:${target}${truthy(f.rw ?? f.readwrite) ? "" : ":ro"}`);
      } else if (type === "bind") {
        await o.context.materialize();
        const src = posix.normalize(`/${f.source ?? f.src ?? "."}`);
        // Writes with rw land in the build's private copy of the context, never the client's.
        m.binds.push(`${join(o.context.dir, src)}:${target}${truthy(f.rw ?? f.readwrite) ? "" : ":ro"}`);
      } else throw new BuildError(`RUN --mount=type=${type} is not supported by wharf`);
      m.targets.push(target.slice(1));
    }
  } catch (e) {
    await m.cleanup();
    throw e;
  }
  return m;
}
