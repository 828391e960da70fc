/**
 * What a pod sandbox has beyond its wharf container: the config kubelet sent and its CNI attachment. One
 * JSON file a pod under `<data-root>/cri/sandboxes/`, written atomically, so a restarted daemon still knows
 * the pod IP and can run CNI DEL with the result ADD gave.
 */
import { readdir, readFile, rm } from "node:fs/promises";
import { join } from "node:path";
import { ensureDir, log, writeJsonAtomic } from "../util/index.ts";
import type { CniPortMapping } from "./cni.ts";
import type { PodSandboxConfig } from "./types.ts";

/** A pod's CNI attachment, while it lasts. */
export interface SandboxNetwork {
  network: string;
  netns: string;
  ip: string;
  ports: CniPortMapping[];
  result: unknown;
}

/** The stored state of one sandbox. */
export interface SandboxRecord {
  id: string;
  config: PodSandboxConfig;
  hostNetwork: boolean;
  runtimeHandler: string;
  /** Present from CNI ADD until CNI DEL. */
  network?: SandboxNetwork;
  /** The pod IP as last reported: kept after stop, as containerd reports it until removal. */
  ip: string;
}

/** The sandbox records, in memory and on disk. */
export class SandboxStore {
  readonly #dir: string;
  readonly #tmp: string;
  readonly #records = new Map<string, SandboxRecord>();

  constructor(stateDir: string, tmpDir: string) {
    this.#dir = join(stateDir, "sandboxes");
    this.#tmp = tmpDir;
  }

  /** Loads every record; broken files are skipped with a warning. */
  async init(): Promise<void> {
    await ensureDir(this.#dir);
    for (const f of await readdir(this.#dir)) {
      if (!f.endsWith(".json")) continue;
      try {
        const r = JSON.parse(await readFile(join(this.#dir, f), "utf8")) as SandboxRecord;
        this.#records.set(r.id, r);
      } catch (e) {
        log("warn", "cri: skipping unreadable sandbox record", { file: f, err: e });
      }
    }
  }

  get(id: string): SandboxRecord | undefined {
    return this.#records.get(id);
  }

  all(): SandboxRecord[] {
    return [...this.#records.values()];
  }

  async put(r: SandboxRecord): Promise<void> {
    await writeJsonAtomic(join(this.#dir, `${r.id}.json`), r, { tmpDir: this.#tmp });
    this.#records.set(r.id, r);
  }

  async delete(id: string): Promise<void> {
    await rm(join(this.#dir, `${id}.json`), { force: true });
    this.#records.delete(id);
  }
}
