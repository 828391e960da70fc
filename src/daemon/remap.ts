/**
 * `--userns-remap` at start-up, as dockerd's setupRemappedRoot and setupDaemonRoot do it: the named user's
 * subordinate ranges become every container's user namespace, and the daemon keeps a store of its own
 * under `<data-root>/<uid>.<gid>/` whose layers, volumes and container files belong to the remapped root.
 */
import { statSync } from "node:fs";
import { chmod, chown, mkdir } from "node:fs/promises";
import { dirname, join } from "node:path";
import { RemapError, realHost, resolveRemapUser, SYSTEM_ACCOUNTS } from "../host/index.ts";
import { IdMap, type IdPair, log } from "../util/index.ts";

/** A daemon's remapping, once set up. */
export interface Remap {
  idMap: IdMap;
  /** The remapped root's store: the data root the rest of the daemon uses. */
  dataRoot: string;
  user: string;
}

/** The remap spec from the flag or the config file; both is dockerd's error. */
export function remapSpec(flag: string | undefined, file: string | undefined): string | undefined {
  if (flag !== undefined && file !== undefined)
    throw new RemapError(
      `the following directives are specified both as a flag and in the configuration file: userns-remap: (from flag: ${flag}, from file: ${file})`,
    );
  const spec = flag ?? file;
  return spec === "" ? undefined : spec;
}

/** dockerd's rough check that `who` may search `dir`: world x, or owner/group x for its uid/gid. */
function canSearch(dir: string, who: IdPair): boolean {
  let st: ReturnType<typeof statSync>;
  try {
    st = statSync(dir);
  } catch {
    return false;
  }
  const mode = Number(st.mode);
  if (mode & 0o001) return true;
  if (Number(st.uid) === who.uid && mode & 0o100) return true;
  return Number(st.gid) === who.gid && (mode & 0o010) !== 0;
}

/**
 * Resolves the remap user (creating dockremap for "default"), and makes `<dataRoot>/<uid>.<gid>` (0710,
 * root and the remapped root's group, as dockerd) after checking the remapped root can reach it.
 * Undefined when remapping is off: no spec, or root (dockerd's no-op warning).
 */
export async function setupRemap(spec: string | undefined, dataRoot: string): Promise<Remap | undefined> {
  if (spec === undefined) return undefined;
  const processes = realHost().processes;
  const user = await resolveRemapUser(spec, { ...SYSTEM_ACCOUNTS, run: (f, a) => processes.run(f, a) });
  if (!user) {
    log("warn", "User namespaces: root cannot be remapped with itself; user namespaces are OFF");
    return undefined;
  }
  log("info", `User namespaces: ID ranges will be mapped to subuid/subgid ranges of: ${user.user}`);
  const idMap = IdMap.fromSubids(user.uidRanges, user.gidRanges);
  const root = idMap.root;
  const remapped = join(dataRoot, `${root.uid}.${root.gid}`);
  await mkdir(dataRoot, { recursive: true, mode: 0o711 });
  await chmod(dataRoot, 0o711);
  await mkdir(remapped, { recursive: true, mode: 0o710 });
  await chown(remapped, 0, root.gid);
  await chmod(remapped, 0o710);
  // A directory on the way that the remapped root may not search makes every container start fail later.
  for (let dir = dirname(remapped); dir !== "/"; dir = dirname(dir)) {
    if (!canSearch(dir, root))
      throw new RemapError(
        `a subdirectory in your graphroot path (${remapped}) restricts access to the remapped root uid/gid; please fix by allowing 'o+x' permissions on existing directories`,
      );
  }
  return { idMap, dataRoot: remapped, user: `${user.user}:${user.group}` };
}
