import type { ContainerConfig, ContainerState, HostConfig } from "../apitypes/index.ts";
import type { StoredMount } from "./mounts.ts";

/** What never changes after create: persisted as `container.json`. */
export interface ContainerRecord {
  Id: string;
  /** With its leading slash, as Docker stores it. Renames rewrite the record. */
  Name: string;
  Created: string;
  Path: string;
  Args: string[];
  /** The config after merging the image's defaults. */
  Config: ContainerConfig;
  HostConfig: HostConfig;
  /** Image ID, "sha256:<hex>". */
  Image: string;
  LogPath: string;
  HostnamePath: string;
  HostsPath: string;
  ResolvConfPath: string;
  /** Volumes, binds and tmpfs mounts, in the order they are mounted. */
  MountPoints: StoredMount[];
}

/** What changes as the container runs: persisted as `state.json` on every transition. */
export interface ContainerStateDoc {
  State: ContainerState;
  RestartCount: number;
  /** Whether the container was ever started (Docker's HasBeenStartedBefore). */
  HasBeenStarted: boolean;
  /** Start time in ns of the latest run, for next-exit waits that raced the start. */
  StartedAtNs?: string;
  /** Stopped or killed through the API: restart policies leave it alone (Docker's HasBeenManuallyStopped). */
  ManuallyStopped?: boolean;
  /** The restart manager's last backoff delay. */
  RestartDelayMs?: number;
}
