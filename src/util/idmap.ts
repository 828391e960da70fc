/**
 * A user namespace's id mapping (`--userns-remap`): container ids from 0 onto the host's subordinate
 * ranges, in the shape OCI's uidMappings/gidMappings take. Everything the daemon writes for a remapped
 * container goes through toHost; everything it shows of one (export, cp out, commit) through toContainer.
 */

/** One contiguous piece of a mapping, as OCI's `linux.uidMappings` entries. */
export interface IdRange {
  containerID: number;
  hostID: number;
  size: number;
}

/** A uid and a gid. */
export interface IdPair {
  uid: number;
  gid: number;
}

/** The kernel's overflow id: what a process in the namespace sees for a host id the map does not hold. */
const OVERFLOW_ID = 65534;

function toHostId(ranges: readonly IdRange[], id: number, kind: string): number {
  for (const r of ranges)
    if (id >= r.containerID && id < r.containerID + r.size) return r.hostID + id - r.containerID;
  throw new Error(`Container ${kind} ${id} cannot be mapped to a host ID`);
}

function toContainerId(ranges: readonly IdRange[], id: number): number | undefined {
  for (const r of ranges) if (id >= r.hostID && id < r.hostID + r.size) return r.containerID + id - r.hostID;
  return undefined;
}

/** Both halves of a remapping, with conversions either way. */
export class IdMap {
  readonly uids: readonly IdRange[];
  readonly gids: readonly IdRange[];

  constructor(uids: readonly IdRange[], gids: readonly IdRange[]) {
    if (!uids.length || !gids.length)
      throw new Error("an id mapping needs at least one uid and one gid range");
    this.uids = uids;
    this.gids = gids;
  }

  /** Subordinate ranges (file order) stacked from container id 0 up, as dockerd's idtools builds them. */
  static fromSubids(
    uidRanges: readonly { start: number; count: number }[],
    gidRanges: readonly { start: number; count: number }[],
  ): IdMap {
    const stack = (rs: readonly { start: number; count: number }[]): IdRange[] => {
      let next = 0;
      return rs.map((r) => {
        const out = { containerID: next, hostID: r.start, size: r.count };
        next += r.count;
        return out;
      });
    };
    return new IdMap(stack(uidRanges), stack(gidRanges));
  }

  /** The host ids of container root. */
  get root(): IdPair {
    return this.toHost({ uid: 0, gid: 0 });
  }

  /** A container's ids as the host stores them; throws for ids the namespace cannot hold (as dockerd). */
  toHost(p: IdPair): IdPair {
    return { uid: toHostId(this.uids, p.uid, "ID"), gid: toHostId(this.gids, p.gid, "ID") };
  }

  /** Host ids as the container sees them; ids outside the map show as the overflow id, as the kernel shows them. */
  toContainer(p: IdPair): IdPair {
    return {
      uid: toContainerId(this.uids, p.uid) ?? OVERFLOW_ID,
      gid: toContainerId(this.gids, p.gid) ?? OVERFLOW_ID,
    };
  }

  /** Whether a host uid/gid pair lies inside the map (a file already written with host ids). */
  holdsHost(p: IdPair): boolean {
    return toContainerId(this.uids, p.uid) !== undefined && toContainerId(this.gids, p.gid) !== undefined;
  }
}
