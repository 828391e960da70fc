/**
 * Pod sandboxes: a wharf container running the pause process, which holds the pod's network, IPC and UTS
 * namespaces (and PID, when the pod shares it); its network comes from CNI, or is the host's.
 */
import type { ContainerCreateRequest, ContainerInspectResponse } from "../apitypes/index.ts";
import type { ContainerService } from "../container/index.ts";
import { InvalidParameterError, isNotFound, isNotModified, NotFoundError } from "../errdefs/index.ts";
import { log } from "../util/index.ts";
import { type CniPortMapping, type CniRunner, podIp } from "./cni.ts";
import {
  fromWharfLabels,
  METADATA_LABEL,
  parseMetadata,
  SANDBOX_ID_LABEL,
  sandboxName,
  selects,
  TYPE_CONTAINER,
  TYPE_LABEL,
  TYPE_SANDBOX,
  toWharfLabels,
} from "./labels.ts";
import { PAUSE_IMAGE, type PauseImage } from "./pause.ts";
import { clampOomScoreAdj, sandboxSecurity } from "./security.ts";
import type { SandboxRecord, SandboxStore } from "./state.ts";
import { rfc3339ToNs } from "./times.ts";
import {
  NamespaceMode,
  type NamespaceOption,
  type PodSandbox,
  type PodSandboxConfig,
  type PodSandboxMetadata,
  type PodSandboxStatus,
  SandboxState,
} from "./types.ts";

const PROTOCOLS = ["tcp", "udp", "sctp"];

/** The namespace options of a pod, POD mode for whatever kubelet left out. */
export function namespaceOptions(config: PodSandboxConfig | undefined): NamespaceOption {
  const o = config?.linux?.securityContext?.namespaceOptions;
  return { network: o?.network ?? 0, pid: o?.pid ?? 0, ipc: o?.ipc ?? 0, targetId: o?.targetId ?? "" };
}

/** Keeps a pod's network namespace alive from CNI ADD to CNI DEL, whatever happens to its pause process. */
export interface NetnsPins {
  /** Bind-mounts `source` (a namespace file) on the pod's own path; that path. */
  pin(id: string, source: string): Promise<string>;
  /** Unmounts and removes the pod's path (no-op when there is none). */
  unpin(id: string): Promise<void>;
}

/** Pod sandboxes over the container service. */
export class Sandboxes {
  readonly #c: ContainerService;
  readonly #store: SandboxStore;
  readonly #cni: CniRunner;
  readonly #pause: PauseImage;
  readonly #ownOom: number;
  readonly #netns: NetnsPins;

  constructor(o: {
    containers: ContainerService;
    store: SandboxStore;
    cni: CniRunner;
    pause: PauseImage;
    ownOomScoreAdj: number;
    netns: NetnsPins;
  }) {
    this.#c = o.containers;
    this.#store = o.store;
    this.#cni = o.cni;
    this.#pause = o.pause;
    this.#ownOom = o.ownOomScoreAdj;
    this.#netns = o.netns;
  }

  /** The inspect of a sandbox's container, by ID or unique ID prefix; NotFoundError when there is none. */
  inspect(id: string): ContainerInspectResponse {
    const full = this.resolve(id);
    return this.#c.inspect(full);
  }

