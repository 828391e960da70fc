/**
 * The CRI core: RuntimeService and ImageService handlers over the parts in this folder. Built by daemon/
 * with the same services the Engine API uses; the streaming server is handed in once it is up.
 */
import { existsSync } from "node:fs";
import { mkdir, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import * as grpc from "@grpc/grpc-js";
import { MountFlags } from "../host/index.ts";
import { CniRunner } from "./cni.ts";
import { Containers } from "./containers.ts";
import type { CriDeps } from "./deps.ts";
import { Images } from "./images.ts";
import { PauseImage } from "./pause.ts";
import { type NetnsPins, Sandboxes } from "./sandboxes.ts";
import { ownOomScoreAdj } from "./security.ts";
import { type CriHandlers, GrpcStatusError } from "./server.ts";
import { SandboxStore } from "./state.ts";
import { Stats } from "./stats.ts";
import type { ExecStreamRequest, StreamServer } from "./stream-runtime.ts";
import { CriStreams } from "./streams.ts";
import type * as T from "./types.ts";

/** The CRI version wharf speaks, as Version answers it. */
export const CRI_API_VERSION = "v1";

/** The CRI core of one daemon. */
export interface CriCore {
  handlers: CriHandlers;
  /** What the streaming server drives. */
  streams: CriStreams;
  /** Hands in the streaming server (Exec, Attach and PortForward answer UNAVAILABLE until then). */
  setStreamServer(s: StreamServer): void;
}

/** Pod network namespaces pinned under `dir` (bind mounts through host/). */
function netnsPins(host: CriDeps["host"], dir: string): NetnsPins {
  const path = (id: string) => join(dir, id);
  return {
    async pin(id, source) {
      await mkdir(dir, { recursive: true });
      const target = path(id);
      await writeFile(target, "", { flag: "a" });
      await host.mounts.mount({ source, target, fstype: null, flags: MountFlags.BIND });
      return target;
    },
    async unpin(id) {
      const target = path(id);
      if (!existsSync(target)) return;
      await host.netns.removeNetns(target);
      await rm(target, { force: true });
    },
  };
}

/** Builds the CRI core and loads its pod state. */
export async function createCri(deps: CriDeps): Promise<CriCore> {
  const store = new SandboxStore(deps.stateDir, join(deps.dataRoot, "tmp"));
  await store.init();
  const own = await ownOomScoreAdj();
  const cni = new CniRunner(deps.host.processes, deps.cni);
  const sandboxes = new Sandboxes({
    containers: deps.containers,
    store,
    cni,
    pause: new PauseImage(deps.images, deps.pauseBinary),
    ownOomScoreAdj: own,
    netns: netnsPins(deps.host, join(deps.stateDir, "netns")),
  });
  await sandboxes.dropOrphans();
  const containers = new Containers({ containers: deps.containers, sandboxes, ownOomScoreAdj: own });
  const images = new Images({ images: deps.images, containers: deps.containers, dataRoot: deps.dataRoot });
  const stats = new Stats({
    containers: deps.containers,
    cri: containers,
    sandboxes,
    host: deps.host,
    dataRoot: deps.dataRoot,
  });
  const streams = new CriStreams({
    containers: deps.containers,
    cri: containers,
    sandboxes,
    processes: deps.host.processes,
  });
  let streamServer: StreamServer | undefined;
  const stream = (): StreamServer => {
    if (!streamServer) throw new GrpcStatusError(grpc.status.UNAVAILABLE, "streaming server is not running");
    return streamServer;
  };
  const running = (id: string): string => {
    const full = containers.resolve(id);
    if (!deps.containers.inspect(full).State.Running)
      throw new GrpcStatusError(grpc.status.FAILED_PRECONDITION, `container ${full} is not running`);
    return full;
  };

  const runtime = {
    Version: () => ({
      version: "0.1.0",
      runtimeName: "wharf",
      runtimeVersion: deps.version,
      runtimeApiVersion: CRI_API_VERSION,
    }),
    Status: async (req: { verbose: boolean }) => {
      let missing: string | undefined;
      let err = "";
      try {
        missing = await cni.missingPlugin();
      } catch (e) {
        err = (e as Error).message;
      }
      const netOk = !missing && !err;
      return {
        status: {
          conditions: [
            { type: "RuntimeReady", status: true, reason: "", message: "" },
            {
              type: "NetworkReady",
              status: netOk,
              reason: netOk ? "" : "NetworkPluginNotReady",
              message: netOk
                ? ""
                : `Network plugin returns error: cni plugin not initialized: ${err || `plugin "${missing}" not found`}`,
            },
          ],
        },
        info: req.verbose
          ? { config: JSON.stringify({ cni: { confDir: deps.cni.confDir, binDirs: deps.cni.binDirs } }) }
          : {},
      };
    },
    RuntimeConfig: () => ({ linux: { cgroupDriver: 1 } }),
    UpdateRuntimeConfig: () => ({}),
    RunPodSandbox: async (req: { config: T.PodSandboxConfig | null; runtimeHandler: string }) => ({
      podSandboxId: await sandboxes.run(req.config, req.runtimeHandler),
    }),
    StopPodSandbox: async (req: { podSandboxId: string }) => {
      await sandboxes.stop(req.podSandboxId);
      return {};
    },
    RemovePodSandbox: async (req: { podSandboxId: string }) => {
      await sandboxes.remove(req.podSandboxId);
      return {};
    },
    PodSandboxStatus: (req: { podSandboxId: string; verbose: boolean }) => {
      const { status, info } = sandboxes.status(req.podSandboxId, req.verbose);
      return { status, info, containersStatuses: [], timestamp: String(BigInt(Date.now()) * 1_000_000n) };
    },
    ListPodSandbox: (req: { filter: Parameters<Sandboxes["list"]>[0] }) => ({
      items: sandboxes.list(req.filter),
    }),
    CreateContainer: async (req: Parameters<Containers["create"]>[0]) => ({
      containerId: await containers.create(req),
    }),
    StartContainer: async (req: { containerId: string }) => {
      await containers.start(req.containerId);
      return {};
    },
    StopContainer: async (req: { containerId: string; timeout: number }) => {
      await containers.stop(req.containerId, req.timeout);
      return {};
    },
    RemoveContainer: async (req: { containerId: string }) => {
      await containers.remove(req.containerId);
      return {};
    },
    ListContainers: (req: { filter: Parameters<Containers["list"]>[0] }) => ({
      containers: containers.list(req.filter),
    }),
    ContainerStatus: (req: { containerId: string; verbose: boolean }) =>
      containers.status(req.containerId, req.verbose),
    UpdateContainerResources: async (req: {
      containerId: string;
      linux: T.LinuxContainerResources | null;
    }) => {
      await containers.update(req.containerId, req.linux);
      return {};
    },
    ReopenContainerLog: async (req: { containerId: string }) => {
      const id = running(req.containerId);
      await deps.reopenLog(id);
      // conmon reopens on its own time; containerd answers once the new file is there, and kubelet relies on it.
      const path = deps.containers.inspect(id).LogPath;
      for (let i = 0; path && i < 100 && !existsSync(path); i++) await new Promise((r) => setTimeout(r, 20));
      return {};
    },
    ExecSync: (req: { containerId: string; cmd: string[]; timeout: number }) =>
      streams.execSync(req.containerId, req.cmd, req.timeout),
    Exec: (req: ExecStreamRequest) => {
      if (!req.cmd.length) throw new GrpcStatusError(grpc.status.INVALID_ARGUMENT, "cmd must not be empty");
      if (!req.stdin && !req.stdout && !req.stderr)
        throw new GrpcStatusError(
          grpc.status.INVALID_ARGUMENT,
          "one of stdin, stdout, or stderr must be set",
        );
      const containerId = running(req.containerId);
      return stream().getExec({ ...req, containerId });
    },
    Attach: (req: {
      containerId: string;
      tty: boolean;
      stdin: boolean;
      stdout: boolean;
      stderr: boolean;
    }) => {
      if (!req.stdin && !req.stdout && !req.stderr)
        throw new GrpcStatusError(
          grpc.status.INVALID_ARGUMENT,
          "one of stdin, stdout, or stderr must be set",
        );
      const containerId = running(req.containerId);
      return stream().getAttach({ ...req, containerId });
    },
    PortForward: (req: { podSandboxId: string; port: number[] }) => {
      const rec = sandboxes.record(req.podSandboxId);
      if (!sandboxes.inspect(rec.id).State.Running)
        throw new GrpcStatusError(grpc.status.FAILED_PRECONDITION, `sandbox ${rec.id} is not running`);
      return stream().getPortForward({ podSandboxId: rec.id, ports: req.port });
    },
    ContainerStats: async (req: { containerId: string }) => ({
      stats: await stats.container(req.containerId),
    }),
    ListContainerStats: async (req: { filter: Parameters<Stats["listContainers"]>[0] }) => ({
      stats: await stats.listContainers(req.filter),
    }),
    PodSandboxStats: async (req: { podSandboxId: string }) => ({
      stats: await stats.sandbox(req.podSandboxId),
    }),
    ListPodSandboxStats: async (req: { filter: Parameters<Stats["listSandboxes"]>[0] }) => ({
      stats: await stats.listSandboxes(req.filter),
    }),
  };

  const image = {
    ListImages: async (req: { filter: Parameters<Images["list"]>[0] }) => ({
      images: await images.list(req.filter),
    }),
    ImageStatus: (req: { image: T.ImageSpec | null; verbose: boolean }) =>
      images.status(req.image, req.verbose),
    PullImage: async (req: { image: T.ImageSpec | null; auth: T.AuthConfig | null }) => ({
      imageRef: await images.pull(req.image, req.auth),
    }),
    RemoveImage: async (req: { image: T.ImageSpec | null }) => {
      await images.remove(req.image);
      return {};
    },
    ImageFsInfo: () => images.fsInfo(),
  };

  return {
    handlers: { RuntimeService: runtime, ImageService: image },
    streams,
    setStreamServer: (s) => {
      streamServer = s;
    },
  };
}
