import type { ContainerCreateRequest } from "../apitypes/index.ts";
import type { ExecManager } from "./exec.ts";
import type { ContainerFiles } from "./files.ts";
import type { ContainerIO } from "./io.ts";
import type { Lifecycle } from "./lifecycle.ts";
import type { Queries } from "./queries.ts";
import type { Registry } from "./registry.ts";
import type { Supervisor } from "./supervise.ts";

/** The parts of the container service, each built with the narrow dependencies it uses (see daemon/). */
export interface ContainerParts {
  registry: Registry;
  create: (
    req: ContainerCreateRequest,
    opts: { name?: string; logPath?: string },
  ) => Promise<{ Id: string; Warnings: string[] }>;
  lifecycle: Lifecycle;
  io: ContainerIO;
  files: ContainerFiles;
  supervisor: Supervisor;
  queries: Queries;
  execs: ExecManager;
}

/** The named methods of an object, bound to it: a part's operations offered as they are, not re-declared. */
function bound<T extends object, K extends keyof T>(o: T, keys: readonly K[]): Pick<T, K> {
  const out = {} as Pick<T, K>;
  for (const k of keys) {
    const v = o[k];
    out[k] = (typeof v === "function" ? v.bind(o) : v) as T[K];
  }
  return out;
}

/**
 * The container service the API and daemon use: the operations of its parts under one name. Each is
 * documented where it is implemented: lookup and rename on the registry; start/stop/kill/remove, exits and
 * restart policies on the lifecycle; attach, logs, wait on I/O; cp, diff, export on files; stats, top, pause
 * and update on the supervisor; inspect and list on the queries; exec sessions on the exec manager.
 */
export function containerService(p: ContainerParts) {
  return {
    create: p.create,
    ...bound(p.registry, ["exists", "resolveId", "rename", "removeLink", "announce"]),
    ...bound(p.lifecycle, ["init", "start", "stop", "kill", "restart", "remove", "prune", "refreshDns"]),
    ...bound(p.io, ["wait", "attach", "resize", "logs"]),
    ...bound(p.files, ["archiveStat", "archiveGet", "archivePut", "changes", "export", "sizes"]),
    ...bound(p.supervisor, ["stats", "top", "pause", "unpause", "update"]),
    ...bound(p.queries, ["inspect", "list", "listJson", "counts", "imageUse"]),
    execCreate: p.execs.create.bind(p.execs),
    execStart: p.execs.start.bind(p.execs),
    execStreamInfo: p.execs.streamInfo.bind(p.execs),
    execInspect: p.execs.inspect.bind(p.execs),
    execResize: p.execs.resize.bind(p.execs),
    execKill: p.execs.kill.bind(p.execs),
  };
}

/** The container service: see containerService. */
export type ContainerService = ReturnType<typeof containerService>;
