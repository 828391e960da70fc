import { randomUUID } from "node:crypto";
import { existsSync } from "node:fs";
import { chown, mkdir, readFile, rm, unlink, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import type { Duplex } from "node:stream";
import {
  API_VERSION,
  ApiServer,
  buildkitRoutes,
  buildRoutes,
  containerRoutes,
  distributionRoutes,
  execRoutes,
  imageRoutes,
  MIN_API_VERSION,
  networkRoutes,
  Router,
  superviseRoutes,
  systemRoutes,
  volumeRoutes,
} from "../api/index.ts";
import type { BuildkitService } from "../buildkit/index.ts";
import { decodeAuthHeader } from "../distribution/index.ts";
import { type KernelFiles, realHost, releaseFreeMemory } from "../host/index.ts";
import { createImageService } from "../image/index.ts";
import { FsLayerStore } from "../layer/index.ts";
import { type ContainerLookup, forwardedPortProxy, NetworkService } from "../network/index.ts";
import {
  cgroupFeatures,
  createRuntime,
  readLog,
  type SeccompChoice,
  seccompChoice,
} from "../runtime/index.ts";
import { dfTypes, diskUsage, EventBus, systemInfo, versionInfo } from "../system/index.ts";
import { log, setLogLevel, writeFileAtomic } from "../util/index.ts";
import { VolumeService } from "../volume/index.ts";
import { buildBackend } from "./build.ts";
import type { DaemonConfig } from "./config.ts";
import { wireContainers } from "./containers.ts";
import { LOOP_DELAY_ENV, loopDelayRoutes } from "./loopdelay.ts";
import { remapSpec, setupRemap } from "./remap.ts";
import { bridgeIpv6, daemonRuntimes, readDaemonFile } from "./runtimes.ts";
import { chooseStorageDriver } from "./storage.ts";

/** A running daemon: its parts, and how to stop it. */
export interface Daemon {
  shutdown(): Promise<void>;
}

/**
 * runc creates this daemon's parent cgroup in every hierarchy; it outlives the containers. Removing the empty
 * ones at shutdown keeps test runs and short-lived daemons from piling them up (rmdir refuses busy ones).
 */
async function removeEmptyCgroupParents(parent: string, files: KernelFiles): Promise<void> {
  const root = "/sys/fs/cgroup";
  let controllers: string[];
  try {
    controllers = await files.readdir(root);
  } catch {
    return;
  }
  await Promise.all(controllers.map((c) => files.rmdir(join(root, c, parent)).catch(() => undefined)));
  await files.rmdir(join(root, parent)).catch(() => undefined);
}

/** A killed daemon may linger as a zombie until its parent reaps it; that one is gone for our purposes. */
async function isLiveProcess(pid: number, files: KernelFiles): Promise<boolean> {
  try {
    const stat = await files.read(`/proc/${pid}/stat`);
    return !/^\d+ \(.*\) [ZX] /s.test(stat);
  } catch {
    return false;
  }
}

/** Writes this process's pid to `path`, refusing when a live daemon's pid is there. */
export async function claimPidfile(path: string, files: KernelFiles): Promise<void> {
  try {
    const pid = Number((await readFile(path, "utf8")).trim());
    if (pid > 0 && pid !== process.pid && (await isLiveProcess(pid, files)))
      throw new Error(`pid file found, ensure wharf is not running or delete ${path}`);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "ENOENT") throw e;
  }
  await writeFile(path, `${process.pid}\n`);
}

async function engineId(dataRoot: string): Promise<string> {
  const p = join(dataRoot, "engine-id");
  try {
    return (await readFile(p, "utf8")).trim();
  } catch {
    const id = randomUUID();
    await writeFileAtomic(p, id);
    return id;
  }
}

async function runcVersion(runtime: string): Promise<string> {
  try {
    const stdout = await realHost().processes.run(runtime, ["--version"]);
    return /version\s+(\S+)/.exec(stdout)?.[1] ?? "";
  } catch {
    return "";
  }
}

/** The absolute path of a program, searched on PATH as a shell would: conmon needs absolute paths. */
function lookPath(name: string): string {
  if (name.includes("/")) return name;
  for (const dir of (process.env.PATH ?? "/usr/sbin:/usr/bin:/sbin:/bin").split(":")) {
    const p = join(dir || ".", name);
    if (existsSync(p)) return p;
  }
  throw new Error(`${name}: executable file not found in $PATH`);
}

function cgroupVersion(files: KernelFiles): "1" | "2" {
  return files.exists("/sys/fs/cgroup/cgroup.controllers") ? "2" : "1";
}

