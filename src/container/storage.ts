import { lchown, mkdir, readFile, symlink, writeFile } from "node:fs/promises";
import { join, posix } from "node:path";
import type { ContainerCreateRequest } from "../apitypes/index.ts";
import { isErrno } from "../errdefs/index.ts";
import { type IdMap, log, shortId } from "../util/index.ts";
import type { Container } from "./container.ts";
import type { NetworkSetup, RootfsBackend, RunMount, VolumeBackend } from "./deps.ts";
import { hostsFile, resolvConf } from "./etcfiles.ts";
import { collectMounts, parseVolumesFrom, type StoredMount } from "./mounts.ts";
import type { Registry } from "./registry.ts";
import { copyUpIfEmpty, isDirectory, prepareBindSource, volumeSubpath } from "./volumes.ts";

/** A container's filesystem around a run: the overlay rootfs, its volumes and binds, the engine's /etc files. */
export class Storage {
  readonly #r: Registry;
  readonly #rootfs: RootfsBackend;
  readonly #volumes: VolumeBackend;
  /** Containers whose overlay rootfs is mounted now. */
  readonly #mounted = new Set<string>();
  // Unmounts run off the event loop; a mount of the same container waits for its pending unmount, or the
  // late unmount would take the new mount away.
  readonly #unmounting = new Map<string, Promise<void>>();

  /** `--userns-remap`: the container files the engine writes belong to the remapped root. */
  readonly idMap: IdMap | undefined;

  constructor(deps: { registry: Registry; rootfs: RootfsBackend; volumes: VolumeBackend; idMap?: IdMap }) {
    this.#r = deps.registry;
    this.#rootfs = deps.rootfs;
    this.#volumes = deps.volumes;
    this.idMap = deps.idMap;
  }

