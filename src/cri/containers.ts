/**
 * A pod's containers: CRI ContainerConfig as a wharf container in the sandbox's namespaces (network, IPC
 * and UTS always; PID per NamespaceOption), its log where kubelet reads it, and CRI's views of it.
 */
import { mkdir } from "node:fs/promises";
import { dirname, join } from "node:path";
import * as grpc from "@grpc/grpc-js";
import type { ContainerCreateRequest, ContainerInspectResponse } from "../apitypes/index.ts";
import type { ContainerService } from "../container/index.ts";
import {
  ConflictError,
  InvalidParameterError,
  isNotFound,
  isNotModified,
  NotFoundError,
} from "../errdefs/index.ts";
import {
  containerName,
  fromWharfLabels,
  IMAGE_LABEL,
  LOG_PATH_LABEL,
  METADATA_LABEL,
  parseMetadata,
  SANDBOX_ID_LABEL,
  selects,
  TYPE_CONTAINER,
  TYPE_LABEL,
  toWharfLabels,
} from "./labels.ts";
import type { Sandboxes } from "./sandboxes.ts";
import { clampOomScoreAdj, containerSecurity } from "./security.ts";
import { GrpcStatusError } from "./server.ts";
import { rfc3339ToNs } from "./times.ts";
import {
  type Container,
  type ContainerConfig,
  type ContainerMetadata,
  ContainerState,
  type ContainerStatus,
  type LinuxContainerResources,
  NamespaceMode,
  type PodSandboxConfig,
} from "./types.ts";

type HostConfig = NonNullable<ContainerCreateRequest["HostConfig"]>;

const PROPAGATION = ["rprivate", "rslave", "rshared"] as const;

/** CRI resources as HostConfig's (zero: not set, as containerd reads them). */
export function resourcesOf(r: LinuxContainerResources | null, ownOom: number): Partial<HostConfig> {
  if (!r) return {};
  const out: Partial<HostConfig> = {};
  if (r.cpuPeriod) out.CpuPeriod = r.cpuPeriod;
  if (r.cpuQuota) out.CpuQuota = r.cpuQuota;
  if (r.cpuShares) out.CpuShares = r.cpuShares;
  if (r.memoryLimitInBytes) out.Memory = r.memoryLimitInBytes;
  if (r.memorySwapLimitInBytes) out.MemorySwap = r.memorySwapLimitInBytes;
  if (r.cpusetCpus) out.CpusetCpus = r.cpusetCpus;
  if (r.cpusetMems) out.CpusetMems = r.cpusetMems;
  if (r.oomScoreAdj) out.OomScoreAdj = clampOomScoreAdj(r.oomScoreAdj, ownOom);
  return out;
}

/** The CRI state of a wharf container's state. */
function stateOf(ins: ContainerInspectResponse): number {
  const s = ins.State.Status;
  // A start that failed leaves wharf's container "created" with the error; for CRI it ran and exited.
  if (s === "created") return ins.State.Error ? ContainerState.EXITED : ContainerState.CREATED;
  if (s === "running" || s === "paused" || s === "restarting") return ContainerState.RUNNING;
  if (s === "exited" || s === "dead" || s === "removing") return ContainerState.EXITED;
  return ContainerState.UNKNOWN;
}

/** The CRI containers of wharf's container service. */
export class Containers {
  readonly #c: ContainerService;
  readonly #sandboxes: Sandboxes;
  readonly #ownOom: number;

  constructor(o: { containers: ContainerService; sandboxes: Sandboxes; ownOomScoreAdj: number }) {
    this.#c = o.containers;
    this.#sandboxes = o.sandboxes;
    this.#ownOom = o.ownOomScoreAdj;
  }

  /** The full ID of a CRI container (ID or unique prefix); NotFoundError for unknown ones and sandboxes. */
  resolve(id: string): string {
    if (!id) throw new InvalidParameterError("ContainerId should not be empty");
    // kubelet names containers by full ID, every second for each: no walk over all of them then.
    if (/^[0-9a-f]{64}$/.test(id) && this.#c.exists(id)) {
      if (this.#c.inspect(id).Config.Labels?.[TYPE_LABEL] === TYPE_CONTAINER) return id;
      throw new NotFoundError(`an error occurred when try to find container "${id}": not found`);
    }
    const hits = this.#all().filter((c) => c.Id.startsWith(id));
    if (hits.length > 1) throw new InvalidParameterError(`ambiguous ID "${id}"`);
    const hit = hits[0];
    if (!hit) throw new NotFoundError(`an error occurred when try to find container "${id}": not found`);
    return hit.Id;
  }

  #all() {
    return this.#c.list({ all: true, filters: { label: [`${TYPE_LABEL}=${TYPE_CONTAINER}`] } });
  }