/** The daemon's `--seccomp-profile`, read once so a bad file stops start-up rather than every container. */
async function daemonSeccomp(profile: string): Promise<SeccompChoice> {
  if (profile === "builtin" || profile === "unconfined") return seccompChoice(profile);
  let json: string;
  try {
    json = await readFile(profile, "utf8");
  } catch (e) {
    throw new Error(`opening seccomp profile (${profile}) failed: ${(e as Error).message}`);
  }
  return seccompChoice(json);
}

/** The gid of a group named in /etc/group (or given as a number); undefined when there is none. */
async function groupId(name: string): Promise<number | undefined> {
  if (/^\d+$/.test(name)) return Number(name);
  const lines = await readFile("/etc/group", "utf8").catch(() => "");
  for (const line of lines.split("\n")) {
    const [n, , gid] = line.split(":");
    if (n === name && gid && /^\d+$/.test(gid)) return Number(gid);
  }
  return undefined;
}

/**
 * The gid the unix socket gets: it stays 0660 root:<group>, as dockerd leaves it, so members of the group
 * (default "docker") may use it; without that group only root can. A group given explicitly must exist.
 */
async function socketGid(group: string): Promise<number | undefined> {
  const gid = await groupId(group);
  if (gid === undefined && group !== "docker")
    throw new Error(`can't create unix socket: group ${group} not found`);
  if (gid === undefined)
    log("warn", `could not change group of the unix socket to ${group}: group ${group} not found`);
  return gid;
}

/** The SecurityOptions and warnings `docker info` shows for this configuration, in dockerd's order. */
function securityInfo(
  cfg: DaemonConfig,
  remapped: boolean,
  cgroupV: "1" | "2" = "1",
): { securityOptions: string[]; warnings: string[] } {
  const securityOptions = [`name=seccomp,profile=${cfg.seccompProfile}`];
  if (remapped) securityOptions.push("name=userns");
  if (cfg.rootless) securityOptions.push("name=rootless");
  securityOptions.push("name=cgroupns");
  if (cfg.noNewPrivileges) securityOptions.push("name=no-new-privileges");
  const warnings =
    cfg.seccompProfile === "builtin" ? [] : ["WARNING: daemon is not using the default seccomp profile"];
  // dockerd's texts: on cgroup v2 what is missing is systemd's delegation, which wharf does not ask for.
  if (cfg.rootless && !cfg.rootless.cgroups)
    warnings.push(
      cgroupV === "2"
        ? "WARNING: Running in rootless-mode without cgroups. Systemd is required to enable cgroups in rootless-mode."
        : "WARNING: Running in rootless-mode without cgroups. To enable cgroups in rootless-mode, you need to boot the system in cgroup v2 mode.",
    );
  return { securityOptions, warnings };
}

/** A rootless daemon without cgroups can enforce no limit: every one is then refused with Docker's warning. */
const NO_LIMITS = {
  memoryLimit: false,
  swapLimit: false,
  cpuShares: false,
  cpuCfs: false,
  cpuset: false,
  pidsLimit: false,
  blkioWeight: false,
};

/**
 * Anyone reaching an unauthenticated TCP socket is root here: without client verification a TCP host is
 * refused unless the operator opted out explicitly (`--tls=false`/`--tlsverify=false`, or `--tls` for
 * server-only TLS), as dockerd does since 27.0.
 */
function checkTcpHosts(cfg: DaemonConfig): void {
  const verified = cfg.tls?.verify === true && !!cfg.tls.ca;
  if (cfg.tls?.verify && !cfg.tls.ca)
    throw new Error("--tlsverify needs --tlscacert to verify clients against");
  for (const h of cfg.hosts) {
    if (!h.startsWith("tcp://") || verified || cfg.tlsExplicitlyOff || (cfg.tls && cfg.tlsExplicitlyOn))
      continue;
    throw new Error(
      `refusing to listen on ${h} without TLS client verification: give --tlsverify with --tlscacert, --tlscert and --tlskey, or --tls=false to accept unauthenticated root access over the network`,
    );
  }
}