  /** The full ID of a sandbox from an ID or unique prefix, as containerd's index resolves them. */
  resolve(id: string): string {
    if (!id) throw new InvalidParameterError("PodSandboxId should not be empty");
    if (this.#store.get(id)) return id;
    const hits = this.#store.all().filter((r) => r.id.startsWith(id));
    if (hits.length === 1 && hits[0]) return hits[0].id;
    if (hits.length > 1) throw new InvalidParameterError(`ambiguous ID "${id}"`);
    throw new NotFoundError(`an error occurred when try to find sandbox "${id}": not found`);
  }

  record(id: string): SandboxRecord {
    const r = this.#store.get(this.resolve(id));
    if (!r) throw new NotFoundError(`an error occurred when try to find sandbox "${id}": not found`);
    return r;
  }

  /** The host path of a running sandbox's network namespace; undefined with the host's network. */
  netnsOf(id: string): { pid: number; netns?: string } {
    const r = this.record(id);
    const ins = this.#c.inspect(r.id);
    if (!ins.State.Running) throw new InvalidParameterError(`sandbox ${r.id} is not running`);
    return { pid: ins.State.Pid, ...(r.hostNetwork ? {} : { netns: ins.NetworkSettings.SandboxKey ?? "" }) };
  }

  /** RunPodSandbox: the pause container, started, then joined to the CNI network. */
  async run(config: PodSandboxConfig | null, runtimeHandler: string): Promise<string> {
    const md = config?.metadata;
    if (!config || !md?.name) throw new InvalidParameterError("sandbox config must include metadata");
    if (runtimeHandler && runtimeHandler !== "runc")
      throw new InvalidParameterError(`no runtime for "${runtimeHandler}" is configured`);
    await this.#pause.ensure();
    const ns = namespaceOptions(config);
    const hostNetwork = ns.network === NamespaceMode.NODE;
    const linux = config.linux;
    const sec = await sandboxSecurity(linux?.securityContext ?? null);
    const dns = config.dnsConfig;
    const req: ContainerCreateRequest = {
      Image: PAUSE_IMAGE,
      Hostname: hostNetwork ? "" : config.hostname,
      User: sec.User,
      Labels: toWharfLabels(config.labels, config.annotations, {
        [TYPE_LABEL]: TYPE_SANDBOX,
        [METADATA_LABEL]: JSON.stringify(md),
      }),
      HostConfig: {
        // The host's user namespace, as containerd's CRI (see containers.ts); a no-op without --userns-remap.
        UsernsMode: "host",
        NetworkMode: hostNetwork ? "host" : "none",
        IpcMode: ns.ipc === NamespaceMode.NODE ? "host" : "shareable",
        PidMode: ns.pid === NamespaceMode.NODE ? "host" : "",
        UTSMode: hostNetwork ? "host" : "",
        CgroupParent: linux?.cgroupParent ?? "",
        Dns: dns?.servers ?? [],
        DnsSearch: dns?.searches ?? [],
        DnsOptions: dns?.options ?? [],
        Sysctls: linux?.sysctls ?? {},
        Privileged: sec.Privileged,
        ReadonlyRootfs: sec.ReadonlyRootfs,
        GroupAdd: sec.GroupAdd,
        SecurityOpt: sec.SecurityOpt,
        // kubelet gives pause -998; never below the daemon's own, which the host could not grant.
        OomScoreAdj: clampOomScoreAdj(-998, this.#ownOom),
      },
    };
    const { Id: id } = await this.#c.create(req, { name: sandboxName(md) });
    const rec: SandboxRecord = { id, config, hostNetwork, runtimeHandler, ip: "" };
    try {
      await this.#store.put(rec);
      await this.#c.start(id);
      if (!hostNetwork) {
        const ins = this.#c.inspect(id);
        // Pinned by a mount of our own: when the pause process dies wharf drops its namespace, and CNI DEL
        // (the bridge plugin's NAT clean-up) needs it still there, as containerd keeps it.
        const netns = await this.#netns.pin(id, ins.NetworkSettings.SandboxKey ?? "");
        const ports = portMappings(config);
        const { network, result } = await this.#cni.add({ id, netns, ports });
        const ip = podIp(result);
        rec.network = { network, netns, ip, ports, result };
        rec.ip = ip;
        await this.#store.put(rec);
      }
      return id;
    } catch (e) {
      await this.remove(id).catch((err) => log("warn", "cri: clean-up of a failed sandbox", { id, err }));
      throw e;
    }
  }

  /** StopPodSandbox: the pod's containers killed, CNI DEL, then the pause process stopped. Idempotent. */
  async stop(id: string): Promise<void> {
    const rec = this.record(id);
    for (const c of this.#podContainers(rec.id)) await this.#stopContainer(c, 0);
    await this.#teardownNetwork(rec);
    await this.#stopContainer(rec.id, 0);
  }

  async #stopContainer(id: string, timeout: number): Promise<void> {
    try {
      await this.#c.stop(id, { timeout });
    } catch (e) {
      if (!isNotModified(e) && !isNotFound(e)) throw e;
    }
  }

  async #teardownNetwork(rec: SandboxRecord): Promise<void> {
    const net = rec.network;
    if (!net) return;
    await this.#cni.del({ id: rec.id, netns: net.netns, ports: net.ports, result: net.result });
    await this.#netns.unpin(rec.id);
    rec.network = undefined;
    await this.#store.put(rec);
  }

  /** RemovePodSandbox: stopped first, its containers and the pause container removed, its state dropped. */
  async remove(id: string): Promise<void> {
    let rec: SandboxRecord;
    try {
      rec = this.record(id);
    } catch (e) {
      if (isNotFound(e)) return;
      throw e;
    }
    for (const c of this.#podContainers(rec.id)) await this.#removeContainer(c);
    await this.#teardownNetwork(rec);
    await this.#removeContainer(rec.id);
    await this.#store.delete(rec.id);
  }

  async #removeContainer(id: string): Promise<void> {
    try {
      await this.#c.remove(id, { force: true, volumes: true });
    } catch (e) {
      if (!isNotFound(e)) throw e;
    }
  }

  /** The IDs of the wharf containers of a pod (its CRI containers, not the pause). */
  #podContainers(sandboxId: string): string[] {
    return this.#c
      .list({
        all: true,
        filters: { label: [`${TYPE_LABEL}=${TYPE_CONTAINER}`, `${SANDBOX_ID_LABEL}=${sandboxId}`] },
      })
      .map((c) => c.Id);
  }

