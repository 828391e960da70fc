// Docker Engine API v1.47 wire shapes: volumes. Field names are Docker's (swagger v1.47, moby's api/types).
// Types only: no runtime code, no imports of other wharf folders, so api/, client/ and services share them.

/** A volume as `GET /volumes/{name}` shows it. */
export interface Volume {
  Name: string;
  Driver: string;
  Mountpoint: string;
  CreatedAt: string;
  Labels: Record<string, string>;
  Scope: "local" | "global";
  Options: Record<string, string>;
  Status?: Record<string, unknown>;
  UsageData?: { Size: number; RefCount: number } | null;
}

/** `POST /volumes/create` body. */
export interface VolumeCreateRequest {
  Name?: string;
  Driver?: string;
  DriverOpts?: Record<string, string>;
  Labels?: Record<string, string>;
}

/** `GET /volumes`. */
export interface VolumeListResponse {
  Volumes: Volume[] | null;
  Warnings: string[] | null;
}

/** `POST /volumes/prune`. */
export interface VolumePruneResponse {
  VolumesDeleted: string[] | null;
  SpaceReclaimed: number;
}