/** Builds every part, restores state, and starts serving. */
export async function startDaemon(cfg: DaemonConfig): Promise<Daemon> {
  checkTcpHosts(cfg);
  // A rootless daemon's socket is the user's own, in their 0700 runtime dir: no group to hand it to.
  const gid = cfg.rootless ? undefined : await socketGid(cfg.socketGroup);
  setLogLevel(cfg.logLevel);
  cfg = { ...cfg, runtime: lookPath(cfg.runtime), conmon: lookPath(cfg.conmon) };
  const daemonFile = await readDaemonFile(cfg.configFile, { explicit: cfg.configFileExplicit });
  const rts = daemonRuntimes({
    runcPath: cfg.runtime,
    added: cfg.addRuntimes,
    file: daemonFile,
    ...(cfg.defaultRuntime ? { defaultFlag: cfg.defaultRuntime } : {}),
    resolve: lookPath,
    ...(cfg.rootless ? { autoRunsc: false } : {}),
  });
  const spec = remapSpec(cfg.usernsRemap, daemonFile["userns-remap"]);
  if (spec !== undefined && cfg.rootless)
    throw new Error(
      "--userns-remap cannot be used in rootless mode: the daemon's own user namespace maps it already",
    );
  const remap = await setupRemap(spec, cfg.dataRoot);
  // As dockerd: the remapped root's store is a data root of its own; the exec root stays shared.
  if (remap) cfg = { ...cfg, dataRoot: remap.dataRoot };
  const idMap = remap?.idMap;
  const tmpDir = join(cfg.dataRoot, "tmp");
  await mkdir(cfg.dataRoot, { recursive: true, mode: 0o711 });
  await mkdir(cfg.execRoot, { recursive: true, mode: 0o700 });
  // Inside the rootless namespaces the launcher holds the pid file (this pid means nothing outside).
  if (!cfg.rootless) await claimPidfile(cfg.pidfile, realHost().files);
  // Whatever is in tmp/ was half-written when the last daemon stopped.
  await rm(tmpDir, { recursive: true, force: true });
  await mkdir(tmpDir, { recursive: true });

  const storageDriver = await chooseStorageDriver(cfg, { tmpDir, lookPath });
  const seccomp = await daemonSeccomp(cfg.seccompProfile);
  const events = new EventBus();
  const images = createImageService({
    dataRoot: cfg.dataRoot,
    tmpDir,
    ...(idMap ? { layers: new FsLayerStore(cfg.dataRoot, { idMap }) } : {}),
    events: events.emit,
    registries: {
      insecure: cfg.insecureRegistries,
      mirrors: cfg.registryMirrors,
      hostMirrors: cfg.registryHostMirrors,
    },
  });
  const volumes = new VolumeService({
    root: join(cfg.dataRoot, "volumes"),
    tmpDir,
    events: events.emit,
    ...(idMap ? { owner: idMap.root } : {}),
  });
  const host = realHost();
  const runtime = createRuntime({
    execRoot: cfg.execRoot,
    runtimePath: cfg.runtime,
    runtimes: rts.runtimes,
    defaultRuntime: rts.defaultName,
    conmonPath: cfg.conmon,
    host,
    ...(cfg.rootless?.cgroups === false ? { cgroups: false } : {}),
  });
  const networks = new NetworkService({
    dataRoot: cfg.dataRoot,
    execRoot: cfg.execRoot,
    tmpDir,
    bridge: cfg.bridge,
    bip: cfg.bip,
    ...bridgeIpv6(cfg, daemonFile),
    events: events.emit,
    host,
    ...(cfg.rootless ? { proxy: forwardedPortProxy(cfg.rootless.forward) } : {}),
  });
  const noCgroups = cfg.rootless?.cgroups === false;
  const containers = wireContainers({
    dataRoot: cfg.dataRoot,
    execRoot: cfg.execRoot,
    tmpDir,
    cgroupParent: cfg.cgroupParent,
    images,
    runtime,
    volumes,
    network: networks,
    security: {
      seccomp,
      noNewPrivileges: cfg.noNewPrivileges,
      defaultPidsLimit: cfg.defaultPidsLimit,
      defaultUlimits: cfg.defaultUlimits,
      ...(noCgroups ? { cgroups: false } : {}),
      ...(idMap ? { idMap } : {}),
    },
    readLog,
    events: events.emit,
    hostLimits: noCgroups ? NO_LIMITS : cgroupFeatures({ files: host.files }),
    runtimes: { names: Object.keys(rts.runtimes), defaultName: rts.defaultName, sandbox: rts.sandbox },
  });
  const lookup: ContainerLookup = {
    resolve: (ref) => containers.resolveId(ref),
    running: (cid) => containers.exists(cid) && containers.inspect(cid).State.Running,
    env: (cid) => (containers.exists(cid) ? (containers.inspect(cid).Config.Env ?? []) : []),
  };
  await Promise.all([images.init(), volumes.init(), networks.init(lookup)]);
  await containers.init();
  // After reconnecting: what no running container owns any more goes, and the rules are written once.
  await networks.ready();

  const id = await engineId(cfg.dataRoot);
  const runcVer = await runcVersion(cfg.runtime);
  let listeners = 0;
  const builds = buildBackend({
    dataRoot: cfg.dataRoot,
    tmpDir,
    images,
    containers,
    ...(noCgroups ? { canPause: false } : {}),
    ...(idMap ? { idMap } : {}),
  });
  const router = new Router();
  if (process.env[LOOP_DELAY_ENV]) router.add(loopDelayRoutes());
  router.add(
    systemRoutes({
      version: () =>
        versionInfo({ apiVersion: API_VERSION, minApiVersion: MIN_API_VERSION, runcVersion: runcVer }),
      info: async () =>
        systemInfo({
          id,
          dataRoot: cfg.dataRoot,
          containers: containers.counts(),
          // dockerd counts every image in its store, intermediate ones too (its CountImages).
          images: (await images.list({ all: true })).length,
          runtimes: rts.runtimes,
          defaultRuntime: rts.defaultName,
          debug: cfg.logLevel === "debug",
          eventListeners: listeners,
          cgroupVersion: cgroupVersion(host.files),
          files: host.files,
          ...securityInfo(cfg, !!idMap, cgroupVersion(host.files)),
          driver: storageDriver,
          ...(cfg.rootless ? { rootless: { cgroups: cfg.rootless.cgroups } } : {}),
        }),
      diskUsage: (types) =>
        diskUsage(
          {
            images: () => images.diskUsage(),
            containers: () =>
              Promise.all(
                containers
                  .list({ all: true })
                  .map(async (c) => ({ ...c, ...(await containers.sizes(c.Id).catch(() => ({}))) })),
              ),
            volumes: () => volumes.diskUsage(),
            buildCache: () => builds.cacheUsage(),
          },
          dfTypes(types),
        ),
      eventHistory: (since) => events.history(since),
      subscribe: (fn) => {
        listeners++;
        const unsub = events.subscribe(fn);
        return () => {
          listeners--;
          unsub();
        };
      },
    }),
  );
  router.add(containerRoutes(containers));
  router.add(superviseRoutes(containers));
  router.add(
    networkRoutes({
      create: (req, opts) => networks.create(req, opts),
      list: (f) => networks.list(f),
      inspect: (ref) => networks.inspect(ref),
      remove: (ref) => networks.remove(ref),
      prune: (f) => networks.prune(f),
      connect: async (ref, req) => {
        await networks.connect(ref, req, lookup);
        // As dockerd: a container that started on the default bridge gets the embedded DNS on joining a user network.
        const id = lookup.resolve(req.Container);
        await containers.refreshDns(id, networks.nameservers(id));
      },
      disconnect: async (ref, req) => {
        await networks.disconnect(ref, req, lookup);
        const id = lookup.resolve(req.Container);
        await containers.refreshDns(id, networks.nameservers(id));
      },
    }),
  );
  router.add(volumeRoutes(volumes));
  router.add(buildRoutes(builds));
  // BuildKit's front end (~45 KB) loads with the first buildx connection, as the builder does with a build.
  let buildkit: Promise<BuildkitService> | undefined;
  const withBuildkit = (socket: Duplex, use: (b: BuildkitService) => void) => {
    buildkit ??= import("../buildkit/index.ts").then((m) => new m.BuildkitService(builds.buildkit));
    buildkit.then(use, (e: unknown) => {
      log("error", "buildkit: cannot load", { err: e });
      buildkit = undefined;
      socket.destroy();
    });
  };
  router.add(
    buildkitRoutes({
      serveControl: (socket) => withBuildkit(socket, (b) => b.serveControl(socket)),
      serveSession: (socket, headers) => withBuildkit(socket, (b) => b.serveSession(socket, headers)),
    }),
  );
  router.add(execRoutes(containers));
  router.add(
    imageRoutes({
      importTar: (tar, o) => images.importTar(tar, o),
      list: (o) => images.list(o),
      inspect: (ref) => images.inspect(ref),
      tag: (src, repo, tag) => images.tag(src, repo, tag),
      history: (ref) => images.history(ref),
      remove: (ref, o) => images.remove(ref, { ...o, inUse: (imageId) => containers.imageUse(imageId) }),
      pull: (from, o) => images.pull(from, { ...o, auth: decodeAuthHeader(o.auth) }),
    }),
  );
  router.add(
    distributionRoutes({
      push: (name, o) => images.push(name, { ...o, auth: decodeAuthHeader(o.auth) }),
      login: (a) => images.login(a.serveraddress ?? "", { username: a.username, password: a.password }),
      search: (o) => images.search({ ...o, auth: decodeAuthHeader(o.auth) }),
      // As dockerd, a malformed X-Registry-Auth is ignored here (no credentials) rather than refused.
      distributionInspect: (name, auth) =>
        images.distributionInspect(
          name,
          (() => {
            try {
              return decodeAuthHeader(auth);
            } catch {
              return undefined;
            }
          })(),
        ),
      save: (names) => images.save(names),
      load: (tar) => images.load(tar),
      prune: (filters) => images.prune({ filters, inUse: (imageId) => containers.imageUse(imageId) }),
    }),
  );

  // Before the Engine API answers: a client that sees the daemon up finds the CRI socket too.
  const criSocket = cfg.criSocket ?? daemonFile["cri-socket"];
  // Loaded only when asked for: gRPC and the message codec stay out of a daemon that serves no CRI.
  const cri = criSocket
    ? await (await import("./cri.ts")).startCri({
        socket: criSocket,
        cfg,
        containers,
        images,
        host,
        reopenLog: (cid) => runtime.reopenLog(cid),
        version: versionInfo({
          apiVersion: API_VERSION,
          minApiVersion: MIN_API_VERSION,
          runcVersion: runcVer,
        }).Version,
      })
    : undefined;
  const server = new ApiServer(router, cfg.httpLimits, { peerCredentials: host.sockets.peerCredentials });
  // The compatibility socket is a courtesy: another daemon (dockerd) owning it is no reason not to start.
  // It is bound before the main hosts so a client that finds the daemon up finds this socket settled too.
  let dockerSocket: string | undefined;
  if (cfg.dockerSocket) {
    try {
      await mkdir(dirname(cfg.dockerSocket), { recursive: true });
      await server.listenUnix(cfg.dockerSocket);
      if (gid !== undefined) await chown(cfg.dockerSocket, 0, gid);
      dockerSocket = cfg.dockerSocket;
    } catch (e) {
      log("warn", "not serving the docker socket", { path: cfg.dockerSocket, err: e });
    }
  }
  for (const h of cfg.hosts) {
    if (h.startsWith("unix://")) {
      const path = h.slice("unix://".length);
      await server.listenUnix(path);
      if (gid !== undefined) await chown(path, 0, gid);
      continue;
    }
    const u = new URL(h);
    const tls = cfg.tls
      ? {
          cert: await readFile(cfg.tls.cert),
          key: await readFile(cfg.tls.key),
          ca: cfg.tls.ca ? await readFile(cfg.tls.ca) : undefined,
          verify: cfg.tls.verify,
        }
      : undefined;
    if (!tls?.verify)
      log(
        "warn",
        "Binding to IP address without --tlsverify is insecure and gives root access on this machine to everyone who has access to your network.",
        { host: h },
      );
    await server.listenTcp({
      host: u.hostname.replace(/^\[|\]$/g, ""),
      port: Number(u.port || (tls ? 2376 : 2375)),
      tls,
    });
  }
  log("info", "wharf daemon started", {
    dataRoot: cfg.dataRoot,
    execRoot: cfg.execRoot,
    hosts: dockerSocket ? [...cfg.hosts, `unix://${dockerSocket}`] : cfg.hosts,
  });
  events.emit({ Type: "daemon", Action: "start", Actor: { ID: id } });
  // Start-up's garbage (loading, compiling, reading the stores) was freed into the C heap; it goes back now.
  releaseFreeMemory();

  return {
    async shutdown() {
      if (cfg.rootless) {
        // Its containers die with its namespaces: stopped first, as dockerd without live-restore does,
        // they exit with their own codes rather than to a SIGKILL.
        log("info", "rootless wharf daemon stopping; stopping its containers");
        await Promise.all(
          containers.list({}).map((c) => containers.stop(c.Id, { timeout: 10 }).catch(() => undefined)),
        );
      } else log("info", "wharf daemon stopping; containers keep running");
      (await buildkit)?.close();
      await cri?.close();
      await server.close();
      runtime.close();
      networks.close();
      await removeEmptyCgroupParents(cfg.cgroupParent, host.files);
      for (const h of cfg.hosts)
        if (h.startsWith("unix://")) await unlink(h.slice("unix://".length)).catch(() => undefined);
      if (dockerSocket) await unlink(dockerSocket).catch(() => undefined);
      if (!cfg.rootless) await unlink(cfg.pidfile).catch(() => undefined);
    },
  };
}
