import { existsSync } from "node:fs";
import { chown, mkdir } from "node:fs/promises";
import { join } from "node:path";
import type { ContainerCreateRequest } from "../apitypes/index.ts";
import { InvalidParameterError } from "../errdefs/index.ts";
import { parseSecurityOpts } from "../runtime/index.ts";
import { newId, nowRfc3339, parseLink, shortId } from "../util/index.ts";
import { commandOf, mergeImageConfig, validateHostConfig } from "./config.ts";
import type { CreateNetwork, ImageBackend } from "./deps.ts";
import { mergeHealthcheck } from "./health.ts";
import { checkLogConfig, DEFAULT_LOG_DRIVER } from "./logconfig.ts";
import type { ContainerRecord } from "./model.ts";
import type { StoredMount } from "./mounts.ts";
import { normalizeName } from "./names.ts";
import type { Registry } from "./registry.ts";
import { checkResources, type HostLimits, resourceDefaults } from "./resources.ts";
import { chooseRuntime, type RuntimeChoice } from "./runtimechoice.ts";
import type { Storage } from "./storage.ts";

/** POST /containers/create: validates, merges the image's config, creates volumes and network records. */
export async function createContainer(
  deps: {
    registry: Registry;
    storage: Storage;
    images: Pick<ImageBackend, "resolve" | "retain">;
    network: CreateNetwork;
    limits?: HostLimits;
    /** The configured runtimes; runc alone when absent. */
    runtimes?: RuntimeChoice;
  },
  req: ContainerCreateRequest,
  opts: { name?: string; logPath?: string },
): Promise<{ Id: string; Warnings: string[] }> {
  const { registry: r, storage, images, network } = deps;
  if (!req || typeof req !== "object")
    throw new InvalidParameterError("config cannot be empty in order to create a container");
  if (!req.Image) throw new InvalidParameterError("No command specified");
  const hostConfig = { ...(req.HostConfig ?? {}) };
  validateHostConfig(hostConfig);
  hostConfig.Runtime = chooseRuntime(hostConfig, deps.runtimes ?? { names: ["runc"], defaultName: "runc" });
  // Refused here with Docker's texts, rather than when the container first starts.
  parseSecurityOpts(hostConfig.SecurityOpt);
  const resourceWarnings = checkResources(hostConfig, { limits: deps.limits });
  resourceDefaults(hostConfig, { limits: deps.limits });
  checkLogConfig(hostConfig.LogConfig);
  if (storage.idMap) checkRemapped(hostConfig);
  const id = newId();
  const name = opts.name ? normalizeName(opts.name) : r.index.generateName();
  r.index.reserveName(name, id);
  let mounts: StoredMount[] = [];
  let warnings: string[] = [];
  try {
    const image = await images.resolve(req.Image);
    const { HostConfig: _h, NetworkingConfig: _n, ...cfgIn } = req;
    const config = mergeImageConfig(cfgIn, image.config);
    config.Healthcheck = mergeHealthcheck(cfgIn.Healthcheck, image.config.Healthcheck);
    if (!config.Healthcheck) delete config.Healthcheck;
    config.Image = req.Image;
    config.Hostname = req.Hostname || shortId(id);
    config.Domainname = req.Domainname ?? "";
    config.AttachStdin ??= false;
    config.AttachStdout ??= false;
    config.AttachStderr ??= false;
    config.Tty ??= false;
    config.OpenStdin ??= false;
    config.StdinOnce ??= false;
    config.Cmd ??= undefined;
    const { path, args } = commandOf(config);
    // Links name their containers by ID from here on, as dockerd's link graph does: a rename of either
    // side keeps them (inspect shows the names as they are then). A missing one is network's error below.
    if (hostConfig.Links?.length)
      hostConfig.Links = hostConfig.Links.map((l) => {
        const { target, alias } = parseLink(l);
        try {
          return `${r.get(target).id}:${alias}`;
        } catch {
          return l;
        }
      });
    const net = await network.createContainer({
      id,
      name,
      hostname: req.Hostname ?? "",
      hostConfig,
      exposedPorts: config.ExposedPorts,
      networking: req.NetworkingConfig,
      macAddress: req.MacAddress ?? undefined,
    });
    config.Hostname = net.hostname;
    if (net.networkMode) hostConfig.NetworkMode = net.networkMode;
    warnings = [...resourceWarnings, ...net.warnings];
    mounts = await storage.createMounts(id, config, hostConfig);
    const dir = r.dir(id);
    const record: ContainerRecord = {
      Id: id,
      Name: name,
      Created: nowRfc3339(),
      Path: path,
      Args: args,
      Config: config,
      HostConfig: withHostDefaults(hostConfig),
      Image: image.id,
      // A CRI container's log is where kubelet reads it (log_directory + log_path), in the same format.
      LogPath: hostConfig.LogConfig?.Type === "none" ? "" : (opts.logPath ?? join(dir, "container.log")),
      HostnamePath: join(dir, "hostname"),
      HostsPath: join(dir, "hosts"),
      ResolvConfPath: join(dir, "resolv.conf"),
      MountPoints: mounts,
    };
    await mkdir(dir, { recursive: true, mode: 0o710 });
    // As dockerd: root's, searchable by the remapped root's group (its rootfs and /etc files are below).
    if (storage.idMap) await chown(dir, 0, storage.idMap.root.gid);
    const c = r.materialize(record, undefined);
    // Both at once, as any outcome of a crash between them is sound: the state written here is "created",
    // which is also how a record whose state.json did not land loads; a state.json without container.json
    // is a half-created leftover that start-up drops.
    await Promise.all([r.store.putDoc(id, "state.json", c.state.doc()), r.store.put(id, record)]);
    r.index.add(id, name, c);
    images.retain(image.id);
    r.emit(c, "create");
    return { Id: id, Warnings: warnings };
  } catch (e) {
    r.index.releaseName(name);
    await network.forget(id).catch(() => undefined);
    await storage.releaseVolumes(id, { removeAnonymous: true, mounts });
    await r.store.remove(id).catch(() => undefined);
    throw e;
  }
}

