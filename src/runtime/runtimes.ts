/**
 * The OCI runtimes one daemon drives, by name (Docker's `runtimes`), and which one each container runs
 * under. Each runtime has its own state root under the exec root (runc's stays `runc/`, others
 * `runtimes/<name>/state/`) and its own global flags from the daemon's configuration; every call for a
 * container, by the daemon or by conmon, goes to that container's runtime with those flags.
 *
 * A container's runtime is chosen at create and recorded in its conmon persist dir (`runtime.json`), so
 * kill, delete and the rest find it again after a daemon restart.
 */
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { InvalidParameterError, isErrno } from "../errdefs/index.ts";
import type { Processes } from "../host/index.ts";
import type { OciSpec } from "../oci/index.ts";
import {
  execWrapperScript,
  netnsWrapperScript,
  probeRuntime,
  type RuntimeFlavor,
  writeWrapper,
} from "./gvisor.ts";
import { type OciRuntimeConfig, Runc } from "./runc.ts";

/** The runtime a container runs under, ready to call. */
export interface BoundRuntime {
  cli: Runc;
  flavor: RuntimeFlavor;
  /** runc itself (its `--version` says so): its exec fifo may be read in place of `runc start` (execfifo.ts). */
  isRunc: boolean;
  /** The program create and start go through instead of the runtime itself (gVisor's netns wrapper). */
  via?: string;
  /** The program conmon runs for exec sessions instead of the runtime itself (gVisor's exec wrapper). */
  execVia?: string;
}

interface Recorded {
  name: string;
  hideNet?: boolean;
}

/** The name of the runtime that is always there. */
export const STOCK_RUNTIME = "runc";

/** The configured runtimes and the container → runtime binding. */
export class RuntimeSet {
  readonly defaultName: string;
  readonly #clis = new Map<string, Runc>();
  readonly #kinds = new Map<string, Promise<{ flavor: RuntimeFlavor; runc: boolean }>>();
  readonly #wrappers = new Map<string, Promise<string>>();
  readonly #bound = new Map<string, BoundRuntime>();
  readonly #execRoot: string;
  readonly #ctrDir: string;
  readonly #processes: Processes;

  constructor(o: {
    execRoot: string;
    /** conmon's persist dirs (`<exec root>/containers`), where each container's choice is recorded. */
    ctrDir: string;
    runtimes: Record<string, OciRuntimeConfig>;
    defaultName: string;
    processes: Processes;
  }) {
    this.#execRoot = o.execRoot;
    this.#ctrDir = o.ctrDir;
    this.#processes = o.processes;
    for (const [name, rc] of Object.entries(o.runtimes)) {
      const root =
        name === STOCK_RUNTIME ? join(o.execRoot, "runc") : join(o.execRoot, "runtimes", name, "state");
      this.#clis.set(
        name,
        new Runc({ name, path: rc.path, root, runtimeArgs: rc.runtimeArgs ?? [] }, o.processes),
      );
    }
    if (!this.#clis.has(o.defaultName))
      throw new InvalidParameterError(`specified default runtime '${o.defaultName}' does not exist`);
    this.defaultName = o.defaultName;
  }

  /** Every runtime's state root, to create at start-up. */
  roots(): string[] {
    return [...this.#clis.values()].map((c) => c.root);
  }

  /** The runtime called `name`; InvalidParameter with dockerd's text when there is none. */
  get(name: string): Runc {
    const cli = this.#clis.get(name);
    if (!cli) throw new InvalidParameterError(`unknown or invalid runtime name: ${name}`);
    return cli;
  }

  /**
   * Binds container `id` to runtime `name` (the default when absent) for a new run and records it in
   * the container's persist dir `dir`: create and start of a gVisor container with a network namespace
   * of its own go through the netns wrapper.
   */
  async bind(
    id: string,
    dir: string,
    o: { name?: string; spec: OciSpec | Promise<OciSpec> },
  ): Promise<BoundRuntime> {
    const cli = this.get(o.name || this.defaultName);
    const kind = await this.#kind(cli);
    // Only runsc's wrapper depends on the spec: for runc, conmon can start before the spec is made.
    const ownNetns =
      kind.flavor === "gvisor" && (await o.spec).linux.namespaces?.some((n) => n.type === "network") === true;
    const hideNet = kind.flavor === "gvisor" && ownNetns;
    const bound = await this.#withWrappers(cli, kind, hideNet);
    this.#bound.set(id, bound);
    const rec: Recorded = { name: cli.name, ...(hideNet ? { hideNet } : {}) };
    await writeFile(join(dir, "runtime.json"), JSON.stringify(rec));
    return bound;
  }

  /** The runtime container `id` runs under: as bound, as recorded (after a daemon restart), or the stock one. */
  async of(id: string): Promise<BoundRuntime> {
    const known = this.#bound.get(id);
    if (known) return known;
    let rec: Recorded = { name: STOCK_RUNTIME };
    try {
      rec = JSON.parse(await readFile(join(this.#ctrDir, id, "runtime.json"), "utf8")) as Recorded;
    } catch (e) {
      if (!isErrno(e, "ENOENT")) throw e;
    }
    const cli = this.#clis.get(rec.name) ?? this.get(STOCK_RUNTIME);
    const bound = await this.#withWrappers(cli, await this.#kind(cli), rec.hideNet === true);
    this.#bound.set(id, bound);
    return bound;
  }

  /** Forgets container `id`'s binding (its run is deleted). */
  forget(id: string): void {
    this.#bound.delete(id);
  }

  #kind(cli: Runc): Promise<{ flavor: RuntimeFlavor; runc: boolean }> {
    let f = this.#kinds.get(cli.name);
    if (!f) {
      f = probeRuntime(cli.path, { processes: this.#processes });
      this.#kinds.set(cli.name, f);
    }
    return f;
  }

  async #withWrappers(
    cli: Runc,
    kind: { flavor: RuntimeFlavor; runc: boolean },
    hideNet: boolean,
  ): Promise<BoundRuntime> {
    const { flavor } = kind;
    if (flavor !== "gvisor") return { cli, flavor, isRunc: kind.runc };
    const [via, execVia] = await Promise.all([
      hideNet ? this.#wrapper(cli, "netns-wrapper", netnsWrapperScript) : undefined,
      this.#wrapper(cli, "exec-wrapper", execWrapperScript),
    ]);
    return { cli, flavor, isRunc: false, execVia, ...(via ? { via } : {}) };
  }

  #wrapper(cli: Runc, name: string, script: (path: string) => string): Promise<string> {
    const key = `${cli.name}/${name}`;
    let w = this.#wrappers.get(key);
    if (!w) {
      w = writeWrapper(join(this.#execRoot, "runtimes", cli.name, name), script(cli.path));
      this.#wrappers.set(key, w);
    }
    return w;
  }
}
