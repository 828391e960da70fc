/**
 * Pod networking through CNI plugins (the standard ones: bridge, host-local, portmap), run as libcni runs
 * them: the network list from the conf dir, each plugin with CNI_* variables and its config on stdin, ADD
 * in order with the previous result, DEL in reverse. Results are kept by the caller so DEL gets them back.
 */
import { constants } from "node:fs";
import { access, readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import type { Processes } from "../host/index.ts";
import { ensureDir, log, writeFileAtomic } from "../util/index.ts";

/** The daemon's CNI settings (`--cni-conf-dir`, `--cni-bin-dir`, and the default network's bridge and subnet). */
export interface CniOptions {
  confDir: string;
  binDirs: string[];
  /** Used only to write a default config when the conf dir has none. */
  bridge: string;
  subnet: string;
  /** host-local's allocation dir for the default config. */
  ipamDir: string;
}

/** A network list as loaded: its name, version and plugin configs. */
export interface NetworkList {
  name: string;
  cniVersion: string;
  plugins: Record<string, unknown>[];
}

/** A port mapping in the portMappings capability's shape. */
export interface CniPortMapping {
  hostPort: number;
  containerPort: number;
  protocol: string;
  hostIP?: string;
}

/** A CNI failure: the plugin's error code and message (CNI's error result), or the exec failure. */
export class CniError extends Error {}

/** The default network wharf writes when the conf dir holds none: a bridge with NAT, and portmap. */
export function defaultNetworkList(o: Pick<CniOptions, "bridge" | "subnet" | "ipamDir">): NetworkList {
  return {
    cniVersion: "1.0.0",
    name: "wharf-pods",
    plugins: [
      {
        type: "bridge",
        bridge: o.bridge,
        isGateway: true,
        ipMasq: true,
        hairpinMode: true,
        ipam: {
          type: "host-local",
          ranges: [[{ subnet: o.subnet }]],
          routes: [{ dst: "0.0.0.0/0" }],
          dataDir: o.ipamDir,
        },
      },
      { type: "portmap", capabilities: { portMappings: true } },
    ],
  };
}

/** The first network list of the conf dir by file name (as libcni sorts), writing the default if none. */
export async function loadNetworkList(o: CniOptions): Promise<NetworkList> {
  await ensureDir(o.confDir);
  const names = (await readdir(o.confDir)).filter((n) => /\.(conflist|conf|json)$/.test(n)).sort();
  for (const n of names) {
    try {
      const v = JSON.parse(await readFile(join(o.confDir, n), "utf8")) as Record<string, unknown>;
      if (Array.isArray(v.plugins)) {
        return {
          name: String(v.name ?? ""),
          cniVersion: String(v.cniVersion ?? "0.4.0"),
          plugins: v.plugins as Record<string, unknown>[],
        };
      }
      if (typeof v.type === "string")
        return { name: String(v.name ?? ""), cniVersion: String(v.cniVersion ?? "0.4.0"), plugins: [v] };
    } catch (e) {
      log("warn", "cni: skipping unreadable network config", { file: n, err: e });
    }
  }
  const list = defaultNetworkList(o);
  await writeFileAtomic(join(o.confDir, "10-wharf.conflist"), `${JSON.stringify(list, null, 2)}\n`);
  return list;
}

/** The first IPv4 address of a CNI result (the pod IP), without its prefix length. */
export function podIp(result: unknown): string {
  const ips = (result as { ips?: { address?: string; version?: string }[] } | undefined)?.ips ?? [];
  for (const ip of ips) {
    const addr = ip.address?.split("/")[0] ?? "";
    if (addr && !addr.includes(":")) return addr;
  }
  return ips[0]?.address?.split("/")[0] ?? "";
}

/** Runs the plugins of a network list. */
export class CniRunner {
  readonly #proc: Processes;
  readonly #opts: CniOptions;

  constructor(proc: Processes, opts: CniOptions) {
    this.#proc = proc;
    this.#opts = opts;
  }

  /** Whether a plugin binary of the network list is missing (NetworkReady false, with the reason). */
  async missingPlugin(): Promise<string | undefined> {
    const list = await loadNetworkList(this.#opts);
    for (const p of list.plugins) {
      const t = String(p.type ?? "");
      if (!(await this.#find(t))) return t;
    }
    return undefined;
  }

  async #find(type: string): Promise<string | undefined> {
    for (const d of this.#opts.binDirs) {
      const p = join(d, type);
      // Status asks every few seconds: a permission check, not a read of the binary.
      if (
        await access(p, constants.X_OK).then(
          () => true,
          () => false,
        )
      )
        return p;
    }
    return undefined;
  }

  async #invoke(
    command: "ADD" | "DEL",
    list: NetworkList,
    plugin: Record<string, unknown>,
    o: { id: string; netns: string; prevResult?: unknown; ports: CniPortMapping[] },
  ): Promise<unknown> {
    const type = String(plugin.type ?? "");
    const bin = await this.#find(type);
    if (!bin) throw new CniError(`failed to find plugin "${type}" in path [${this.#opts.binDirs.join(" ")}]`);
    const conf: Record<string, unknown> = { ...plugin, name: list.name, cniVersion: list.cniVersion };
    const caps = (plugin.capabilities ?? {}) as Record<string, boolean>;
    delete conf.capabilities;
    if (caps.portMappings && o.ports.length) conf.runtimeConfig = { portMappings: o.ports };
    if (o.prevResult !== undefined) conf.prevResult = o.prevResult;
    const env: Record<string, string> = {
      PATH: process.env.PATH ?? "/usr/sbin:/usr/bin:/sbin:/bin",
      CNI_COMMAND: command,
      CNI_CONTAINERID: o.id,
      CNI_NETNS: o.netns,
      CNI_IFNAME: "eth0",
      CNI_PATH: this.#opts.binDirs.join(":"),
    };
    try {
      const out = await this.#proc.run(bin, [], { input: JSON.stringify(conf), env });
      return out.trim() ? JSON.parse(out) : undefined;
    } catch (e) {
      const stdout = (e as { stdout?: string }).stdout ?? "";
      let msg = (e as Error).message;
      try {
        const r = JSON.parse(stdout) as { msg?: string; details?: string };
        if (r.msg) msg = r.details ? `${r.msg}: ${r.details}` : r.msg;
      } catch {}
      throw new CniError(
        `plugin type="${type}" name="${list.name}" failed (${command.toLowerCase()}): ${msg}`,
      );
    }
  }

  /** CNI ADD of the pod's namespace to the network list: the result (the last plugin's), for status and DEL. */
  async add(o: {
    id: string;
    netns: string;
    ports: CniPortMapping[];
  }): Promise<{ network: string; result: unknown }> {
    const list = await loadNetworkList(this.#opts);
    let prev: unknown;
    for (const p of list.plugins) prev = await this.#invoke("ADD", list, p, { ...o, prevResult: prev });
    return { network: list.name, result: prev };
  }

  /** CNI DEL, plugins in reverse; an error of one plugin does not keep the others from cleaning up. */
  async del(o: { id: string; netns: string; ports: CniPortMapping[]; result?: unknown }): Promise<void> {
    const list = await loadNetworkList(this.#opts);
    let first: unknown;
    for (const p of [...list.plugins].reverse()) {
      try {
        await this.#invoke("DEL", list, p, { ...o, prevResult: o.result });
      } catch (e) {
        first ??= e;
      }
    }
    if (first) throw first;
  }
}