/** Docker's defaults for fields the CLI may leave out, as inspect shows them. */
function withHostDefaults(
  hc: ContainerCreateRequest["HostConfig"] & object,
): NonNullable<ContainerCreateRequest["HostConfig"]> {
  return {
    ...hc,
    NetworkMode: hc.NetworkMode || "bridge",
    RestartPolicy: hc.RestartPolicy ?? { Name: "no", MaximumRetryCount: 0 },
    LogConfig: hc.LogConfig?.Type
      ? hc.LogConfig
      : { Type: DEFAULT_LOG_DRIVER, Config: hc.LogConfig?.Config ?? {} },
    ShmSize: hc.ShmSize || 64 * 1024 * 1024,
    AutoRemove: hc.AutoRemove ?? false,
    Privileged: hc.Privileged ?? false,
    ReadonlyRootfs: hc.ReadonlyRootfs ?? false,
    IpcMode: hc.IpcMode || "private",
    // dockerd's default: a cgroup namespace of its own only where the unified hierarchy makes it safe.
    CgroupnsMode: hc.CgroupnsMode || (existsSync("/sys/fs/cgroup/cgroup.controllers") ? "private" : "host"),
    Runtime: hc.Runtime || "runc",
  };
}

/**
 * What a daemon with `--userns-remap` refuses, in dockerd's words: privileged containers and the host's
 * network or PID namespace need `--userns=host` (a remapped root has no power over the host's).
 */
function checkRemapped(hc: NonNullable<ContainerCreateRequest["HostConfig"]>): void {
  if (hc.UsernsMode === "host") return;
  if (hc.Privileged)
    throw new InvalidParameterError(
      "privileged mode is incompatible with user namespaces.  You must run the container in the host namespace when running privileged mode",
    );
  if (hc.NetworkMode === "host")
    throw new InvalidParameterError(
      "cannot share the host's network namespace when user namespaces are enabled",
    );
  if (hc.PidMode === "host")
    throw new InvalidParameterError("cannot share the host PID namespace when user namespaces are enabled");
}
