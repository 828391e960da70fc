import type { ImageDeleteResponseItem } from "../apitypes/index.ts";
import { ConflictError } from "../errdefs/index.ts";
import { shortId } from "../util/index.ts";
import type { ImageRecord } from "./records.ts";
import { familiarString, parseNamed, type Reference, withDefaultTag } from "./reference.ts";
import type { ImageUse } from "./types.ts";

/** What the delete algorithm needs from the image service. */
export interface RemoveHost {
  /** The image a user-given name or ID designates (NotFoundError otherwise). */
  find(nameOrId: string): ImageRecord;
  refsOf(id: string): Reference[];
  deleteRefs(refs: Reference[]): Promise<Reference[]>;
  /** IDs of images whose parent is `id`. */
  children(id: string): string[];
  /** Deletes the image (a ghost if a container still holds it); returns the chain IDs of layers deleted. */
  deleteImage(id: string): Promise<string[]>;
  emit(action: "untag" | "delete", id: string): void;
}

// Docker's conflict classes (daemon/images/image_delete.go): hard ones can never be forced.
const DEPENDENT_CHILD = 1;
const ACTIVE_REFERENCE = 2;
const STOPPED_CONTAINER = 4;
const RUNNING_CONTAINER = 8;
const HARD = DEPENDENT_CHILD | RUNNING_CONTAINER;
const SOFT = ACTIVE_REFERENCE | STOPPED_CONTAINER;

interface Conflict {
  hard: boolean;
  used: boolean;
  message: string;
}

function conflictError(id: string, c: Conflict): ConflictError {
  return new ConflictError(
    `conflict: unable to delete ${shortId(id)} (${c.hard ? "cannot be forced" : "must be forced"}) - ${c.message}`,
  );
}

/** True when `prefix` could only name the image by its ID (Docker's isImageIDPrefix). */
function isIdPrefix(id: string, prefix: string): boolean {
  return id.startsWith(prefix) || id.slice(7).startsWith(prefix);
}

/**
 * One tag (or repository name) in a single repository, plus perhaps digests of that same repository: the
 * state in which removing "the" reference leaves the image nameless.
 */
function isSingleReference(refs: Reference[]): boolean {
  if (refs.length <= 1) return refs.length === 1;
  let single: Reference | undefined;
  const canonical = new Set<string>();
  for (const r of refs) {
    if (r.digest) canonical.add(`${r.domain}/${r.path}`);
    else if (!single) single = r;
    else return false;
  }
  single ??= refs[0];
  return canonical.size === 1 && canonical.has(`${single.domain}/${single.path}`);
}

/** `DELETE /images/{name}` with Docker's untag/delete semantics and conflict messages. */
export async function removeImage(
  host: RemoveHost,
  nameOrId: string,
  opts: { force?: boolean; noprune?: boolean; inUse?: ImageUse },
): Promise<ImageDeleteResponseItem[]> {
  const force = !!opts.force;
  const inUse: ImageUse = opts.inUse ?? (() => undefined);
  const rec = host.find(nameOrId);
  const id = rec.id;
  const out: ImageDeleteResponseItem[] = [];

  const untag = async (refs: Reference[]) => {
    for (const r of await host.deleteRefs(refs)) {
      out.push({ Untagged: familiarString(r) });
      host.emit("untag", id);
    }
  };

  const check = (imgId: string, mask: number): Conflict | undefined => {
    if (mask & DEPENDENT_CHILD && host.children(imgId).length > 0) {
      return { hard: true, used: false, message: "image has dependent child images" };
    }
    const use = inUse(imgId);
    if (mask & RUNNING_CONTAINER && use?.running) {
      return {
        hard: true,
        used: true,
        message: `image is being used by running container ${shortId(use.containerId)}`,
      };
    }
    if (mask & ACTIVE_REFERENCE && host.refsOf(imgId).length > 0) {
      return { hard: false, used: false, message: "image is referenced in multiple repositories" };
    }
    if (mask & STOPPED_CONTAINER && use && !use.running) {
      return {
        hard: false,
        used: true,
        message: `image is being used by stopped container ${shortId(use.containerId)}`,
      };
    }
    return undefined;
  };

  const deleteHelper = async (imgId: string, forced: boolean, prune: boolean, quiet: boolean) => {
    const conflict = check(imgId, HARD | (forced ? 0 : SOFT));
    if (conflict) {
      // Docker's imageIsDangling: no name and no child (an image a child stands on is not dangling).
      const dangling = host.refsOf(imgId).length === 0 && host.children(imgId).length === 0;
      // After an untag the image itself staying is normal; only say why when it is now dangling or in use.
      if (quiet && (!dangling || conflict.used)) return;
      throw conflictError(imgId, conflict);
    }
    const parent = host.find(imgId).parent;
    await untag(host.refsOf(imgId));
    const layers = await host.deleteImage(imgId);
    host.emit("delete", imgId);
    out.push({ Deleted: imgId });
    for (const l of layers) out.push({ Deleted: l });
    if (prune && parent) {
      try {
        host.find(parent);
      } catch {
        return;
      }
      await deleteHelper(parent, false, true, true);
    }
  };

  let removedRepositoryRef = false;
  let refs = host.refsOf(id);
  if (!isIdPrefix(id, nameOrId)) {
    if (!force && isSingleReference(refs)) {
      const use = inUse(id);
      if (use) {
        throw new ConflictError(
          `conflict: unable to remove repository reference "${nameOrId}" (must force) - container ${shortId(use.containerId)} is using its referenced image ${shortId(id)}`,
        );
      }
    }
    const named = withDefaultTag(parseNamed(nameOrId));
    // A tag and a digest together name the digest.
    const ref: Reference = named.digest
      ? { domain: named.domain, path: named.path, digest: named.digest }
      : named;
    await untag([ref]);
    refs = host.refsOf(id);
    if (!ref.digest) {
      const sameRepo = (r: Reference) => r.domain === ref.domain && r.path === ref.path;
      // With the last tag of a repository gone, its digest references go too (Docker does the same).
      if (!refs.some((r) => !r.digest && sameRepo(r))) {
        await untag(refs.filter((r) => r.digest && sameRepo(r)));
        refs = host.refsOf(id);
      }
    }
    if (refs.length > 0) return out;
    removedRepositoryRef = true;
  } else if (isSingleReference(refs)) {
    const conflict = check(id, HARD | (force ? 0 : SOFT & ~ACTIVE_REFERENCE));
    if (conflict) throw conflictError(id, conflict);
    await untag(refs);
  }
  await deleteHelper(id, force, !opts.noprune, removedRepositoryRef);
  return out;
}