  /** The CRI view of one sandbox. */
  #view(rec: SandboxRecord): PodSandbox {
    let ins: ContainerInspectResponse | undefined;
    try {
      ins = this.#c.inspect(rec.id);
    } catch {}
    const { labels, annotations } = fromWharfLabels(ins?.Config.Labels);
    const md = parseMetadata<PodSandboxMetadata>(ins?.Config.Labels) ?? rec.config.metadata;
    return {
      id: rec.id,
      metadata: md ?? { name: "", uid: "", namespace: "", attempt: 0 },
      state: ins?.State.Running ? SandboxState.READY : SandboxState.NOTREADY,
      createdAt: rfc3339ToNs(ins?.Created),
      labels: ins ? labels : rec.config.labels,
      annotations: ins ? annotations : rec.config.annotations,
      runtimeHandler: rec.runtimeHandler,
    };
  }

  /** PodSandboxStatus. */
  status(id: string, verbose: boolean): { status: PodSandboxStatus; info: Record<string, string> } {
    const rec = this.record(id);
    const v = this.#view(rec);
    const status: PodSandboxStatus = {
      ...v,
      network: { ip: rec.hostNetwork ? "" : rec.ip, additionalIps: [] },
      linux: { namespaces: { options: namespaceOptions(rec.config) } },
    };
    const info: Record<string, string> = {};
    if (verbose) {
      let pid = 0;
      try {
        pid = this.#c.inspect(rec.id).State.Pid;
      } catch {}
      info.info = JSON.stringify({
        pid,
        image: PAUSE_IMAGE,
        runtimeHandler: rec.runtimeHandler,
        config: rec.config,
        cniResult: rec.network?.result ?? null,
      });
    }
    return { status, info };
  }

  /** ListPodSandbox with its filters: ID prefix, state, labels. */
  list(
    filter: { id: string; state: { state: number } | null; labelSelector: Record<string, string> } | null,
  ): PodSandbox[] {
    return this.#store
      .all()
      .filter((r) => !filter?.id || r.id.startsWith(filter.id))
      .map((r) => this.#view(r))
      .filter((v) => !filter?.state || v.state === filter.state.state)
      .filter((v) => selects(filter?.labelSelector, v.labels));
  }

  /** The sandbox IDs in the store whose container is gone (removed behind the CRI's back). */
  async dropOrphans(): Promise<void> {
    for (const r of this.#store.all()) {
      if (this.#c.exists(r.id)) continue;
      log("warn", "cri: sandbox container is gone; cleaning its network", { id: r.id });
      await this.#teardownNetwork(r).catch(() => undefined);
      await this.#store.delete(r.id);
    }
  }
}

/** A pod's port mappings in CNI's portMappings shape (host port 0: not published). */
function portMappings(config: PodSandboxConfig): CniPortMapping[] {
  return config.portMappings
    .filter((p) => p.hostPort > 0)
    .map((p) => ({
      hostPort: p.hostPort,
      containerPort: p.containerPort,
      protocol: PROTOCOLS[p.protocol] ?? "tcp",
      ...(p.hostIp ? { hostIP: p.hostIp } : {}),
    }));
}