  /** Gives paths the engine made to the remapped root (a no-op without remapping). */
  async #own(paths: string[]): Promise<void> {
    if (!this.idMap) return;
    const { uid, gid } = this.idMap.root;
    await Promise.all(paths.map((p) => lchown(p, uid, gid)));
  }

  /** Whether the container's rootfs is mounted. */
  isMounted(c: Container): boolean {
    return this.#mounted.has(c.id);
  }

  /** Records a rootfs that is mounted already: a running container found again at daemon start. */
  adoptMounted(c: Container): void {
    this.#mounted.add(c.id);
  }

  /**
   * Unmounts a rootfs a killed daemon left mounted (it died between mount and recording the start, or before
   * the unmount after an exit): a container that is not running owns no mount at daemon start.
   */
  async dropStaleRootfs(id: string): Promise<void> {
    await this.#rootfs.unmountRootfs(join(this.#r.dir(id), "merged"));
  }

  /** Parses the mounts of a new container and creates the volumes they name (Docker creates them at create). */
  async createMounts(
    id: string,
    cfg: ContainerCreateRequest,
    hc: NonNullable<ContainerCreateRequest["HostConfig"]>,
  ): Promise<StoredMount[]> {
    const inherited: StoredMount[] = [];
    for (const spec of hc.VolumesFrom ?? []) {
      const { ref, mode } = parseVolumesFrom(spec);
      for (const m of this.#r.get(ref).record.MountPoints)
        inherited.push({ ...m, RW: mode ? mode === "rw" : m.RW, CopyUp: false });
    }
    const mounts = collectMounts(cfg, hc, inherited);
    const volumes = this.#volumes;
    for (const m of mounts) {
      if (m.Type === "bind" && !m.CreateHostPath) await prepareBindSource(m);
      if (m.Type !== "volume") continue;
      // `--mount ...,volume-label=k=v` labels a volume it creates (an existing one keeps its own).
      const labels = hc.Mounts?.find(
        (x) => x.Type === "volume" && x.Target && posix.normalize(x.Target) === m.Destination,
      )?.VolumeOptions?.Labels;
      const vol = m.Name
        ? (await volumes.create({ Name: m.Name, ...(labels ? { Labels: labels } : {}) })).volume
        : await volumes.createAnonymous();
      m.Name = vol.Name;
      m.Source = vol.Mountpoint;
      volumes.use(vol.Name, id);
    }
    return mounts;
  }

  /** Drops a container's claim on its volumes, removing its anonymous ones when asked. */
  async releaseVolumes(id: string, opts: { removeAnonymous: boolean; mounts: StoredMount[] }): Promise<void> {
    const volumes = this.#volumes;
    for (const m of opts.mounts) {
      if (m.Type !== "volume" || !m.Name) continue;
      volumes.release(m.Name, id);
      if (opts.removeAnonymous && volumes.isAnonymous(m.Name))
        await volumes
          .remove(m.Name)
          .catch((e) => log("warn", "removing anonymous volume failed", { name: m.Name, err: e }));
    }
  }

  /** Host paths and options of a container's volumes, binds and tmpfs mounts, ready for the spec. */
  async runMounts(c: Container, rootfs: string): Promise<RunMount[]> {
    const out: RunMount[] = [];
    for (const m of c.record.MountPoints) {
      const propagation = (m.Propagation || "rprivate") as RunMount["propagation"];
      if (m.Type === "tmpfs") {
        out.push({
          source: "tmpfs",
          destination: m.Destination,
          type: "tmpfs",
          readonly: !m.RW,
          options: ["nosuid", "nodev", "noexec", ...(m.TmpfsOptions ?? [])],
        });
        continue;
      }
      let source = m.Source;
      if (m.Type === "volume" && m.Name) {
        source = await this.#volumes.mountpoint(m.Name, {
          container: c.id,
          destination: m.Destination,
          rw: m.RW,
          propagation: m.Propagation ?? "",
        });
        if (m.Subpath) source = await volumeSubpath(source, m.Subpath);
        if (m.CopyUp && (await isDirectory(source)))
          await copyUpIfEmpty({ rootfs, destination: m.Destination, volume: source });
      } else if (m.CreateHostPath)
        await prepareBindSource(m, { create: true, ...(this.idMap ? { owner: this.idMap.root } : {}) });
      out.push({ source, destination: m.Destination, readonly: !m.RW, propagation });
    }
    return out;
  }

  /** Mounts the container's overlay rootfs unless it is mounted; returns the merged dir. */
  async prepareRootfs(c: Container): Promise<string> {
    const dir = this.#r.dir(c.id);
    const rootfs = join(dir, "merged");
    await this.#unmounting.get(c.id);
    if (!this.#mounted.has(c.id)) {
      const [init] = await Promise.all([
        makeInitDir(join(dir, "init")),
        ...["upper", "work", "merged"].map((d) => mkdir(join(dir, d), { recursive: true })),
      ]);
      // The merged root takes the upper dir's owner: the remapped root must own it to be root in it.
      await this.#own([...["upper", "work", "merged"].map((d) => join(dir, d)), ...init]);
      await this.#rootfs.mountRootfs({
        imageId: c.record.Image,
        upperDir: join(dir, "upper"),
        workDir: join(dir, "work"),
        target: rootfs,
        initDir: join(dir, "init"),
      });
      this.#mounted.add(c.id);
    }
    return rootfs;
  }

  /** Unmounts the overlay rootfs; failures are logged, not thrown. */
  async unmountRootfs(c: Container): Promise<void> {
    if (!this.#mounted.has(c.id)) return this.#unmounting.get(c.id);
    this.#mounted.delete(c.id);
    const done: Promise<void> = this.#rootfs
      .unmountRootfs(join(this.#r.dir(c.id), "merged"))
      .catch((e) => log("warn", "unmount failed", { id: c.id, err: e }))
      .finally(() => {
        if (this.#unmounting.get(c.id) === done) this.#unmounting.delete(c.id);
      });
    this.#unmounting.set(c.id, done);
    return done;
  }

  /** Claims again the volumes of a container loaded at daemon start. */
  reclaimVolumes(c: Container): void {
    for (const m of c.record.MountPoints)
      if (m.Type === "volume" && m.Name && this.#volumes.has(m.Name)) this.#volumes.use(m.Name, c.id);
  }

  /** Lets device-backed volumes go once the run ends. */
  unmountVolumes(c: Container): void {
    for (const m of c.record.MountPoints)
      if (m.Type === "volume" && m.Name) this.#volumes.unmount(m.Name, c.id);
  }

  /**
   * Rewrites a running container's resolv.conf in place (the bind mount follows the file, not a new one) with
   * other nameservers: a container that joins a user network uses its embedded DNS from then on, as dockerd's.
   */
  async rewriteResolvConf(c: Container, nameservers: string[]): Promise<void> {
    const r = c.record;
    const hc = r.HostConfig;
    if (!r.ResolvConfPath) return;
    const text = await resolvConf({ dns: nameservers, dnsSearch: hc.DnsSearch, dnsOptions: hc.DnsOptions });
    await writeFile(r.ResolvConfPath, text);
    await this.#own([r.ResolvConfPath]);
  }

  /** Writes /etc/hostname, /etc/hosts and /etc/resolv.conf for a run and returns their bind mounts. */
  async writeEtcFiles(c: Container, net: NetworkSetup): Promise<{ source: string; destination: string }[]> {
    const r = c.record;
    const hc = r.HostConfig;
    if (net.hostname) r.Config.Hostname = net.hostname;
    // As dockerd: a container in another's network namespace uses that one's hosts, hostname and resolv.conf
    // (a pod's containers see the DNS config given to its sandbox).
    const joinedRef = hc.NetworkMode?.startsWith("container:")
      ? hc.NetworkMode.slice("container:".length)
      : "";
    const joined = joinedRef && this.#r.exists(joinedRef) ? this.#r.get(joinedRef).record : undefined;
    if (joined) {
      return [
        { source: joined.ResolvConfPath, destination: "/etc/resolv.conf" },
        { source: joined.HostnamePath, destination: "/etc/hostname" },
        { source: joined.HostsPath, destination: "/etc/hosts" },
      ];
    }
    const hostname = r.Config.Hostname ?? shortId(c.id);
    const base = net.host ? await readFile("/etc/hosts", "utf8").catch(() => "") : undefined;
    const extra = [...(hc.ExtraHosts ?? []), ...(net.extraHosts ?? [])];
    const dns = net.nameservers ?? hc.Dns;
    await Promise.all([
      writeFile(r.HostnamePath, `${hostname}\n`),
      writeFile(
        r.HostsPath,
        hostsFile({ hostname, domainname: r.Config.Domainname, ip: net.ip, ip6: net.ip6, extra, base }),
      ),
      resolvConf({ dns, dnsSearch: hc.DnsSearch, dnsOptions: hc.DnsOptions, keepLoopback: net.host }).then(
        (t) => writeFile(r.ResolvConfPath, t),
      ),
    ]);
    // Container root may rewrite them, as in Docker (the files are bind mounts of these).
    await this.#own([r.HostnamePath, r.HostsPath, r.ResolvConfPath]);
    return [
      { source: r.ResolvConfPath, destination: "/etc/resolv.conf" },
      { source: r.HostnamePath, destination: "/etc/hostname" },
      { source: r.HostsPath, destination: "/etc/hosts" },
    ];
  }
}

/**
 * Docker's init layer: /.dockerenv (tools detect containers by it), /etc/mtab -> /proc/mounts and the mount
 * points of the engine's /etc files, below the upper dir so that neither `docker diff` nor commit shows them.
 */
async function makeInitDir(init: string): Promise<string[]> {
  const dirs = ["", "etc", "proc", "sys", "dev", "dev/pts", "dev/shm"].map((d) => join(init, d));
  // At once rather than one after another (each is a thread-pool round trip on the start's path): the
  // leaves make their parents, and the files need only etc/.
  await Promise.all(
    ["etc", "proc", "sys", "dev/pts", "dev/shm"].map((d) => mkdir(join(init, d), { recursive: true })),
  );
  await Promise.all([
    writeFile(join(init, ".dockerenv"), "", { mode: 0o755 }),
    ...["hosts", "hostname", "resolv.conf"].map((f) => writeFile(join(init, "etc", f), "", { flag: "a" })),
    symlink("/proc/mounts", join(init, "etc/mtab")).catch((e: unknown) => {
      if (!isErrno(e, "EEXIST")) throw e;
    }),
  ]);
  // Everything made here, for a remapped root to own.
  return [
    ...dirs,
    join(init, ".dockerenv"),
    ...["hosts", "hostname", "resolv.conf", "mtab"].map((f) => join(init, "etc", f)),
  ];
}