  /** CreateContainer. */
  async create(req: {
    podSandboxId: string;
    config: ContainerConfig | null;
    sandboxConfig: PodSandboxConfig | null;
  }): Promise<string> {
    const cfg = req.config;
    const md = cfg?.metadata;
    if (!cfg || !md?.name) throw new InvalidParameterError("container config must include metadata");
    const image = cfg.image?.image;
    if (!image) throw new InvalidParameterError("container config must include an image");
    const sandbox = this.#sandboxes.record(req.podSandboxId);
    const sandboxIns = this.#sandboxes.inspect(sandbox.id);
    if (!sandboxIns.State.Running)
      throw new ConflictError(`sandbox container "${sandbox.id}" is not running`);
    const podMd = sandbox.config.metadata ?? { name: "", uid: "", namespace: "", attempt: 0 };
    const sc = cfg.linux?.securityContext ?? null;
    const ns = sc?.namespaceOptions;
    const sec = await containerSecurity(sc);
    // An absent option reads as POD (proto3's zero), as containerd reads it: the pod's PID namespace.
    const pidMode = ns?.pid ?? NamespaceMode.POD;
    let pid = "";
    if (pidMode === NamespaceMode.NODE) pid = "host";
    else if (pidMode === NamespaceMode.POD) pid = `container:${sandbox.id}`;
    else if (pidMode === NamespaceMode.TARGET && ns?.targetId) pid = `container:${this.resolve(ns.targetId)}`;
    const logDir = req.sandboxConfig?.logDirectory || sandbox.config.logDirectory;
    const logPath = cfg.logPath && logDir ? join(logDir, cfg.logPath) : undefined;
    if (logPath) await mkdir(dirname(logPath), { recursive: true });
    const hostConfig: HostConfig = {
      // Pods live in the host's user namespace, as containerd's CRI runs them unless a pod asks for one
      // of its own: the daemon's --userns-remap is for Docker's containers (a no-op without it).
      UsernsMode: "host",
      NetworkMode: `container:${sandbox.id}`,
      IpcMode: ns?.ipc === NamespaceMode.NODE ? "host" : `container:${sandbox.id}`,
      PidMode: pid,
      UTSMode: `container:${sandbox.id}`,
      CgroupParent: sandbox.config.linux?.cgroupParent ?? "",
      Mounts: cfg.mounts.map((m) => ({
        Type: "bind" as const,
        Source: m.hostPath,
        Target: m.containerPath,
        ReadOnly: m.readonly,
        BindOptions: { Propagation: PROPAGATION[m.propagation] ?? "rprivate" },
      })),
      Devices: cfg.devices.map((d) => ({
        PathOnHost: d.hostPath,
        PathInContainer: d.containerPath,
        CgroupPermissions: d.permissions || "rwm",
      })),
      Privileged: sec.Privileged,
      ReadonlyRootfs: sec.ReadonlyRootfs,
      CapAdd: sec.CapAdd,
      CapDrop: sec.CapDrop,
      GroupAdd: sec.GroupAdd,
      SecurityOpt: sec.SecurityOpt,
      ...(sec.MaskedPaths ? { MaskedPaths: sec.MaskedPaths } : {}),
      ...(sec.ReadonlyPaths ? { ReadonlyPaths: sec.ReadonlyPaths } : {}),
      ...resourcesOf(cfg.linux?.resources ?? null, this.#ownOom),
    };
    const create: ContainerCreateRequest = {
      Image: image,
      ...(cfg.command.length ? { Entrypoint: cfg.command } : {}),
      ...(cfg.args.length ? { Cmd: cfg.args } : {}),
      ...(cfg.workingDir ? { WorkingDir: cfg.workingDir } : {}),
      Env: cfg.envs.map((e) => `${e.key}=${e.value}`),
      User: sec.User,
      Tty: cfg.tty,
      OpenStdin: cfg.stdin,
      StdinOnce: cfg.stdinOnce,
      AttachStdin: cfg.stdin,
      Labels: toWharfLabels(cfg.labels, cfg.annotations, {
        [TYPE_LABEL]: TYPE_CONTAINER,
        [SANDBOX_ID_LABEL]: sandbox.id,
        [METADATA_LABEL]: JSON.stringify(md),
        [IMAGE_LABEL]: image,
        ...(logPath ? { [LOG_PATH_LABEL]: logPath } : {}),
      }),
      HostConfig: hostConfig,
    };
    const { Id } = await this.#c.create(create, {
      name: containerName(md, podMd),
      ...(logPath ? { logPath } : {}),
    });
    return Id;
  }

  /** StartContainer; a failure to start is Unknown, as containerd answers it (the status then says StartError). */
  async start(id: string): Promise<void> {
    const full = this.resolve(id);
    try {
      await this.#c.start(full);
    } catch (e) {
      if (isNotFound(e)) throw e;
      throw new GrpcStatusError(grpc.status.UNKNOWN, (e as Error).message);
    }
  }

  /** StopContainer: SIGTERM (or the image's stop signal), SIGKILL after `timeout` seconds. Idempotent. */
  async stop(id: string, timeout: number): Promise<void> {
    try {
      await this.#c.stop(this.resolve(id), { timeout: Math.max(0, timeout) });
    } catch (e) {
      if (!isNotModified(e)) throw e;
    }
  }

  /** RemoveContainer: killed if running; an unknown ID is no error, as in containerd. */
  async remove(id: string): Promise<void> {
    let full: string;
    try {
      full = this.resolve(id);
    } catch (e) {
      if (isNotFound(e)) return;
      throw e;
    }
    await this.#c.remove(full, { force: true, volumes: true });
  }

  #view(ins: ContainerInspectResponse): Container {
    const all = ins.Config.Labels ?? {};
    const { labels, annotations } = fromWharfLabels(all);
    return {
      id: ins.Id,
      podSandboxId: all[SANDBOX_ID_LABEL] ?? "",
      metadata: parseMetadata<ContainerMetadata>(all) ?? { name: ins.Name.replace(/^\//, ""), attempt: 0 },
      image: { image: all[IMAGE_LABEL] ?? ins.Config.Image ?? "", annotations: {} },
      imageRef: ins.Image,
      state: stateOf(ins),
      createdAt: rfc3339ToNs(ins.Created),
      labels,
      annotations,
    };
  }

  /** The inspect of a CRI container. */
  inspect(id: string): ContainerInspectResponse {
    return this.#c.inspect(this.resolve(id));
  }

  /** ListContainers with its filters: ID prefix, state, sandbox (ID prefix), labels. */
  list(
    filter: {
      id: string;
      state: { state: number } | null;
      podSandboxId: string;
      labelSelector: Record<string, string>;
    } | null,
  ): Container[] {
    return this.#all()
      .filter((c) => !filter?.id || c.Id.startsWith(filter.id))
      .filter(
        (c) => !filter?.podSandboxId || (c.Labels?.[SANDBOX_ID_LABEL] ?? "").startsWith(filter.podSandboxId),
      )
      .flatMap((c) => {
        try {
          return [this.#view(this.#c.inspect(c.Id))];
        } catch {
          return [];
        }
      })
      .filter((v) => !filter?.state || v.state === filter.state.state)
      .filter((v) => selects(filter?.labelSelector, v.labels));
  }

  /** ContainerStatus: state, times, exit code, reason and message as containerd words them. */
  status(id: string, verbose: boolean): { status: ContainerStatus; info: Record<string, string> } {
    const ins = this.inspect(id);
    const v = this.#view(ins);
    const st = ins.State;
    let reason = "";
    let exitCode = st.ExitCode;
    let finishedAt = v.state === ContainerState.EXITED ? rfc3339ToNs(st.FinishedAt) : "0";
    if (st.Status === "created" && st.Error) {
      // containerd's account of a start that failed: exit code 128, reason StartError.
      reason = "StartError";
      exitCode = 128;
      if (finishedAt === "0") finishedAt = String(v.createdAt);
    } else if (v.state === ContainerState.EXITED)
      reason = st.OOMKilled ? "OOMKilled" : st.ExitCode === 0 ? "Completed" : "Error";
    const hc = ins.HostConfig;
    const status: ContainerStatus = {
      id: v.id,
      metadata: v.metadata,
      state: v.state,
      createdAt: v.createdAt,
      startedAt: rfc3339ToNs(st.StartedAt),
      finishedAt,
      exitCode,
      image: v.image,
      imageRef: v.imageRef,
      reason,
      message: st.Error ?? "",
      labels: v.labels,
      annotations: v.annotations,
      mounts: (hc.Mounts ?? []).map((m) => ({
        containerPath: m.Target ?? "",
        hostPath: m.Source ?? "",
        readonly: !!m.ReadOnly,
        selinuxRelabel: false,
        propagation: Math.max(
          0,
          PROPAGATION.indexOf((m.BindOptions?.Propagation ?? "rprivate") as (typeof PROPAGATION)[number]),
        ),
      })),
      logPath: ins.Config.Labels?.[LOG_PATH_LABEL] ?? "",
      resources: {
        linux: {
          cpuPeriod: hc.CpuPeriod ?? 0,
          cpuQuota: hc.CpuQuota ?? 0,
          cpuShares: hc.CpuShares ?? 0,
          memoryLimitInBytes: hc.Memory ?? 0,
          oomScoreAdj: hc.OomScoreAdj ?? 0,
          cpusetCpus: hc.CpusetCpus ?? "",
          cpusetMems: hc.CpusetMems ?? "",
          memorySwapLimitInBytes: hc.MemorySwap ?? 0,
        },
      },
    };
    const info: Record<string, string> = {};
    if (verbose) {
      info.info = JSON.stringify({
        sandboxID: v.podSandboxId,
        pid: st.Pid,
        removing: st.Status === "removing",
        image: ins.Image,
        config: { metadata: v.metadata, image: v.image, labels: v.labels, annotations: v.annotations },
      });
    }
    return { status, info };
  }

  /** UpdateContainerResources. */
  async update(id: string, r: LinuxContainerResources | null): Promise<void> {
    await this.#c.update(this.resolve(id), resourcesOf(r, this.#ownOom));
  }

  /** The sandbox of a container, for exec and stats. */
  sandboxOf(id: string): string {
    return this.inspect(id).Config.Labels?.[SANDBOX_ID_LABEL] ?? "";
  }
}
